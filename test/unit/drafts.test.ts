/** Unsent text of secure composers (lib/background/isolated/drafts.ts): kept per box, bounded, handed over once. */
import { describe, expect, it } from 'vitest';
import { Drafts, MAX_DRAFT_CHARS, MAX_DRAFT_FILES, MAX_DRAFTS } from '../../lib/background/isolated/drafts';

const main = { tabId: 1, kind: 'main' as const, conversationId: 'dm-a-b' };

describe('secure composer drafts', () => {
  it("hand a box's unsent text to the next composer of that box, once", () => {
    const d = new Drafts();
    d.keep(main, 'half a sentence');
    expect(d.take({ ...main, conversationId: 'dm-a-c' })).toBeUndefined(); // another conversation
    expect(d.take({ ...main, tabId: 2 })).toBeUndefined(); // another tab
    expect(d.take({ ...main, kind: 'thread' })).toBeUndefined(); // another box
    expect(d.take(main)).toEqual({ text: 'half a sentence', files: [] });
    expect(d.take(main)).toBeUndefined();
  });

  it('forget an emptied box, keep nothing for edits, and forget a closed tab', () => {
    const d = new Drafts();
    d.keep(main, 'typed');
    d.keep(main, '  ');
    expect(d.take(main)).toBeUndefined();
    d.keep({ ...main, kind: 'edit' }, 'an edit in progress');
    expect(d.size).toBe(0);
    d.keep(main, 'typed');
    d.dropTab(1);
    expect(d.take(main)).toBeUndefined();
  });

  it('are bounded in number, size and age', () => {
    const now = { t: 0 };
    const d = new Drafts(() => now.t);
    for (let i = 0; i < MAX_DRAFTS + 10; i++) d.keep({ ...main, tabId: i }, `draft ${i}`);
    expect(d.size).toBe(MAX_DRAFTS);
    expect(d.take({ ...main, tabId: 0 })).toBeUndefined(); // the oldest went first
    d.keep(main, 'x'.repeat(MAX_DRAFT_CHARS + 5));
    expect(d.take(main)!.text.length).toBe(MAX_DRAFT_CHARS);
    d.keep(main, 'stale');
    now.t += 2 * 60 * 60_000;
    expect(d.take(main)).toBeUndefined();
  });

  it('keep files attached and not sent, with or without text, bounded in number', () => {
    const d = new Drafts();
    const ref = {
      id: 'a'.repeat(32),
      sha256: 'b'.repeat(64),
      sealedSize: 90,
      name: 'a.pdf',
      type: 'application/pdf',
      size: 50,
    };
    d.keep(main, '', [ref]);
    expect(d.take(main)).toEqual({ text: '', files: [ref] });
    d.keep(
      main,
      'x',
      Array.from({ length: MAX_DRAFT_FILES + 3 }, () => ref),
    );
    expect(d.take(main)!.files).toHaveLength(MAX_DRAFT_FILES);
  });
});
