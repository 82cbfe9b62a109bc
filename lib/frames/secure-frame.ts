/**
 * What both secure frames share (extension origin, inside a protected chat): waiting
 * for the capability token, showing the user's security indicator, taking the chat's look.
 *
 * A secure frame trusts nothing from the page around it. It listens to exactly one kind of
 * message from its parent window, the token hand-over, and only until a token works; the
 * background decides what the token grants. It never posts anything to the page.
 */
import { t } from '../i18n';
import { request } from '../messaging/client';
import type { SecureFrameGrant } from '../messaging/protocol';
import {
  cleanReaderLayout,
  isReaderHandOver,
  isTokenHandOver,
  MAX_READER_SLOTS,
  type FrameTheme,
  type ReaderHandOver,
  type ReaderLayout,
} from '../messaging/frame-types';
import type { SecurityIndicator } from '../messaging/indicator';

/** Tokens a page could throw at a frame it made itself: each costs a background round trip. */
const MAX_ATTEMPTS = 8;

export interface Granted {
  token: string;
  grant: SecureFrameGrant;
}

/**
 * Resolves with the grant of the first token that works. A frame the page created itself never
 * gets a working token, so it shows `onOrphan`'s text and nothing else.
 */
export function waitForGrant(win: Window, onOrphan: (text: string) => void): Promise<Granted> {
  return new Promise((resolve) => {
    let attempts = 0;
    const orphan = setTimeout(() => onOrphan(t('isoFrameOrphan')), 2_000);
    const onMessage = async (e: MessageEvent) => {
      // Only the window that embeds this frame hands over tokens; anything else is ignored.
      if (e.source !== win.parent || !isTokenHandOver(e.data) || attempts >= MAX_ATTEMPTS) return;
      attempts++;
      const token = e.data.veilFrameToken;
      const res = await request('secure/redeem', { token });
      if (!res.ok) return;
      win.removeEventListener('message', onMessage);
      clearTimeout(orphan);
      resolve({ token, grant: res });
    };
    win.addEventListener('message', onMessage);
  });
}

export interface ReaderGrants {
  /** Per message the frame shows: its token and grant, or undefined if its token did not work. */
  slots: (Granted | undefined)[];
  /** Where each message sits, when the frame shows several. */
  layout?: ReaderLayout;
  /** Later places, from the content script only (it sent the port with the tokens); set when the frame shows a range. */
  port?: MessagePort;
}

/**
 * A reader frame's `waitForGrant`: the hand-over carries a token per message it shows, and is
 * taken once any of them works (a message's token can have expired meanwhile: that one then says
 * so, the others show). Bounded by tokens tried: a page throwing lists of made-up tokens at the
 * frame gets about as far as one throwing single ones.
 */
export function waitForReaderGrants(win: Window, onOrphan: (text: string) => void): Promise<ReaderGrants> {
  return new Promise((resolve) => {
    let tried = 0;
    const orphan = setTimeout(() => onOrphan(t('isoFrameOrphan')), 2_000);
    let taken = false;
    const redeem = async (token: string): Promise<Granted | undefined> => {
      const res = await request('secure/redeem', { token }).catch(() => undefined);
      if (!res?.ok || !res.reader) return undefined;
      clearTimeout(orphan); // a working token: this frame is Veil's, however long the others take
      return { token, grant: res };
    };
    const onMessage = async (e: MessageEvent) => {
      const tokens = isReaderHandOver(e.data) ? e.data.veilReaderTokens : [];
      if (e.source !== win.parent || !tokens.length || tried >= MAX_ATTEMPTS + MAX_READER_SLOTS) return;
      tried += tokens.length;
      const slots = await Promise.all(tokens.map(redeem));
      if (taken || !slots.some(Boolean)) return;
      taken = true;
      win.removeEventListener('message', onMessage);
      const layout = cleanReaderLayout((e.data as ReaderHandOver).layout, slots.length);
      resolve({ slots, layout, port: e.ports[0] });
    };
    win.addEventListener('message', onMessage);
  });
}

/** The user's indicator as an element: text only, colours from the user's choice. */
export function indicatorElement(doc: Document, ind: SecurityIndicator, withPhrase: boolean): HTMLElement {
  const el = doc.createElement('span');
  el.className = 'veil-indicator';
  el.id = 'veil-indicator';
  // Inline styles: the same chip in the frames and on the options page, whatever their style sheets.
  Object.assign(el.style, {
    backgroundColor: ind.color,
    color: '#fff',
    borderRadius: '999px',
    padding: '0 .55em',
    whiteSpace: 'nowrap',
    font: '600 11px/1.7 system-ui, sans-serif',
    display: 'inline-block',
    userSelect: 'none',
  });
  el.textContent = withPhrase ? `${ind.symbol} ${ind.phrase}` : ind.symbol;
  el.title = t('isoIndicatorTitle', ind.symbol, ind.phrase);
  el.setAttribute('aria-label', el.title);
  return el;
}

/**
 * Applies the chat's look. Each value goes into one named property (never cssText or a style
 * sheet), and only colours, fonts and box sizes: nothing that could load a resource. `withFont`
 * false (readers): the page's font must not decide how a message wraps (see secure-reader.ts).
 */
export function applyTheme(el: HTMLElement, theme: FrameTheme, withBox: boolean, withFont = true): void {
  const set = (prop: string, v: string | undefined) => {
    if (v) el.style.setProperty(prop, v);
  };
  set('color', theme.color);
  set('background-color', theme.background);
  if (withFont) {
    set('font-family', theme.fontFamily);
    set('font-size', theme.fontSize);
    set('line-height', theme.lineHeight);
  }
  if (withBox) {
    set('border-radius', theme.borderRadius);
    set('border', theme.border);
    set('padding', theme.padding);
  }
}
