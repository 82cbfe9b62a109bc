/**
 * The content script's side of isolated mode: places the secure composer over the
 * chat's compose box and secure readers next to envelopes, answers the background's host
 * commands (put these envelopes into the chat and send them; size this reader), and guards the
 * frames. Handles envelopes, sizes and warnings only: no plaintext ever reaches this file.
 */
import browser from 'webextension-polyfill';
import { closestAny, composersOf, type ComposerSpec, queryFirst, type SiteAdapter } from '../../adapters/types';
import { t } from '../../i18n';
import type { HostCommand, HostCommandMap, HostEnvelope } from '../../messaging/protocol';
import type { ComposerFrameSpec } from '../../messaging/frame-types';
import type { ComposerStatus } from '../composer-status';
import { readComposer } from '../composer';
import { hostIdOf, messageAuthor, messageTextOf, scanText, watchedChanges } from '../message-scan';
import type { SendGuard } from '../send-guard';
import { injectStyles } from '../styles';
import { createFrameElement, loadFrame, themeOf, type SecureFrame } from './frame-host';
import { FrameGuards } from './guards';
import { IsolatedFiles } from './files';
import { READER_CSS, SecureReaders } from './readers';

const READY_TIMEOUT_MS = 10_000;
/** Extra boxes (edit, thread reply) of one kind covered at once: a page cannot make Veil place frames without end. */
const MAX_EXTRA_BOXES = 4;
/**
 * Extra composers placed per minute: each costs a capability and, for an edit, a decrypt. Beyond it
 * a box gets none for now (its typing is still held for the secure composer, never the page's).
 */
const MAX_EXTRA_MOUNTS_PER_MINUTE = 30;

/** A secure composer over one of the chat's compose boxes. */
interface Mounted {
  spec: ComposerSpec;
  /** The chat's box it covers (and whose send it triggers). */
  box: HTMLElement;
  frame: SecureFrame;
  ready: boolean;
  /** An edit box: the message it opened on (an edit is never saved into another). */
  message?: Element;
}

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

/** Why the chat's own compose box takes no typing in isolated mode. */
export const hostComposerBlocked = (): string => t('isoHostComposerBlocked');

/** Whether a box is at least partly inside the window. */
function inView(r: DOMRect, doc: Document): boolean {
  const win = doc.defaultView!;
  return r.bottom > 0 && r.right > 0 && r.top < win.innerHeight && r.left < win.innerWidth;
}

function isHostEnvelope(m: unknown): m is HostEnvelope {
  const e = m as HostEnvelope;
  return !!e && e.veilHost === 1 && typeof e.type === 'string' && !!e.req && typeof e.req === 'object';
}

type Answer<K extends HostCommand> = HostCommandMap[K]['res'];
const refuse = (message: string) => ({ ok: false as const, error: { code: 'bad-request' as const, message } });

export class IsolatedPage {
  /** The main composer's first, then the extra boxes' in the order they appeared. */
  private mounted: Mounted[] = [];
  /** The composer the user last pressed into (its frame reported the press); the page cannot set it. */
  private chosen?: Mounted;
  private busy = false;
  /** When extra composers were placed lately (a rate limit: each costs a capability and a decrypt). */
  private extraMountTimes: number[] = [];
  private readers: SecureReaders;
  private files: IsolatedFiles;
  private guards: FrameGuards;
  private placeScheduled = false;
  private readonly keep?: (install: () => void) => void;
  private readonly onViewChange = (): void => this.schedulePlace();
  /** Readers sharing a frame follow their messages when the list's layout may have moved them. */
  private readonly onListChange = (): void => this.readers.relayoutSoon();
  private resizeObserver = new ResizeObserver(() => this.schedulePlace());
  /** The page restyling Veil's frame or an ancestor: put the frame back, and check it is still seen. */
  private styleObserver = new MutationObserver(() => this.schedulePlace());

  constructor(
    private readonly doc: Document,
    private readonly adapter: SiteAdapter,
    private readonly guard: SendGuard,
    private readonly status: ComposerStatus,
    opts: {
      flagUnencrypted: boolean;
      guards: FrameGuards;
      /** Listeners to put back if the page's document.open() erases them (lib/page/listener-keeper.ts). */
      keep?: (install: () => void) => void;
    },
  ) {
    this.keep = opts.keep;
    this.readers = new SecureReaders(doc, adapter, opts.flagUnencrypted);
    this.files = new IsolatedFiles(doc, adapter, (handle) => this.readers.frame(handle));
    this.guards = opts.guards;
    this.guards.attach({
      composer: () => this.active?.frame,
      composerReady: () => !!this.active?.ready,
      hostComposer: () => this.active?.box,
      composers: () => this.mounted,
      declaredBox: (el) => composersOf(this.adapter).some((c) => !!closestAny(el, c.composer)),
      placeFrames: () => this.place(),
      veilBusy: () => this.busy,
      warn: (text) => this.showStatus('error', text),
    });
  }

  /** Veil's reader styles (hidden host text, placeholders), found by reference: a page can plant one with its id. */
  private readerStyle?: HTMLStyleElement;

  /** Veil's styles, put back if the page removed them (or rewrote its document). */
  private injectAllStyles(): void {
    injectStyles(this.doc);
    if (this.readerStyle?.isConnected) return;
    const style = this.doc.createElement('style');
    style.id = 'veil-isolated-styles';
    style.textContent = READER_CSS;
    (this.doc.head ?? this.doc.documentElement).append(style);
    this.readerStyle = style;
  }

  /** Set once the page erased Veil's listeners (halt()): the line's words, which nothing replaces. */
  private halted?: string;

  /**
   * The page erased Veil's event listeners (it called `document.open()`). Veil puts them back, but
   * they now run after any the page added in the same task, so the focus and typing guards can no
   * longer keep the keyboard from the page: no secure composer is offered until a reload, and the
   * line under the chat's box says so. Readers stay: they only show.
   */
  halt(text: string): void {
    this.halted = text;
    for (const m of [...this.mounted]) this.unmount(m);
    this.showStatus('error', text);
  }

  start(): void {
    const win = this.doc.defaultView!;
    this.guard.isolate(this.adapter, hostComposerBlocked());
    this.injectAllStyles();
    browser.runtime.onMessage.addListener(this.onHostCommand);
    const listen = () => {
      win.addEventListener('scroll', this.onViewChange, { capture: true, passive: true });
      win.addEventListener('resize', this.onViewChange, { passive: true });
      win.addEventListener('resize', this.onListChange, { passive: true });
      // A page moving its messages by CSS alone (a transition, an animation) ends with one of these.
      win.addEventListener('transitionend', this.onListChange, { capture: true, passive: true });
      win.addEventListener('animationend', this.onListChange, { capture: true, passive: true });
    };
    listen();
    this.keep?.(listen);
    const observer = new MutationObserver((records) => {
      const dirty = new Set<Element>();
      for (const r of records) {
        const node = r.type === 'characterData' ? r.target.parentElement : r.target;
        if (node instanceof Element)
          this.readers.collect(node, r.type === 'childList' ? r.addedNodes : undefined, dirty);
      }
      for (const el of dirty) if (el.isConnected) this.readers.process(el);
      this.injectAllStyles();
      this.mountComposers();
      this.schedulePlace();
      this.onListChange();
    });
    observer.observe(this.doc, watchedChanges(this.adapter));
    const all = new Set<Element>();
    this.readers.collect(this.doc.documentElement, undefined, all);
    for (const el of all) this.readers.process(el);
    this.mountComposers();
  }

  private showStatus(state: 'ready' | 'busy' | 'error', text: string): void {
    if (this.halted && text !== this.halted) return; // the reason no composer is offered stays
    const box =
      this.active?.box ?? this.mounted[0]?.box ?? queryFirst<HTMLElement>(this.doc, this.adapter.selectors.composer);
    if (box) this.status.attach(box);
    this.status.show(state, text);
  }

  /**
   * The composer the keyboard goes to: the one the user pressed into while it is on the page and
   * in view, else the main one. Never one the page chose by opening, focusing or moving a box.
   */
  private get active(): Mounted | undefined {
    const c = this.chosen;
    if (c && this.mounted.includes(c) && c.frame.host.style.display === 'block') return c;
    return this.mounted.find((m) => m.spec.kind === 'main');
  }

  private byHandle(handle: string): Mounted | undefined {
    return this.mounted.find((m) => m.frame.handle === handle);
  }

  /**
   * Puts a secure composer over each compose box the adapter declares that the page shows now (the
   * main one, a thread's reply box, an edit box), again if the chat re-rendered one, and takes it
   * away when its box is gone. The keyboard goes to the main one until the user presses into
   * another (its frame says so): never to one the page picked by opening or focusing a box.
   */
  private mountComposers(): void {
    for (const m of [...this.mounted]) if (!m.box.isConnected) this.unmount(m);
    if (this.halted) {
      // Under the chat's box, wherever it is now; written only when missing (its own write is a change too).
      if (!this.status.shows(this.halted)) this.showStatus('error', this.halted);
      return;
    }
    for (const spec of composersOf(this.adapter)) {
      const boxes =
        spec.kind === 'main'
          ? [queryFirst<HTMLElement>(this.doc, spec.composer)]
          : spec.composer.flatMap((sel) => [...this.doc.querySelectorAll<HTMLElement>(sel)]);
      let extra = this.mounted.filter((m) => m.spec === spec).length;
      for (const box of boxes) {
        // A box the page keeps hidden (a closed thread panel) gets its composer once it is shown
        // or focused: no frame for a panel the user may never open.
        if (!box || this.mounted.some((m) => m.box === box) || (spec.kind !== 'main' && box.closest('[hidden]')))
          continue;
        if (spec.kind !== 'main' && (++extra > MAX_EXTRA_BOXES || !this.mayMountExtra())) break;
        // The main box replaced by a re-render: the new one takes the old one's place.
        const was = this.mounted.filter((x) => x.spec.kind === 'main');
        this.mount(spec, box);
        for (const old of was) this.unmount(old);
      }
    }
  }

  private mayMountExtra(): boolean {
    const now = performance.now();
    this.extraMountTimes = this.extraMountTimes.filter((t) => now - t < 60_000);
    if (this.extraMountTimes.length >= MAX_EXTRA_MOUNTS_PER_MINUTE) return false;
    this.extraMountTimes.push(now);
    return true;
  }

  private mount(spec: ComposerSpec, box: HTMLElement): Mounted {
    let composer: ComposerFrameSpec = { kind: spec.kind };
    let message: Element | undefined;
    if (spec.kind === 'edit') {
      // An edit box on anything but one encrypted message still gets covered (no key may reach
      // the page), by a composer that says it cannot edit that and sends nothing.
      message = closestAny(box, this.adapter.selectors.message) ?? undefined;
      const edit = message && this.editedMessage(message, box);
      composer = edit ? { kind: 'edit', edit } : { kind: 'edit' };
    }
    const f = createFrameElement(this.doc, 'composer');
    this.doc.documentElement.append(f.host);
    const m: Mounted = { spec, box, frame: f, ready: false, message };
    this.mounted.push(m);
    this.resizeObserver.observe(box);
    if (this.doc.body) this.resizeObserver.observe(this.doc.body);
    this.styleObserver.observe(f.host, { attributes: true, attributeFilter: ['style', 'class', 'hidden'] });
    for (const n of [this.doc.documentElement, this.doc.body])
      if (n) this.styleObserver.observe(n, { attributes: true, attributeFilter: ['style', 'class', 'hidden'] });
    this.place();
    this.guards.watchComposer(f);
    if (spec.kind === 'main') this.showStatus('busy', t('isoComposerOpening'));
    void loadFrame(f, themeOf(box, true), composer).then((ok) => {
      if (!ok && this.mounted.includes(m)) this.showStatus('error', t('isoComposerOpenFailed'));
    });
    setTimeout(() => {
      if (this.mounted.includes(m) && !m.ready) this.showStatus('error', t('isoComposerNoStart'));
    }, READY_TIMEOUT_MS);
    return m;
  }

  /** The message an edit box opened on, as the page shows it: its envelopes, author and ids. */
  private editedMessage(message: Element, box: HTMLElement): ComposerFrameSpec['edit'] {
    const conversationId = this.adapter.conversationId(this.doc);
    // The box holds what the page knows of the message (its envelopes); else the message's own text.
    const fromBox = scanText(readComposer(box)).envelopes;
    const texts = fromBox.length
      ? fromBox
      : scanText(messageTextOf(this.adapter, message)?.textContent ?? '').envelopes;
    if (!conversationId || texts.length !== 1) return undefined;
    return {
      conversationId,
      author: messageAuthor(this.adapter, message),
      texts,
      hostMessageId: hostIdOf(this.adapter, message),
    };
  }

  private unmount(m: Mounted): void {
    const hadFocus = this.doc.hasFocus() && this.doc.activeElement === m.frame.host;
    this.mounted = this.mounted.filter((x) => x !== m);
    m.frame.host.remove();
    this.resizeObserver.unobserve(m.box);
    this.guards.unwatchComposer(m.frame);
    if (this.chosen === m) this.chosen = undefined;
    // Back to the main composer (once an edit or thread box closes, or the main box re-rendered).
    if (hadFocus && this.active?.ready) this.guards.refocus();
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
    const anchor = this.active?.box;
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
    this.styleObserver.takeRecords();
    for (const m of this.mounted) this.placeOne(m);
    this.styleObserver.takeRecords(); // Veil's own writes are not the page's
    if (this.active?.ready && this.active.frame.host.style.display === 'block') this.guards.checkVisible();
  }

  private placeOne({ frame: f, box: el }: Mounted): void {
    const r = el.getBoundingClientRect();
    // Fixed over the compose box, above everything the page draws. Inline !important: no style
    // sheet of the page can move, shrink or hide the frame itself (ancestors are checked instead).
    const box: Record<string, string> = {
      position: 'fixed',
      'z-index': '2147483647',
      // Out of view, a composer is hidden (focus then leaves it): nobody types blind into a box the
      // page moved away after the user's press.
      display: r.width > 0 && r.height > 0 && el.isConnected && inView(r, this.doc) ? 'block' : 'none',
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
    for (const [k, v] of Object.entries(box))
      if (s.getPropertyValue(k) !== v || s.getPropertyPriority(k) !== 'important') s.setProperty(k, v, 'important');
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
        if (!this.byHandle(req.handle)) return refuse("not this page's composer");
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
        const target = this.byHandle(req.handle);
        if (!target) return refuse("not this page's composer");
        if (!Array.isArray(req.envelopes) || !req.envelopes.every((e) => typeof e === 'string'))
          return refuse('bad envelopes');
        // An edit box the page moved onto another message: the edit is not saved there.
        if (target.message && closestAny(target.box, this.adapter.selectors.message) !== target.message) {
          this.showStatus('error', t('composerEditMoved'));
          return refuse(t('composerEditMoved'));
        }
        this.busy = true;
        this.showStatus('busy', t('isoSendingEncrypted'));
        let error: string | undefined;
        try {
          error = await this.guard.sendEnvelopes(this.adapter, req.envelopes, target.spec, target.box);
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
      case 'host/file-piece': {
        const req = m.req as HostCommandMap['host/file-piece']['req'];
        if (!this.byHandle(req.handle) || typeof req.sid !== 'string' || typeof req.data !== 'string')
          return refuse("not this page's composer");
        this.files.piece(req.sid, req.data);
        return { ok: true };
      }
      case 'host/file-hand': {
        const req = m.req as HostCommandMap['host/file-hand']['req'];
        const target = this.byHandle(req.handle);
        if (!target || typeof req.sid !== 'string' || typeof req.data !== 'string' || typeof req.fileName !== 'string')
          return refuse("not this page's composer");
        this.busy = true;
        let error: string | undefined;
        try {
          error = this.files.hand(req.sid, req.data, req.fileName, req.pieces, target.box);
        } finally {
          this.busy = false;
          this.guards.refocus();
        }
        return error ? refuse(t('isoFileNoUpload')) : { ok: true };
      }
      case 'host/file-drop': {
        const req = m.req as HostCommandMap['host/file-drop']['req'];
        if (typeof req.sid === 'string') this.files.drop(req.sid);
        return { ok: true };
      }
      case 'host/file-read': {
        const req = m.req as HostCommandMap['host/file-read']['req'];
        const r = await this.files.read(req.handle, req.fileId, req.at, req.sealedSize);
        return 'error' in r ? refuse(t('fileNotInMessage')) : { ok: true, ...r };
      }
      case 'host/frame-event': {
        const req = m.req as HostCommandMap['host/frame-event']['req'];
        const target = this.byHandle(req.handle);
        if (!target) return { ok: true };
        if (req.event === 'ready') {
          target.ready = true;
          if (target === this.active) this.showStatus('ready', t('isoReady'));
          // The user was already typing into the chat's box (focused at load): carry on in Veil's.
          const active = this.doc.activeElement;
          if (target === this.active && (this.guards.typing.holding() || (active && target.box.contains(active))))
            this.guards.redirect();
          return { ok: true };
        }
        // The user pressed into this composer (only the frame can report that): the keyboard goes
        // there from now on. A "focus" report is not enough: a frame also sends one when it starts.
        if (req.event === 'pointerdown') this.chosen = target;
        if (req.event === 'tab' || req.event === 'shift-tab') {
          this.tabOut(req.event === 'shift-tab');
          return { ok: true };
        }
        const warning = this.guards.check(req.handle);
        // What the user typed where the page could have got it: for the composer the keys go to, and
        // only while focus really is inside it (not a planted one starting up, not its bare host).
        const focused = target.frame.shadow.activeElement === target.frame.iframe;
        const typed = req.event === 'focus' && target === this.active && focused ? this.guards.takeTyped() : [];
        return typed.length ? { ok: true, warning, typed } : { ok: true, warning };
      }
      default:
        return refuse('unknown command');
    }
  }
}
