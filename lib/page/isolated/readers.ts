/**
 * Isolated mode's message reading (issue #6): every envelope in the chat's message list gets a
 * secure reader frame next to it, created lazily when the message comes near the viewport. The
 * chat's own text element keeps exactly the envelope the chat rendered; Veil only hides it. The
 * content script never sees a decrypted word: the frame gets the message from the background.
 * Event-driven (MutationObserver, IntersectionObserver): an idle chat costs nothing.
 */
import { closestAny, messageAuthor, queryFirst, type SiteAdapter } from '../../adapters/types';
import { KIND_CHUNK, parseChunk } from '../../crypto/chunks';
import { findEnvelopes } from '../../crypto/codec';
import { t } from '../../i18n';
import { mixedAuthorsView, NOT_ENCRYPTED_VIEW } from '../../i18n/status-text';
import type { ReaderSpec } from '../../messaging/frame-types';
import { createFrameElement, loadFrame, themeOf, type SecureFrame } from './frame-host';

/** Hidden host text and Veil's placeholders; prefixed so the chat's own styles are untouched. */
export const READER_CSS = `
[data-veil-isolated="hidden"] { display: none !important; }
veil-secure-frame[data-kind="reader"] { display: block; min-height: 1.4em; width: 100%; }
.veil-isolated-note { font: italic 12px/1.6 system-ui, sans-serif; color: #5f6b7a; }
`;

/** Chunk groups remembered at once: far more than a screenful of long messages. */
const MAX_CHUNK_GROUPS = 1_000;

interface Placed {
  key: string;
  frames: SecureFrame[];
  notes: HTMLElement[];
}

export class SecureReaders {
  private placed = new WeakMap<Element, Placed>();
  private byHandle = new Map<string, SecureFrame>();
  private pending = new WeakMap<Element, { frame: SecureFrame; spec: ReaderSpec; textEl: Element }>();
  private chunkGroups = new Map<string, Map<number, { el: Element; text: string; author: string }>>();
  private io: IntersectionObserver;

  constructor(
    private readonly doc: Document,
    private readonly adapter: SiteAdapter,
    private readonly flagUnencrypted: boolean,
  ) {
    // Frames are made just before a message scrolls into view, not for the whole history at once.
    this.io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (!e.isIntersecting) continue;
          this.io.unobserve(e.target);
          const p = this.pending.get(e.target);
          this.pending.delete(e.target);
          if (p) void this.open(p.frame, p.spec, p.textEl);
        }
      },
      { rootMargin: '400px 0px' },
    );
  }

  frame(handle: string): SecureFrame | undefined {
    return this.byHandle.get(handle);
  }

  /** Frames currently in the page (for the clickjacking checks). */
  frames(): SecureFrame[] {
    return [...this.byHandle.values()].filter((f) => f.host.isConnected);
  }

  /** Looks at one message element (new, changed or re-rendered). */
  process(el: Element): void {
    const textEl = queryFirst(el, this.adapter.selectors.messageText);
    if (!textEl) return;
    const raw = textEl.textContent ?? '';
    const found = findEnvelopes(raw);
    const key = found.map((f) => raw.slice(f.start, f.end)).join('\n');
    const before = this.placed.get(textEl);
    if (
      before &&
      before.key === key &&
      before.frames.every((f) => f.host.isConnected) &&
      before.notes.every((n) => n.isConnected)
    )
      return;
    if (before) this.clear(before);
    if (found.length === 0) {
      this.placed.set(textEl, { key, frames: [], notes: [] });
      textEl.removeAttribute('data-veil-isolated');
      if (this.flagUnencrypted && raw.trim()) this.note(textEl, NOT_ENCRYPTED_VIEW.label, NOT_ENCRYPTED_VIEW.detail);
      return;
    }
    textEl.setAttribute('data-veil-isolated', 'hidden');
    const author = messageAuthor(this.adapter, el);
    const hostMessageId =
      (this.adapter.messageIdAttribute && el.getAttribute(this.adapter.messageIdAttribute)) || undefined;
    const conversationId = this.adapter.conversationId(this.doc);
    const placed: Placed = { key, frames: [], notes: [] };
    this.placed.set(textEl, placed);
    if (!conversationId) return;
    const single = found.length === 1 && found[0]!.kind === 'envelope' ? found[0]! : undefined;
    if (single && single.kind === 'envelope' && single.frame[0] === KIND_CHUNK) {
      const c = parseChunk(single.frame);
      if (!('error' in c))
        return this.chunk(el, textEl, placed, c, raw.slice(single.start, single.end), {
          conversationId,
          author,
          hostMessageId,
        });
    }
    let anchor: Element = textEl;
    for (const f of found) {
      const frame = this.placeFrame(anchor, placed);
      anchor = frame.host;
      this.later(frame, { conversationId, author, hostMessageId, texts: [raw.slice(f.start, f.end)] }, textEl);
    }
  }

  /** A long message travels as chunks: the first part gets the reader once all parts are here. */
  private chunk(
    el: Element,
    textEl: Element,
    placed: Placed,
    c: { group: string; index: number; count: number },
    text: string,
    base: Omit<ReaderSpec, 'texts'>,
  ): void {
    let group = this.chunkGroups.get(c.group);
    if (!group) {
      // Bounded: a page inventing chunk groups must not grow this without end (oldest go first).
      if (this.chunkGroups.size >= MAX_CHUNK_GROUPS) this.chunkGroups.delete(this.chunkGroups.keys().next().value!);
      this.chunkGroups.set(c.group, (group = new Map()));
    }
    if (!group.has(c.index) && group.size >= c.count) return; // more parts than it claims: ignored
    group.set(c.index, { el, text, author: base.author });
    if (c.index > 0) this.note(textEl, t('isoReaderPartNote', c.index + 1, c.count), t('isoReaderPartDetail'), placed);
    const first = group.get(0);
    if (!first) return;
    const firstText = queryFirst(first.el, this.adapter.selectors.messageText);
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
    if (new Set([...group.values()].map((p) => p.author)).size > 1) {
      const bad = mixedAuthorsView();
      this.note(firstText, bad.label, bad.detail, firstPlaced);
      return;
    }
    const texts = [...group.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p.text);
    const frame = this.placeFrame(firstText, firstPlaced);
    this.later(
      frame,
      {
        ...base,
        texts,
        hostMessageId:
          (this.adapter.messageIdAttribute && first.el.getAttribute(this.adapter.messageIdAttribute)) ||
          base.hostMessageId,
      },
      firstText,
    );
  }

  private placeFrame(after: Element, placed: Placed): SecureFrame {
    const frame = createFrameElement(this.doc, 'reader');
    frame.host.style.height = '1.6em'; // until the frame reports its content height
    after.after(frame.host);
    placed.frames.push(frame);
    this.byHandle.set(frame.handle, frame);
    return frame;
  }

  private later(frame: SecureFrame, spec: ReaderSpec, textEl: Element): void {
    this.pending.set(frame.host, { frame, spec, textEl });
    this.io.observe(frame.host);
  }

  private async open(frame: SecureFrame, spec: ReaderSpec, textEl: Element): Promise<void> {
    if (!frame.host.isConnected) return;
    if (!(await loadFrame(frame, themeOf(textEl, false), spec))) {
      this.note(textEl, t('statusNotDecryptedLabel'), t('isoReaderOpenFailed'));
    }
  }

  /** Sets a reader's height as its frame reports it (sized to content). */
  resize(handle: string, height: number): boolean {
    const f = this.byHandle.get(handle);
    if (!f) return false;
    f.host.style.height = `${height}px`;
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
      this.io.unobserve(f.host);
      this.byHandle.delete(f.handle);
      f.host.remove();
    }
    for (const n of p.notes) n.remove();
    p.frames = [];
    p.notes = [];
  }

  /** Message elements under `root` (or containing it). */
  collect(target: Element, added: NodeList | undefined, into: Set<Element>): void {
    const msg = closestAny(target, this.adapter.selectors.message);
    if (msg) into.add(msg);
    const roots = added ? [...added].filter((n): n is Element => n instanceof Element) : [target];
    for (const root of roots) {
      for (const sel of this.adapter.selectors.message) {
        if (root.matches(sel)) into.add(root);
        for (const el of root.querySelectorAll(sel)) into.add(el);
      }
    }
  }
}
