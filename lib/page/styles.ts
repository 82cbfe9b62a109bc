import type { SiteAdapter } from '../adapters/types';

/** Veil's page styles: prefixed classes only, so the host chat's layout is left alone. */
export const VEIL_CSS = `
.veil-plain, [data-veil-shown] { white-space: pre-wrap !important; overflow-wrap: anywhere; }
.veil-file { display: block; margin-top: .25em; white-space: normal; }
.veil-file-preview { display: block; max-width: 240px; max-height: 180px; margin-bottom: .2em; }
.veil-file-note { font-size: .9em; }
.veil-segment + .veil-segment { display: block; margin-top: .25em; }
/*
 * A badge is one empty element; its words come from data-veil-label (a history shows thousands, and
 * a text node each would be thousands more nodes to lay out). inline-block, not a flex box.
 */
.veil-badge { position: relative; cursor: default; white-space: nowrap; }
.veil-badge::after { content: attr(data-veil-label); display: inline-block; margin-inline-start: .5em; padding: 0 .4em;
  border-radius: .6em; font: 600 11px/1.6 system-ui, "Noto Sans", "Noto Sans CJK SC", sans-serif; vertical-align: baseline;
  letter-spacing: normal; text-transform: none; font-style: normal; }
.veil-badge:focus-visible { outline: none; }
.veil-badge:focus-visible::after { outline: 2px solid currentColor; outline-offset: 1px; }
/* Keyboard users get the detail (key fingerprint, verified sender, time) that mouse users get on hover. */
.veil-badge:focus-visible::before { content: attr(title); position: absolute; z-index: 2147483000; inset-block-start: calc(100% + 4px);
  inset-inline-start: .5em; width: max-content; max-width: min(28em, 80vw); white-space: normal; padding: .35em .6em; border-radius: .4em;
  font: 400 12px/1.4 system-ui, "Noto Sans", "Noto Sans CJK SC", sans-serif; background: #1d232b; color: #fff; box-shadow: 0 2px 8px rgb(0 0 0 / .25); }
.veil-ok::after { background: #e6f4ea; color: #0d5b26; }
.veil-warn::after { background: #fff4d6; color: #6b4800; }
.veil-bad::after { background: #fde7e7; color: #8a1010; }
.veil-muted::after { background: #eceff3; color: #3c4450; }
.veil-continued { color: #5f6b7a; font-style: italic; }
/* The message the user opened from Veil's search. */
[data-veil-found] { outline: 2px solid #1a73e8; outline-offset: 2px; }
.veil-composer-status { font: 12px/1.5 system-ui, sans-serif; margin: .25em 0; padding: .2em .5em; border-radius: .4em;
  color: #0d5b26; background: #e6f4ea; }
.veil-composer-status[data-state="error"] { color: #8a1010; background: #fde7e7; font-weight: 600; }
.veil-composer-status[data-state="busy"], .veil-composer-status[data-state="starting"] { color: #3c4450; background: #eceff3; }
.veil-composer-action { font: 600 12px/1.4 system-ui, sans-serif; margin-inline-start: .5em; padding: .1em .6em; border-radius: .4em;
  border: 1px solid currentColor; background: transparent; color: inherit; cursor: pointer; }
.veil-composer-action:focus-visible { outline: 2px solid currentColor; outline-offset: 1px; }
@media (prefers-color-scheme: dark) {
  .veil-ok::after { background: #0f3d21; color: #b8f0c8; }
  .veil-warn::after { background: #4a3a00; color: #ffe49a; }
  .veil-bad::after { background: #5a1414; color: #ffd0d0; }
  .veil-muted::after { background: #2d333b; color: #cdd5df; }
  .veil-composer-status { background: #0f3d21; color: #b8f0c8; }
  .veil-composer-status[data-state="error"] { background: #5a1414; color: #ffd0d0; }
  .veil-composer-status[data-state="busy"], .veil-composer-status[data-state="starting"] { background: #2d333b; color: #cdd5df; }
  .veil-continued { color: #a9b3c0; }
  .veil-badge:focus-visible::before { background: #e8ecf1; color: #1d232b; }
}
`;

/**
 * Messages out of view are neither laid out nor painted until they scroll near it (where the adapter
 * allows it): a history of thousands then costs what is on screen. `auto` in the size hint makes the
 * browser remember each message's real height once it has been shown, so scrolling back does not jump.
 * Added at document_start, before the chat lays out its history with envelopes in it.
 */
/** Messages at the end of the list that are always laid out (more than a screenful). */
export const EAGER_NEWEST = 60;

export function injectLayoutHints(doc: Document, adapter: SiteAdapter): void {
  if (!adapter.lazyMessageLayout || doc.getElementById('veil-layout-hints')) return;
  const style = doc.createElement('style');
  style.id = 'veil-layout-hints';
  // Skipped messages count as an estimate: were the newest among them, a chat scrolling to its end
  // would stop short of it by what the estimate missed once they are painted.
  const older = adapter.selectors.message.map((s) => `${s}:not(:nth-last-child(-n+${EAGER_NEWEST}))`);
  style.textContent = `${older.join(',\n')} { content-visibility: auto; contain-intrinsic-size: auto 3em; }`;
  (doc.head ?? doc.documentElement).append(style);
}

/** Veil's own style element per document (found by reference: a page can plant one with its id). */
const ownStyles = new WeakMap<Document, HTMLStyleElement>();

/**
 * Adds Veil's stylesheet, or puts it back if the page removed it: a badge's words are drawn by it,
 * so without it the badges would be blank. Called again after every batch of page changes.
 */
export function injectStyles(doc: Document): void {
  if (ownStyles.get(doc)?.isConnected) return;
  const style = doc.createElement('style');
  style.id = 'veil-styles';
  style.textContent = VEIL_CSS;
  (doc.head ?? doc.documentElement).append(style);
  ownStyles.set(doc, style);
}
