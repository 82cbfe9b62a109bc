/**
 * Isolated mode's message reading: every envelope in the chat's message list gets a
 * secure reader frame next to it, created lazily when the message comes near the viewport. The
 * chat's own text element keeps exactly the envelope the chat rendered; Veil only hides it. The
 * content script never sees a decrypted word: the frame gets the message from the background.
 * Event-driven (MutationObserver, IntersectionObserver): an idle chat costs nothing.
 */
import type { SiteAdapter } from '../../adapters/types';
import { t } from '../../i18n';
import { mixedAuthorsView, NOT_ENCRYPTED_VIEW } from '../../i18n/status-text';
import type { ReaderSpec } from '../../messaging/frame-types';
import {
  ChunkGroups,
  collectMessages,
  hostIdOf,
  messageAuthor,
  messageTextOf,
  mixedAuthors,
  partTexts,
  scanText,
  type ChunkRef,
} from '../message-scan';
import { createFrameElement, loadFrame, themeOf, type SecureFrame } from './frame-host';

/** Hidden host text and Veil's placeholders; prefixed so the chat's own styles are untouched. */
export const READER_CSS = `
[data-veil-isolated="hidden"] { display: none !important; }
veil-secure-frame[data-kind="reader"] { display: block; min-height: 1.4em; width: 100%; }
.veil-isolated-note { font: italic 12px/1.6 system-ui, sans-serif; color: #5f6b7a; }
`;

interface Placed {
  key: string;
  frames: SecureFrame[];
  notes: HTMLElement[];
}

export class SecureReaders {
  private placed = new WeakMap<Element, Placed>();
  private byHandle = new Map<string, SecureFrame>();
  private pending = new WeakMap<Element, { frame: SecureFrame; spec: ReaderSpec; textEl: Element }>();
  private chunkGroups = new ChunkGroups();
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
    const textEl = messageTextOf(this.adapter, el);
    if (!textEl) return;
    const raw = textEl.textContent ?? '';
    const { envelopes, chunk } = scanText(raw);
    const key = envelopes.join('\n');
    const before = this.placed.get(textEl);
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
      if (this.flagUnencrypted && raw.trim()) this.note(textEl, NOT_ENCRYPTED_VIEW.label, NOT_ENCRYPTED_VIEW.detail);
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
    collectMessages(this.adapter, target, added, into);
  }
}
