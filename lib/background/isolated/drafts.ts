/**
 * Unsent text of isolated mode's secure composers, by tab, box kind and conversation. Background
 * only, in memory only (never written anywhere: a worker restart forgets it).
 *
 * A secure composer lives as long as the chat's box it covers. A chat re-renders its compose box
 * (switching away and back, a framework update) and closes reply boxes; the page can also remove a
 * box on purpose. The frame then goes, and with it what the user typed. Each composer keeps its
 * text here as the user types, and the next composer for the same box of the same conversation in
 * the same tab starts with it. Edit boxes keep none: an edit belongs to one message.
 * Files attached in a composer and not sent yet are kept the same way (their references; the chat
 * already holds their sealed uploads, waiting for the next message).
 */
import type { FileRef } from '../../crypto/file-ref';
import type { ComposerFrameKind } from '../../messaging/frame-types';
import { MAX_FILES_PER_MESSAGE } from '../../messaging/protocol';

/** One composer's worth: more than anyone types before sending. */
export const MAX_DRAFT_CHARS = 64_000;
/** Drafts kept at once (oldest out first); a tab has a few boxes, a browser a few chat tabs. */
export const MAX_DRAFTS = 32;
/** Older than this, a draft is not offered back. */
const DRAFT_TTL_MS = 60 * 60_000;
/** Files kept per box: one message's worth. */
export const MAX_DRAFT_FILES = MAX_FILES_PER_MESSAGE;

export interface Draft {
  text: string;
  files: FileRef[];
}

export interface DraftPlace {
  tabId: number;
  kind: ComposerFrameKind;
  conversationId: string;
}

export class Drafts {
  private byPlace = new Map<string, Draft & { at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  private key(p: DraftPlace): string {
    return `${p.tabId}\u0000${p.kind}\u0000${p.conversationId}`;
  }

  /** Keeps (or, for nothing typed and nothing attached, forgets) the unsent text and files of a box. */
  keep(p: DraftPlace, text: string, files: FileRef[] = []): void {
    if (p.kind === 'edit') return;
    const k = this.key(p);
    this.byPlace.delete(k);
    if (!text.trim() && !files.length) return;
    this.byPlace.set(k, {
      text: text.slice(0, MAX_DRAFT_CHARS),
      files: files.slice(0, MAX_DRAFT_FILES),
      at: this.now(),
    });
    if (this.byPlace.size > MAX_DRAFTS) this.byPlace.delete(this.byPlace.keys().next().value!);
  }

  /** Hands the unsent text and files of a box to the composer now covering it (once: that one keeps them from now on). */
  take(p: DraftPlace): Draft | undefined {
    const k = this.key(p);
    const d = this.byPlace.get(k);
    this.byPlace.delete(k);
    return d && this.now() - d.at < DRAFT_TTL_MS ? { text: d.text, files: d.files } : undefined;
  }

  /** The tab closed: its drafts go. */
  dropTab(tabId: number): void {
    for (const k of [...this.byPlace.keys()]) if (k.startsWith(`${tabId}\u0000`)) this.byPlace.delete(k);
  }

  get size(): number {
    return this.byPlace.size;
  }
}
