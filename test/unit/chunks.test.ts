import { describe, expect, it } from 'vitest';
import { randomBytes } from '@noble/ciphers/utils.js';
import { findEnvelopes } from '../../lib/crypto/codec';
import { MessageTooLongError, parseChunk, toEnvelopeTexts } from '../../lib/crypto/chunks';
import { assembleFrame } from '../../lib/background/decrypt';

const frameOf = (t: string) => (findEnvelopes(t)[0] as { frame: Uint8Array }).frame;

describe('transport chunking', () => {
  it('keeps a message that fits as one envelope', () => {
    const f = randomBytes(100);
    expect(toEnvelopeTexts(f, 1000, randomBytes(4))).toHaveLength(1);
  });

  it('splits long frames into envelopes that each fit, and reassembles them in any order', () => {
    for (const limit of [64, 100, 350, 4000]) {
      const f = randomBytes(5000);
      const texts = toEnvelopeTexts(f, limit, randomBytes(4));
      expect(texts.length).toBeGreaterThan(1);
      for (const t of texts) expect(t.length).toBeLessThanOrEqual(limit);
      const shuffled = [...texts].reverse();
      const r = assembleFrame(shuffled);
      expect(r).toEqual({ frame: f });
      // Every part names its group, index and count (what the renderer groups by on the page).
      expect(shuffled.map((t) => (parseChunk(frameOf(t)) as { index: number }).index).sort((x, y) => x - y)).toEqual(
        texts.map((_, i) => i),
      );
    }
  });

  it('reports missing and foreign chunks instead of guessing', () => {
    const texts = toEnvelopeTexts(randomBytes(900), 200, randomBytes(4));
    expect(assembleFrame(texts.slice(1))).toMatchObject({ reason: expect.stringContaining('incomplete') });
    const other = toEnvelopeTexts(randomBytes(900), 200, randomBytes(4));
    expect(assembleFrame([texts[0]!, ...other.slice(1)])).toMatchObject({ reason: 'chunks of different messages' });
  });

  it('refuses instead of truncating when the adapter forbids chunks or 255 parts are not enough', () => {
    expect(() => toEnvelopeTexts(randomBytes(500), 200, randomBytes(4), false)).toThrow(MessageTooLongError);
    expect(() => toEnvelopeTexts(new Uint8Array(100_000), 64, randomBytes(4))).toThrow(MessageTooLongError);
  });
});
