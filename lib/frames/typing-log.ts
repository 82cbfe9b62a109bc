/**
 * Where in the secure composer each recent key landed, and when. Text the user typed while the
 * page's document had the keyboard (held by Veil, never given to the page) arrives a moment later,
 * key by key with each key's time; placing it by time rather than at the end keeps a fast
 * typist's words in order when focus moves between the page and the frame mid-word, even back
 * and forth. Bounded: only the latest keys count.
 */
import type { HeldTyping } from '../messaging/protocol';

const MAX_ENTRIES = 256;

interface Landed {
  at: number; // ms since the epoch: performance.timeOrigin + event.timeStamp, shared with the page
  position: number; // the caret before the key
}

export class TypingLog {
  private entries: Landed[] = [];

  constructor(private readonly win: { performance: { timeOrigin: number } }) {}

  record(e: { timeStamp: number }, position: number): void {
    this.entries.push({ at: this.win.performance.timeOrigin + e.timeStamp, position });
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  /**
   * `box` with the held keys put in: each where the caret was when the first key typed here after
   * it was pressed (at `caret` when none was). Held keys with no key typed here between them go
   * in together, in the order they were pressed. Returns the new text and where `caret` moved.
   */
  place(box: string, held: HeldTyping[], caret = box.length): { box: string; caret: number } {
    const sorted = [...held].sort((a, b) => a.at - b.at);
    for (let i = 0; i < sorted.length;) {
      const next = this.keyAfter(sorted[i]!.at);
      let text = '';
      for (; i < sorted.length && this.keyAfter(sorted[i]!.at) === next; i++) text += sorted[i]!.text;
      // Typed after every key here: where the user's caret is, as their next key here would go.
      let at = Math.min(next?.position ?? caret, box.length);
      // A remembered place can be stale after edits here: never between the two halves of an emoji.
      if (at > 0 && isLowSurrogate(box.charCodeAt(at)) && isHighSurrogate(box.charCodeAt(at - 1))) at++;
      box = box.slice(0, at) + text + box.slice(at);
      for (const l of this.entries) if (l.position >= at) l.position += text.length;
      // The user's caret stays where they were typing, moved on by what went in before it.
      if (at <= caret) caret += text.length;
    }
    return { box, caret };
  }

  private keyAfter(at: number): Landed | undefined {
    return this.entries.find((l) => l.at > at);
  }
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
