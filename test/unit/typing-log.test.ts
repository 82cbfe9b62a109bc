/**
 * Text held from the page's document while focus moved into the secure composer is placed by the
 * time of its keys: a fast typist's "Huckleberry" must not arrive as "Hucklbeerry" when the "e"
 * reached the page a moment before focus moved and the "b" went straight into the frame.
 */
import { describe, expect, it } from 'vitest';
import { TypingLog } from '../../lib/frames/typing-log';

/** The secure composer's insertion on a plain string. */
function place(box: string, log: TypingLog, runs: { text: string; at: number }[]): string {
  return log.place(box, runs).box;
}

/** Types `keys` into a box at times `start`, `start + 1`, …; returns the box. */
function typeInto(log: TypingLog, box: string, keys: string, start: number): string {
  [...keys].forEach((k, i) => {
    log.record({ timeStamp: start + i }, box.length);
    box += k;
  });
  return box;
}

describe('typing held from the page goes where it was typed', () => {
  const win = { performance: { timeOrigin: 1_000_000 } };

  it('puts a key held during the focus move before the keys typed into the frame after it', () => {
    const log = new TypingLog(win);
    const box = typeInto(log, '', 'berry', 10); // "b" at 10: after the held "Huckle"
    expect(place(box, log, [{ text: 'Huckle', at: 1_000_000 + 4 }])).toBe('Huckleberry');
  });

  it('places several held runs between the keys typed here', () => {
    const log = new TypingLog(win);
    let box = typeInto(log, '', 'ck', 10); // "H" at 5 and "u" at 8 held, "ck" at 10-11,
    box = typeInto(log, box, 'berry', 20); // "le" at 15 held, "berry" at 20-24
    const held = [
      { text: 'le', at: 1_000_015 },
      { text: 'Hu', at: 1_000_005 },
    ];
    expect(place(box, log, held)).toBe('Huckleberry');
  });

  it('appends text held after the last key typed here, and everything when nothing was typed here', () => {
    const log = new TypingLog(win);
    const box = typeInto(log, '', 'Roger', 10);
    expect(place(box, log, [{ text: ' that', at: 1_000_050 }])).toBe('Roger that');
    expect(place('', new TypingLog(win), [{ text: 'Roger', at: 1 }])).toBe('Roger');
  });

  it('puts held keys on both sides of a key typed here around it', () => {
    const log = new TypingLog(win);
    let box = typeInto(log, '', 'e', 6); // "Huckl" at 1-5 held, "e" at 6 here, "b" at 7 held again
    box = typeInto(log, box, 'erry', 10);
    const held = [...'Huckl'].map((k, i) => ({ text: k, at: 1_000_001 + i }));
    expect(place(box, log, [...held, { text: 'b', at: 1_000_007 }])).toBe('Huckleberry');
  });

  it("keeps the user's caret where they were typing, and puts later held keys there", () => {
    const log = new TypingLog(win);
    const box = typeInto(log, '', 'I will pay', 10);
    // The caret after "will" (6); "not " was typed into the page after every key here.
    expect(log.place(box, [{ text: ' not', at: 1_000_050 }], 6)).toEqual({ box: 'I will not pay', caret: 10 });
  });

  it('never puts held text between the two halves of an emoji', () => {
    const log = new TypingLog(win);
    log.record({ timeStamp: 10 }, 2); // a stale place: inside "😀" (two UTF-16 units)
    const { box } = log.place('a😀', [{ text: 'X', at: 1_000_005 }]);
    expect(box).toBe('a😀X');
    expect(box.isWellFormed()).toBe(true);
  });

  it('keeps only the latest keys', () => {
    const log = new TypingLog(win);
    const box = typeInto(log, '', 'x'.repeat(1000), 0);
    // A run older than every remembered key goes before the oldest one remembered, never lost.
    expect(place(box, log, [{ text: 'HELD', at: 1_000_000 - 1 }])).toHaveLength(1004);
  });
});
