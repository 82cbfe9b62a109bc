/**
 * Unsent text of isolated mode's secure composers, by tab, box kind and conversation. Background
 * only, in memory only (never written anywhere: a worker restart forgets it).
 *
 * A secure composer lives as long as the chat's box it covers. A chat re-renders its compose box
 * (switching away and back, a framework update) and closes reply boxes; the page can also remove a
 * box on purpose. The frame then goes, and with it what the user typed. Each composer keeps its
 * text here as the user types, and the next composer for the same box of the same conversation in
 * the same tab starts with it. Edit boxes keep none: an edit belongs to one message.
 */
import type { ComposerFrameKind } from '../../messaging/frame-types';

/** One composer's worth: more than anyone types before sending. */
export const MAX_DRAFT_CHARS = 64_000;
/** Drafts kept at once (oldest out first); a tab has a few boxes, a browser a few chat tabs. */
export const MAX_DRAFTS = 32;
/** Older than this, a draft is not offered back. */
const DRAFT_TTL_MS = 60 * 60_000;

export interface DraftPlace {
  tabId: number;
  kind: ComposerFrameKind;
  conversationId: string;
}

export class Drafts {
  private byPlace = new Map<string, { text: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  private key(p: DraftPlace): string {
    return `${p.tabId}\u0000${p.kind}\u0000${p.conversationId}`;
  }

  /** Keeps (or, for empty text, forgets) the unsent text of a box. */
  keep(p: DraftPlace, text: string): void {
    if (p.kind === 'edit') return;
    const k = this.key(p);
    this.byPlace.delete(k);
    if (!text.trim()) return;
    this.byPlace.set(k, { text: text.slice(0, MAX_DRAFT_CHARS), at: this.now() });
    if (this.byPlace.size > MAX_DRAFTS) this.byPlace.delete(this.byPlace.keys().next().value!);
  }

  /** Hands the unsent text of a box to the composer now covering it (once: that one keeps it from now on). */
  take(p: DraftPlace): string | undefined {
    const k = this.key(p);
    const d = this.byPlace.get(k);
    this.byPlace.delete(k);
    return d && this.now() - d.at < DRAFT_TTL_MS ? d.text : undefined;
  }

  /** The tab closed: its drafts go. */
  dropTab(tabId: number): void {
    for (const k of [...this.byPlace.keys()]) if (k.startsWith(`${tabId}\u0000`)) this.byPlace.delete(k);
  }

  get size(): number {
    return this.byPlace.size;
  }
}
