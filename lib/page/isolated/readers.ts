/**
 * Isolated mode's message reading: every envelope in the chat's message list gets a reader
 * placeholder next to it (a `<veil-secure-frame>` of fixed height, no iframe), and only
 * placeholders near the viewport hold a live reader frame. A frame is loaded when its message
 * comes within NEAR_MARGIN of the view and unloaded when it leaves FAR_MARGIN (the placeholder
 * keeps the height the frame reported, so the list does not jump), and never more than
 * MAX_LIVE_READERS are live: a long history costs a few frames, not one per message (an iframe
 * in the DOM costs milliseconds to create even before it loads anything).
 * The chat's own text element keeps exactly the envelope the chat rendered; Veil only hides it.
 * The content script never sees a decrypted word: the frame gets the message from the background.
 * The messages that come into view together share one frame where the page's layout allows it
 * (reader-ranges.ts): opening a long conversation then loads one frame, not one per message.
 * Event-driven (MutationObserver, IntersectionObserver): an idle chat costs nothing.
 */
import type { SiteAdapter } from '../../adapters/types';
import { t } from '../../i18n';
import { mixedAuthorsView, notEncryptedView } from '../../i18n/status-text';
import type { ReaderSpec } from '../../messaging/frame-types';
import {
  ChunkGroups,
  collectMessages,
  hostIdOf,
  messageAuthor,
  messageTextOf,
  mixedAuthors,
  namedAuthor,
  partTexts,
  renameParts,
  scanText,
  type ChunkRef,
} from '../message-scan';
import {
  createPlaceholder,
  freshIframe,
  idleIframe,
  knownReaderUrl,
  mintReaders,
  showReaders,
  startLoading,
  themeOf,
  type SecureFrame,
} from './frame-host';
import { boxOf, rangeGeometry, reached, ReaderRange, scrollContextOf, visibleBoxOf } from './reader-ranges';
import { MAX_READER_SLOTS, type FrameTheme } from '../../messaging/frame-types';

/** Readers load this close to the view (px above and below)... */
const NEAR_MARGIN = '400px 0px';
/** ...and unload this far from it: the gap keeps a frame at the edge from loading again and again. */
const FAR_MARGIN = '1000px 0px';
/** Live reader frames at most, whatever the page does (tiny messages, a huge viewport). */
export const MAX_LIVE_READERS = 48;
/**
 * Readers near the view but not in it wait until the ones in view are shown (or this long):
 * every frame's navigation queues in the browser process, so the messages the user sees go first.
 */
const NEAR_WAIT_MS = 1_500;

/** Hidden host text and Veil's placeholders; prefixed so the chat's own styles are untouched. */
export const READER_CSS = `
[data-veil-isolated="hidden"] { display: none !important; }
veil-secure-frame[data-kind="reader"] { display: block; min-height: 1.4em; width: 100%; }
.veil-isolated-note { font: italic 12px/1.6 system-ui, sans-serif; color: #5f6b7a; }
`;

/**
 * The last entry per target: under load one callback can carry a target leaving and coming back,
 * and acting on the stale one would unload a reader in view (which no later entry would reload).
 */
function latest(entries: IntersectionObserverEntry[]): IntersectionObserverEntry[] {
  return [...new Map(entries.map((e) => [e.target, e])).values()];
}

interface Placed {
  key: string;
  frames: SecureFrame[];
  notes: HTMLElement[];
}

/** A placeholder and what its reader shows. */
interface Wanted {
  frame: SecureFrame;
  spec: ReaderSpec;
  textEl: Element;
}

export class SecureReaders {
  private placed = new WeakMap<Element, Placed>();
  private byHandle = new Map<string, SecureFrame>();
  /** What each placeholder shows when it is near the view. */
  private specs = new WeakMap<Element, Wanted>();
  /** Placeholders in the view, and near it, as the observers last said (the page can grow these only with messages). */
  private inView = new Set<Element>();
  private nearby = new Set<Element>();
  /** Placeholders shown by a frame they share, by placeholder. */
  private ranges = new Map<SecureFrame, ReaderRange<SecureFrame>>();
  private relayoutFrame: number | undefined;
  /** Placeholders holding a live frame, oldest load first. */
  private live = new Set<SecureFrame>();
  private chunkGroups = new ChunkGroups();
  /** In the view now: loaded at once. */
  private view: IntersectionObserver;
  private near: IntersectionObserver;
  private far: IntersectionObserver;

  constructor(
    private readonly doc: Document,
    private readonly adapter: SiteAdapter,
    private readonly flagUnencrypted: boolean,
  ) {
    // Created first, so its callback runs first when both see the same new placeholders.
    this.view = new IntersectionObserver((entries) => {
      const fresh: Wanted[] = [];
      for (const e of latest(entries)) {
        if (e.isIntersecting) this.inView.add(e.target);
        else this.inView.delete(e.target);
        const p = e.isIntersecting ? this.specs.get(e.target) : undefined;
        if (p) {
          this.waiting.delete(e.target);
          if (!this.live.has(p.frame)) fresh.push(p);
        }
      }
      this.openInView(fresh);
    });
    // Frames are loaded just before a message scrolls into view, not for the whole history at once.
    this.near = new IntersectionObserver(
      (entries) => {
        for (const e of latest(entries)) {
          if (e.isIntersecting) this.nearby.add(e.target);
          else this.nearby.delete(e.target);
          const p = e.isIntersecting ? this.specs.get(e.target) : undefined;
          if (p && !this.live.has(p.frame)) this.wait(e.target);
        }
        this.drain();
      },
      // scrollMargin: the margin applies inside the chat's scrolling list too, not only the window.
      { rootMargin: NEAR_MARGIN, scrollMargin: NEAR_MARGIN } as IntersectionObserverInit,
    );
    this.far = new IntersectionObserver(
      (entries) => {
        for (const e of latest(entries)) {
          const p = e.isIntersecting ? undefined : this.specs.get(e.target);
          if (p) {
            this.waiting.delete(e.target);
            this.unload(p.frame);
          }
        }
      },
      { rootMargin: FAR_MARGIN, scrollMargin: FAR_MARGIN } as IntersectionObserverInit,
    );
  }

  /** Placeholders near the view, waiting for the readers in view to load first (oldest first). */
  private waiting = new Set<Element>();
  /** Readers asked for and not shown yet (sized by their frame; one unloaded meanwhile is dropped then). */
  private loading = new Set<SecureFrame>();
  private nearTimer: ReturnType<typeof setTimeout> | undefined;

  private wait(host: Element): void {
    this.waiting.delete(host);
    this.waiting.add(host);
    // Bounded like the live frames: the oldest left out loads when it comes into view.
    if (this.waiting.size > MAX_LIVE_READERS) this.waiting.delete(this.waiting.values().next().value!);
  }

  /** Loads the waiting readers once everything in view is shown, or after NEAR_WAIT_MS at most. */
  private drain(force = false): void {
    if (this.waiting.size === 0) return;
    if (this.loading.size > 0 && !force) {
      this.nearTimer ??= setTimeout(() => this.drain(true), NEAR_WAIT_MS);
      return;
    }
    clearTimeout(this.nearTimer);
    this.nearTimer = undefined;
    // Waited long enough: a reader that never reported (its frame failed to start) holds nothing up again.
    if (force) this.loading.clear();
    const hosts = [...this.waiting];
    this.waiting.clear();
    // Some may be in the view by now (the page scrolled its list before the view's report came):
    // those share frames like any in view; the others get one each, before they scroll in.
    const view = this.doc.defaultView!;
    const inView: Wanted[] = [];
    for (const host of hosts) {
      const p = this.specs.get(host);
      if (!p || this.live.has(p.frame)) continue;
      const r = host.getBoundingClientRect();
      if (r.bottom > 0 && r.top < view.innerHeight) inView.push(p);
      else void this.open(p);
    }
    this.openInView(inView);
  }

  frame(handle: string): SecureFrame | undefined {
    return this.byHandle.get(handle);
  }

  /** Looks at one message element (new, changed or re-rendered). */
  process(el: Element): void {
    const textEl = messageTextOf(this.adapter, el);
    if (!textEl) return;
    const raw = textEl.textContent ?? '';
    const { envelopes, chunk } = scanText(raw);
    const before = this.placed.get(textEl);
    // The author the page names is part of what a reader shows: renamed, it is read again for the
    // new name. A name taken away is not another name (chats drop it from a sender's later messages).
    const who = namedAuthor(this.adapter, el) || before?.key.slice(0, before.key.indexOf('\n')) || '';
    const key = `${who}\n${envelopes.join('\n')}`;
    if (
      before &&
      before.key === key &&
      before.frames.every((f) => f.host.isConnected) &&
      before.notes.every((n) => n.isConnected)
    )
      return;
    if (before) this.clear(before);
    if (envelopes.length === 0) {
      this.placed.set(textEl, { key, frames: [], notes: [] });
      textEl.removeAttribute('data-veil-isolated');
      if (this.flagUnencrypted && raw.trim()) {
        const plain = notEncryptedView();
        this.note(textEl, plain.label, plain.detail);
      }
      return;
    }
    textEl.setAttribute('data-veil-isolated', 'hidden');
    const author = messageAuthor(this.adapter, el);
    const hostMessageId = hostIdOf(this.adapter, el);
    const conversationId = this.adapter.conversationId(this.doc);
    const placed: Placed = { key, frames: [], notes: [] };
    this.placed.set(textEl, placed);
    if (!conversationId) return;
    if (chunk) return this.chunk(el, textEl, placed, chunk, envelopes[0]!, { conversationId, author, hostMessageId });
    let anchor: Element = textEl;
    for (const text of envelopes) {
      const frame = this.placeFrame(anchor, placed);
      anchor = frame.host;
      this.later(frame, { conversationId, author, hostMessageId, texts: [text] }, textEl);
    }
  }

  /** A long message travels as chunks: the first part gets the reader once all parts are here. */
  private chunk(
    el: Element,
    textEl: Element,
    placed: Placed,
    c: ChunkRef,
    text: string,
    base: Omit<ReaderSpec, 'texts'>,
  ): void {
    const group = this.chunkGroups.add(c, { el, text, author: base.author });
    if (!group) return; // more parts than it claims: ignored
    renameParts(this.adapter, group);
    if (c.index > 0) this.note(textEl, t('isoReaderPartNote', c.index + 1, c.count), t('isoReaderPartDetail'), placed);
    const first = group.get(0);
    if (!first) return;
    const firstText = messageTextOf(this.adapter, first.el);
    if (!firstText) return;
    const firstPlaced = this.placed.get(firstText);
    if (!firstPlaced) return;
    if (group.size < c.count) {
      if (firstPlaced.notes.length === 0)
        this.note(firstText, t('statusIncompleteLabel', group.size, c.count), t('isoReaderWaitingParts'), firstPlaced);
      else firstPlaced.notes[0]!.textContent = t('statusIncompleteLabel', group.size, c.count);
      return;
    }
    this.clear(firstPlaced);
    firstText.setAttribute('data-veil-isolated', 'hidden');
    // Every part must come from the same author: the page (or its server) attributing one part to
    // someone else is shown as malformed, never decrypted under one of the two names.
    if (mixedAuthors(group)) {
      const bad = mixedAuthorsView();
      this.note(firstText, bad.label, bad.detail, firstPlaced);
      return;
    }
    const texts = partTexts(group);
    const frame = this.placeFrame(firstText, firstPlaced);
    this.later(
      frame,
      {
        ...base,
        texts,
        hostMessageId: hostIdOf(this.adapter, first.el) || base.hostMessageId,
      },
      firstText,
    );
  }

  /** A placeholder: the frame element without its iframe (loaded only near the view). */
  private placeFrame(after: Element, placed: Placed): SecureFrame {
    // Handles of frames the page removed itself: dropped in one sweep now and then (bounded map).
    if (this.byHandle.size >= 4_096)
      for (const [h, f] of this.byHandle) if (!f.host.isConnected) this.byHandle.delete(h);
    const frame = createPlaceholder(this.doc);
    frame.host.style.height = '1.6em'; // until a frame reports its content height, kept after unloading
    after.after(frame.host);
    placed.frames.push(frame);
    this.byHandle.set(frame.handle, frame);
    return frame;
  }

  private later(frame: SecureFrame, spec: ReaderSpec, textEl: Element): void {
    this.specs.set(frame.host, { frame, spec, textEl });
    this.view.observe(frame.host);
    this.near.observe(frame.host);
  }

  /**
   * The placeholders that came into view together: runs of them in one scrolling list, with one
   * look, share a frame (the ones its frame would not show on top get their own).
   */
  private openInView(fresh: Wanted[]): void {
    if (this.inView.size > 4 * MAX_LIVE_READERS) for (const h of this.inView) if (!h.isConnected) this.inView.delete(h);
    if (this.nearby.size > 4 * MAX_LIVE_READERS) for (const h of this.nearby) if (!h.isConnected) this.nearby.delete(h);
    const wanted = fresh.filter((p) => p.frame.host.isConnected && !this.live.has(p.frame));
    if (wanted.length < 2) return wanted.forEach((p) => void this.open(p));
    wanted.sort((x, y) =>
      x.frame.host.compareDocumentPosition(y.frame.host) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1,
    );
    const runs: { key: string; theme: FrameTheme; scroller: Element | null; items: Wanted[] }[] = [];
    const scrollers = new Map<Element | null, number>();
    for (const p of wanted) {
      const theme = themeOf(p.textEl, false);
      const { scroller, pinned } = scrollContextOf(p.frame.host);
      if (!scrollers.has(scroller)) scrollers.set(scroller, scrollers.size);
      // A pinned message does not move with the others: never in a shared frame.
      const key = pinned ? '' : `${scrollers.get(scroller)}|${JSON.stringify(theme)}`;
      const run = runs.at(-1);
      if (key && run && run.key === key && run.items.length < MAX_READER_SLOTS) run.items.push(p);
      else runs.push({ key, theme, scroller, items: [p] });
    }
    for (const run of runs) {
      if (run.items.length === 1) void this.open(run.items[0]!, run.theme);
      else void this.openRange(run.items, run.theme, run.scroller);
    }
  }

  /** Frees room for `count` more live frames: the ones farthest from the view go first. */
  private makeRoom(count: number): void {
    const view = this.doc.defaultView?.innerHeight ?? 0;
    const away = (f: SecureFrame) => {
      const r = f.host.getBoundingClientRect();
      return f.host.isConnected ? Math.max(r.top - view, -r.bottom, 0) : Infinity;
    };
    // A shared frame is as near as its nearest message.
    const distance = (owner: SecureFrame) => {
      const range = this.ranges.get(owner);
      return range ? Math.min(...range.members.filter((m) => this.ranges.get(m) === range).map(away)) : away(owner);
    };
    for (;;) {
      const owners = [...this.live].filter((f) => !this.ranges.has(f) || this.ranges.get(f)!.anchor === f);
      if (owners.length + count <= MAX_LIVE_READERS) return;
      const farthest = owners.map((f) => [distance(f), f] as const).sort((a, b) => b[0] - a[0])[0]![1];
      this.unload(farthest);
    }
  }

  private async open({ frame, spec, textEl }: Wanted, theme = themeOf(textEl, false)): Promise<void> {
    if (!frame.host.isConnected || this.live.has(frame)) return;
    this.makeRoom(1);
    // A new iframe each time: the token it gets grants this one message, once.
    let iframe = (frame.iframe = freshIframe(this.doc, 'reader'));
    this.goLive(frame);
    this.loading.add(frame);
    const early = this.loadEarly(frame, iframe, false);
    const { tokens, src } = await mintReaders(theme, [{ handle: frame.handle, spec }]);
    if (src && early && src !== early && frame.iframe === iframe) iframe = this.freshFor(frame);
    const ok = !!src && !!tokens[0] && frame.iframe === iframe && (await showReaders(frame, iframe, src, [tokens[0]]));
    if (ok) return;
    if (frame.iframe === iframe) this.loaded(frame);
    if (frame.iframe === iframe && this.live.has(frame)) this.refused([{ frame, spec, textEl }]);
  }

  /** One frame for `items` (in document order), laid over them from the first one's placeholder. */
  private async openRange(items: Wanted[], theme: FrameTheme, scroller: Element | null): Promise<void> {
    const first = items[0]!;
    const boxes = items.map((p) => visibleBoxOf(p.frame.host, scroller));
    const probe = rangeGeometry(boxOf(first.frame.host), boxes);
    const hit = probe ? reached(this.doc, first.frame.host, first.frame.shadow, probe, boxes, scroller) : [];
    const members = items.filter((p, i) => p === first || hit[i]);
    for (const p of items) if (!members.includes(p)) void this.open(p, theme);
    if (members.length === 1) return this.open(first, theme);

    this.makeRoom(1);
    for (const p of members) {
      this.goLive(p.frame);
      this.loading.add(p.frame);
    }
    let iframe = (first.frame.iframe = freshIframe(this.doc, 'reader'));
    const early = this.loadEarly(first.frame, iframe, true);
    const { tokens, src } = await mintReaders(
      theme,
      members.map((p) => ({ handle: p.frame.handle, spec: p.spec })),
    );
    // Unloaded or re-rendered while the tokens were made: left out (an anchor gone takes the rest along).
    const still = members.filter(
      (p) => this.live.has(p.frame) && !this.ranges.has(p.frame) && p.frame.host.isConnected,
    );
    const refused = members.filter((p, i) => still.includes(p) && !tokens[i]);
    this.refused(refused);
    const kept = members.filter((p, i) => still.includes(p) && tokens[i]);
    if (!src || !kept.includes(first) || kept.length < 2) {
      // Not worth a shared frame any more: the rest get frames of their own.
      for (const p of kept) {
        this.leave(p.frame);
        this.loading.delete(p.frame);
      }
      if (first.frame.iframe === iframe) this.freshFor(first.frame, idleIframe(this.doc));
      return this.reopen(kept.map((p) => p.frame));
    }
    if (early && src !== early) iframe = this.freshFor(first.frame);
    const range = new ReaderRange(
      first.frame,
      kept.map((p) => p.frame),
      iframe,
      scroller,
      () => this.relayoutSoon(),
    );
    for (const p of kept) this.ranges.set(p.frame, range);
    const geometry = range.geometry();
    if (!geometry) return this.reopen(this.close(range));
    range.update(geometry);
    const handed = kept.map((p) => tokens[members.indexOf(p)]!);
    const ok = await showReaders(first.frame, iframe, src, handed, geometry.layout, range.framePort);
    if (!ok && this.ranges.get(first.frame) === range) {
      this.close(range);
      this.refused(kept);
    }
  }

  /**
   * Starts loading the reader page while the tokens are made, when its address is known already
   * (a frame costs most of its time loading; the tokens are handed over once both are done). A
   * shared frame stays invisible until it is shaped over its messages. Returns the address used.
   */
  private loadEarly(frame: SecureFrame, iframe: HTMLIFrameElement, hidden: boolean): string | undefined {
    const src = knownReaderUrl();
    if (!src) return undefined;
    if (hidden)
      Object.assign(iframe.style, { position: 'absolute', width: '1px', height: '1px', clipPath: 'inset(50%)' });
    void startLoading(frame, iframe, src);
    return src;
  }

  /** Replaces `frame`'s iframe (an early load went to another address than the background gave). */
  private freshFor(frame: SecureFrame, next = freshIframe(this.doc, 'reader')): HTMLIFrameElement {
    frame.iframe.remove();
    return (frame.iframe = next);
  }

  /** The background refused (or the frame did not load): said once, not asked again on every scroll. */
  private refused(items: Wanted[]): void {
    for (const { frame, textEl } of items) {
      this.unload(frame);
      this.view.unobserve(frame.host);
      this.near.unobserve(frame.host);
      this.note(textEl, t('statusNotDecryptedLabel'), t('isoReaderOpenFailed'));
    }
  }

  private loaded(frame: SecureFrame): void {
    if (this.loading.delete(frame)) this.drain();
  }

  /** A placeholder shows a reader: watched from now on for leaving the view's surroundings. */
  private goLive(frame: SecureFrame): void {
    this.live.add(frame);
    this.far.observe(frame.host);
  }

  private leave(frame: SecureFrame): boolean {
    this.far.unobserve(frame.host);
    return this.live.delete(frame);
  }

  /** Back to a placeholder of the same height: the frame and its document are gone. */
  private unload(frame: SecureFrame): void {
    this.loaded(frame);
    const range = this.ranges.get(frame);
    if (range && frame !== range.anchor) {
      // One message of a shared frame: its place in the frame is emptied, the others stay.
      range.drop(frame);
      this.ranges.delete(frame);
      this.leave(frame);
      this.relayoutSoon();
      return;
    }
    if (range) {
      // The others get readers again once whatever is unloading now is done (not in its loop).
      const members = this.close(range);
      queueMicrotask(() => this.reopen(members));
      return;
    }
    if (!this.leave(frame)) return;
    frame.iframe.remove();
    frame.iframe = idleIframe(this.doc); // a load still on its way then finds it replaced
  }

  /** Removes a shared frame; returns its other members (now without a reader). */
  private close(range: ReaderRange<SecureFrame>): SecureFrame[] {
    const members = range.members.filter((m) => this.ranges.get(m) === range);
    for (const m of members) {
      this.ranges.delete(m);
      this.leave(m);
      this.loading.delete(m);
    }
    range.close();
    range.anchor.iframe = idleIframe(this.doc);
    return members.filter((m) => m !== range.anchor);
  }

  /** Members of a closed frame that are still in or near the view get readers again. */
  private reopen(members: SecureFrame[]): void {
    const inView: Wanted[] = [];
    for (const m of members) {
      const p = this.specs.get(m.host);
      if (!p || !m.host.isConnected || this.live.has(m)) continue;
      if (this.inView.has(m.host)) inView.push(p);
      else if (this.nearby.has(m.host)) this.wait(m.host);
    }
    this.openInView(inView);
    this.drain();
  }

  /**
   * The page changed (DOM, sizes, styles, window): shared frames follow their messages at the next
   * frame, and a message the frame no longer shows on top at gets a frame of its own.
   */
  relayoutSoon(): void {
    if (this.relayoutFrame !== undefined || this.ranges.size === 0) return;
    const win = this.doc.defaultView!;
    this.relayoutFrame = win.requestAnimationFrame(() => {
      this.relayoutFrame = undefined;
      for (const range of new Set(this.ranges.values())) {
        if (!range.update()) {
          this.reopen(this.close(range));
          continue;
        }
        const lost = range.unreached(this.doc);
        for (const m of lost) this.unload(m);
        if (lost.length) range.update();
        for (const m of lost) {
          const p = this.specs.get(m.host);
          if (p) void this.open(p);
        }
      }
    });
  }

  /** Sets a reader's height as its frame reports it (sized to content). */
  resize(handle: string, height: number): boolean {
    const f = this.byHandle.get(handle);
    if (!f) return false;
    f.host.style.height = `${height}px`;
    this.loaded(f);
    return true;
  }

  private note(textEl: Element, label: string, detail: string, placed = this.placed.get(textEl)): void {
    const n = this.doc.createElement('span');
    n.className = 'veil-isolated-note';
    n.textContent = label; // Veil's own words only, never message content
    n.title = detail;
    textEl.after(n);
    placed?.notes.push(n);
  }

  private clear(p: Placed): void {
    for (const f of p.frames) {
      this.waiting.delete(f.host);
      this.inView.delete(f.host);
      this.nearby.delete(f.host);
      this.specs.delete(f.host);
      this.view.unobserve(f.host);
      this.near.unobserve(f.host);
      this.far.unobserve(f.host);
      this.unload(f);
      this.byHandle.delete(f.handle);
      f.host.remove();
    }
    for (const n of p.notes) n.remove();
    p.frames = [];
    p.notes = [];
  }

  /** Message elements under `root` (or containing it). */
  collect(target: Element, added: NodeList | undefined, into: Set<Element>): void {
    collectMessages(this.adapter, target, added, into);
  }
}
