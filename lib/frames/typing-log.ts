/**
 * Where in the secure composer each recent key landed, and when. Text the user typed while the
 * page's document had the keyboard (held by Veil, never given to the page) arrives a moment later
 * with the time of its first key; placing it by time rather than at the end keeps a fast typist's
 * words in order when focus moves into the frame mid-word. Bounded: only the latest keys count.
 */
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

  /** The caret before the first key typed here after `at`; undefined when none was (then: the end). */
  positionAt(at: number): number | undefined {
    return this.entries.find((l) => l.at > at)?.position;
  }

  /** `length` characters were inserted at `position`: later positions move with them. */
  shift(position: number, length: number): void {
    for (const l of this.entries) if (l.position >= position) l.position += length;
  }
}
