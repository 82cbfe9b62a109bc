/**
 * The content script's side of isolated mode: places the secure composer over the
 * chat's compose box and secure readers next to envelopes, answers the background's host
 * commands (put these envelopes into the chat and send them; size this reader), and guards the
 * frames. Handles envelopes, sizes and warnings only: no plaintext ever reaches this file.
 */
import browser from 'webextension-polyfill';
import { closestAny, queryFirst, type SiteAdapter } from '../../adapters/types';
import { t } from '../../i18n';
import type { HostCommand, HostCommandMap, HostEnvelope } from '../../messaging/protocol';
import type { ComposerStatus } from '../composer-status';
import type { SendGuard } from '../send-guard';
import { injectStyles } from '../styles';
import { createFrameElement, loadFrame, themeOf, type SecureFrame } from './frame-host';
import { FrameGuards } from './guards';
import { READER_CSS, SecureReaders } from './readers';

const READY_TIMEOUT_MS = 10_000;

/**
 * Frame guards are installed at document_start on every protected page (content-main.ts), before
 * Veil knows the mode: a page script must not get its capture listeners in ahead of them. They
 * stay inert unless isolated mode attaches them to its frames.
 */
let early: FrameGuards | undefined;

export function installEarlyGuards(win: Window): FrameGuards {
  const guards = new FrameGuards(win);
  guards.install();
  early = guards;
  return guards;
}

/** The page is not (or not yet) protected: typing held back while Veil asked goes where it was typed. */
export function standDownEarlyGuards(): void {
  early?.standDown();
}

/** Evaluated once when the content script loads (i18n is synchronous there). */
export const HOST_COMPOSER_BLOCKED = t('isoHostComposerBlocked');

function isHostEnvelope(m: unknown): m is HostEnvelope {
  const e = m as HostEnvelope;
  return !!e && e.veilHost === 1 && typeof e.type === 'string' && !!e.req && typeof e.req === 'object';
}

type Answer<K extends HostCommand> = HostCommandMap[K]['res'];
const refuse = (message: string) => ({ ok: false as const, error: { code: 'bad-request' as const, message } });

export class IsolatedPage {
  private composer?: SecureFrame;
  private hostComposer?: HTMLElement;
  private composerReady = false;
  private busy = false;
  private readers: SecureReaders;
  private guards: FrameGuards;
  private placeScheduled = false;
  private resizeObserver = new ResizeObserver(() => this.schedulePlace());
  /** The page restyling Veil's frame or an ancestor: put the frame back, and check it is still seen. */
  private styleObserver = new MutationObserver(() => this.schedulePlace());

  constructor(
    private readonly doc: Document,
    private readonly adapter: SiteAdapter,
    private readonly guard: SendGuard,
    private readonly status: ComposerStatus,
    opts: { flagUnencrypted: boolean; guards: FrameGuards },
  ) {
    this.readers = new SecureReaders(doc, adapter, opts.flagUnencrypted);
    this.guards = opts.guards;
    this.guards.attach({
      composer: () => this.composer,
      composerReady: () => this.composerReady,
      hostComposer: () => this.hostComposer,
      veilBusy: () => this.busy,
      warn: (text) => this.showStatus('error', text),
    });
  }

  start(): void {
    const win = this.doc.defaultView!;
    this.guard.isolate(this.adapter, HOST_COMPOSER_BLOCKED);
    injectStyles(this.doc);
    const style = this.doc.createElement('style');
    style.id = 'veil-isolated-styles';
    style.textContent = READER_CSS;
    (this.doc.head ?? this.doc.documentElement).append(style);
    browser.runtime.onMessage.addListener(this.onHostCommand);
    win.addEventListener('scroll', () => this.schedulePlace(), { capture: true, passive: true });
    win.addEventListener('resize', () => this.schedulePlace(), { passive: true });
    const observer = new MutationObserver((records) => {
      const dirty = new Set<Element>();
      for (const r of records) {
        const node = r.type === 'characterData' ? r.target.parentElement : r.target;
        if (node instanceof Element)
          this.readers.collect(node, r.type === 'childList' ? r.addedNodes : undefined, dirty);
      }
      for (const el of dirty) if (el.isConnected) this.readers.process(el);
      this.mountComposer();
      this.schedulePlace();
    });
    observer.observe(this.doc, { childList: true, subtree: true, characterData: true });
    const all = new Set<Element>();
    this.readers.collect(this.doc.documentElement, undefined, all);
    for (const el of all) this.readers.process(el);
    this.mountComposer();
  }

  private showStatus(state: 'ready' | 'busy' | 'error', text: string): void {
    if (this.hostComposer) this.status.attach(this.hostComposer);
    this.status.show(state, text);
  }

  /** Puts the secure composer over the chat's compose box (again, if the chat re-rendered it). */
  private mountComposer(): void {
    const el = queryFirst<HTMLElement>(this.doc, this.adapter.selectors.composer);
    if (!el || (el === this.hostComposer && this.composer?.host.isConnected)) return;
    if (this.hostComposer) this.resizeObserver.unobserve(this.hostComposer);
    this.composer?.host.remove();
    this.hostComposer = el;
    this.composerReady = false;
    const f = createFrameElement(this.doc, 'composer');
    this.doc.documentElement.append(f.host);
    this.composer = f;
    this.resizeObserver.observe(el);
    if (this.doc.body) this.resizeObserver.observe(this.doc.body);
    this.styleObserver.disconnect();
    for (const n of [f.host, this.doc.documentElement, this.doc.body])
      if (n) this.styleObserver.observe(n, { attributes: true, attributeFilter: ['style', 'class', 'hidden'] });
    this.place();
    this.guards.watchComposer(f);
    this.showStatus('busy', t('isoComposerOpening'));
    void loadFrame(f, themeOf(el, true)).then((ok) => {
      if (!ok) this.showStatus('error', t('isoComposerOpenFailed'));
    });
    setTimeout(() => {
      if (this.composer === f && !this.composerReady) {
        this.showStatus('error', t('isoComposerNoStart'));
      }
    }, READY_TIMEOUT_MS);
  }

  /**
   * The user pressed Tab in the secure composer: move focus to the page's next (or previous)
   * focusable element after the chat's compose box, as Tab would have. Done here, flagged as Veil's
   * own move, so the focus-theft check does not take it for the page pulling focus away.
   */
  private tabOut(back: boolean): void {
    const all = [
      ...this.doc.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]'),
    ].filter(
      (e) =>
        e.tabIndex >= 0 &&
        !(e as HTMLButtonElement).disabled &&
        e.getClientRects().length > 0 &&
        !closestAny(e, this.adapter.selectors.composer),
    );
    const anchor = this.hostComposer;
    if (!anchor) return;
    const after = all.filter((e) => anchor.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING);
    const before = all.filter((e) => anchor.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_PRECEDING);
    const next = back ? before.at(-1) : after[0];
    this.busy = true;
    try {
      next?.focus();
    } finally {
      this.busy = false;
    }
  }

  private schedulePlace(): void {
    if (this.placeScheduled) return;
    this.placeScheduled = true;
    requestAnimationFrame(() => {
      this.placeScheduled = false;
      this.place();
    });
  }

  private place(): void {
    const f = this.composer;
    const el = this.hostComposer;
    if (!f || !el) return;
    const r = el.getBoundingClientRect();
    // Fixed over the compose box, above everything the page draws. Inline !important: no style
    // sheet of the page can move, shrink or hide the frame itself (ancestors are checked instead).
    const box: Record<string, string> = {
      position: 'fixed',
      'z-index': '2147483647',
      display: r.width > 0 && r.height > 0 && el.isConnected ? 'block' : 'none',
      left: `${r.left}px`,
      top: `${r.top}px`,
      width: `${r.width}px`,
      height: `${r.height}px`,
      margin: '0',
      transform: 'none',
      opacity: '1',
      visibility: 'visible',
      'clip-path': 'none',
      filter: 'none',
    };
    const s = f.host.style;
    this.styleObserver.takeRecords();
    for (const [k, v] of Object.entries(box))
      if (s.getPropertyValue(k) !== v || s.getPropertyPriority(k) !== 'important') s.setProperty(k, v, 'important');
    this.styleObserver.takeRecords(); // Veil's own writes are not the page's
    if (this.composerReady && box.display === 'block') this.guards.checkVisible();
  }

  private onHostCommand = (
    message: unknown,
    sender: { id?: string; tab?: unknown; url?: string },
  ): Promise<unknown> | undefined => {
    // Only the background talks to this side: it has no tab; a frame or page never reaches here.
    if (sender.id !== browser.runtime.id || sender.tab || !isHostEnvelope(message)) return undefined;
    return this.command(message).catch((e) => refuse(String((e as Error)?.message ?? e)));
  };

  private async command(m: HostEnvelope): Promise<Answer<HostCommand>> {
    switch (m.type) {
      case 'host/compose-context': {
        const req = m.req as HostCommandMap['host/compose-context']['req'];
        if (req.handle !== this.composer?.handle) return refuse("not this page's composer");
        const conversationId = this.adapter.conversationId(this.doc);
        const senderId = this.adapter.currentUser(this.doc);
        if (!conversationId || !senderId) return refuse(t('composerNoContext'));
        return {
          ok: true,
          conversationId,
          senderId,
          allowChunks: this.adapter.allowChunks,
          maxChars: this.adapter.pageMaxMessageChars?.(this.doc) ?? this.adapter.maxMessageChars,
        };
      }
      case 'host/put-envelopes': {
        const req = m.req as HostCommandMap['host/put-envelopes']['req'];
        if (req.handle !== this.composer?.handle) return refuse("not this page's composer");
        if (!Array.isArray(req.envelopes) || !req.envelopes.every((e) => typeof e === 'string'))
          return refuse('bad envelopes');
        this.busy = true;
        this.showStatus('busy', t('isoSendingEncrypted'));
        let error: string | undefined;
        try {
          error = await this.guard.sendEnvelopes(this.adapter, req.envelopes);
        } finally {
          this.busy = false;
          this.guards.refocus();
        }
        if (error) {
          this.showStatus('error', error);
          return refuse(error);
        }
        this.showStatus('ready', t('isoSentFromComposer'));
        return { ok: true };
      }
      case 'host/frame-size': {
        const req = m.req as HostCommandMap['host/frame-size']['req'];
        return this.readers.resize(req.handle, req.height) ? { ok: true } : refuse('unknown frame');
      }
      case 'host/frame-event': {
        const req = m.req as HostCommandMap['host/frame-event']['req'];
        if (req.handle !== this.composer?.handle) return { ok: true };
        if (req.event === 'ready') {
          this.composerReady = true;
          this.showStatus('ready', t('isoReady'));
          // The user was already typing into the chat's box (focused at load): carry on in Veil's.
          const active = this.doc.activeElement;
          if (this.guards.typing.holding() || (active && this.hostComposer?.contains(active))) this.guards.redirect();
          return { ok: true };
        }
        if (req.event === 'tab' || req.event === 'shift-tab') {
          this.tabOut(req.event === 'shift-tab');
          return { ok: true };
        }
        const warning = this.guards.check(req.handle);
        // What the user typed where the page could have got it, for the secure composer only.
        const typed = req.event === 'focus' ? this.guards.takeTyped() : [];
        return typed.length ? { ok: true, warning, typed } : { ok: true, warning };
      }
      default:
        return refuse('unknown command');
    }
  }
}
