import { describe, expect, it } from 'vitest';
import { rangeGeometry } from '../../lib/page/isolated/reader-ranges';
import { cleanReaderLayout, isReaderHandOver, MAX_READER_SLOTS } from '../../lib/messaging/frame-types';

const T = 'A'.repeat(43);

describe('one reader frame for several messages: its box, places and clip', () => {
  it('spans the members from the anchor, each at its place, clipped to their boxes only', () => {
    const anchor = { top: 100, left: 50, width: 300, height: 40 };
    const g = rangeGeometry(anchor, [anchor, { top: 180, left: 60, width: 280, height: 60 }])!;
    expect(g.box).toEqual({ top: 0, left: 0, width: 300, height: 140 });
    expect(g.layout.slots).toEqual([
      { top: 0, left: 0, width: 300, height: 40 },
      { top: 80, left: 10, width: 280, height: 60 },
    ]);
    // The page's own content between the two (y 40 to 80) is outside the clip: clicks there are the page's.
    expect(g.clip).toBe("path('M0 0h300v40h-300ZM10 80h280v60h-280Z')");
  });

  it('reaches up and left of the anchor when the page lays members out there (a reversed list)', () => {
    const anchor = { top: 300, left: 40, width: 200, height: 40 };
    const g = rangeGeometry(anchor, [anchor, { top: 200, left: 20, width: 220, height: 40 }])!;
    expect(g.box).toEqual({ top: -100, left: -20, width: 220, height: 140 });
    expect(g.layout.slots).toEqual([
      { top: 100, left: 20, width: 200, height: 40 },
      { top: 0, left: 0, width: 220, height: 40 },
    ]);
  });

  it('leaves out members no longer shown, and shows nothing when none is', () => {
    const anchor = { top: 0, left: 0, width: 100, height: 20 };
    const g = rangeGeometry(anchor, [anchor, null, { top: 50, left: 0, width: 100, height: 20 }])!;
    expect(g.layout.slots[1]).toBeNull();
    expect(g.clip).toBe("path('M0 0h100v20h-100ZM0 50h100v20h-100Z')");
    expect(rangeGeometry(anchor, [null, null])).toBeUndefined();
  });
});

describe('what a reader frame accepts from its parent window', () => {
  it('a hand-over: one to MAX_READER_SLOTS well-formed tokens, an optional layout, nothing else', () => {
    expect(isReaderHandOver({ veilReaderTokens: [T] })).toBe(true);
    expect(isReaderHandOver({ veilReaderTokens: [T, T], layout: { slots: [null, null] } })).toBe(true);
    expect(isReaderHandOver({ veilReaderTokens: [] })).toBe(false);
    expect(isReaderHandOver({ veilReaderTokens: Array(MAX_READER_SLOTS + 1).fill(T) })).toBe(false);
    expect(isReaderHandOver({ veilReaderTokens: ['short'] })).toBe(false);
    expect(isReaderHandOver({ veilReaderTokens: [T], extra: 1 })).toBe(false);
    expect(isReaderHandOver({ veilFrameToken: T })).toBe(false);
    expect(isReaderHandOver('getText')).toBe(false);
  });

  it('places: one per message, finite, non-negative and bounded; anything else is ignored whole', () => {
    expect(cleanReaderLayout({ slots: [{ top: 1, left: 2, width: 3, height: 4 }, null] }, 2)).toEqual({
      slots: [{ top: 1, left: 2, width: 3, height: 4 }, null],
    });
    expect(cleanReaderLayout({ slots: [{ top: 1, left: 2, width: 3, height: 4 }] }, 2)).toBeUndefined();
    expect(cleanReaderLayout({ slots: [{ top: 1, left: 2, width: 3 }] }, 1)).toBeUndefined();
    expect(cleanReaderLayout({ slots: [{ top: -1, left: 0, width: 3, height: 4 }] }, 1)).toBeUndefined();
    expect(cleanReaderLayout({ slots: [{ top: NaN, left: 0, width: 3, height: 4 }] }, 1)).toBeUndefined();
    expect(cleanReaderLayout({ slots: [{ top: 1e9, left: 0, width: 3, height: 4 }] }, 1)).toBeUndefined();
    expect(cleanReaderLayout({ slots: [{ top: '1', left: 0, width: 3, height: 4 }] }, 1)).toBeUndefined();
    expect(cleanReaderLayout({ slots: 'x' }, 1)).toBeUndefined();
    expect(cleanReaderLayout(undefined, 1)).toBeUndefined();
  });
});
