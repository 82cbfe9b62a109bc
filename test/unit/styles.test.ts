/** Veil's stylesheet draws every badge's words: a page can neither stand in for it nor remove it for good. */
import { describe, expect, it } from 'vitest';
import { parseHTML } from 'linkedom';
import { injectStyles, VEIL_CSS } from '../../lib/page/styles';

const ours = (doc: Document) => [...doc.querySelectorAll('style')].filter((s) => s.textContent === VEIL_CSS);

describe("Veil's stylesheet in the chat's page", () => {
  it('is added even where the page planted an element with its id, and comes back after the page removes it', () => {
    const doc = parseHTML('<html><head><i id="veil-styles" hidden></i></head><body></body></html>')
      .document as unknown as Document;
    injectStyles(doc);
    expect(ours(doc)).toHaveLength(1);
    injectStyles(doc); // called after every batch of changes: once is enough
    expect(ours(doc)).toHaveLength(1);
    ours(doc)[0]!.remove();
    injectStyles(doc);
    expect(ours(doc)).toHaveLength(1);
  });
});
