/** Envelopes outside the message list (previews, title) become a neutral label (lib/page/previews.ts). */
import { describe, expect, it } from 'vitest';
import { encodeEnvelopeText } from '../../lib/crypto/codec';
import { maskEnvelopes } from '../../lib/page/previews';

const envelope = encodeEnvelopeText(new Uint8Array(60).fill(7));
const LABEL = '🔒 Encrypted message';

describe('maskEnvelopes', () => {
  it('replaces each envelope, also one cut short by the page, and keeps the text around it', () => {
    expect(maskEnvelopes(`(2) alice: ${envelope} — Fixture Chat`, LABEL)).toBe(`(2) alice: ${LABEL} — Fixture Chat`);
    expect(maskEnvelopes(`You: ${envelope} and ${envelope}`, LABEL)).toBe(`You: ${LABEL} and ${LABEL}`);
    const cut = envelope.slice(0, 30) + '…';
    expect(maskEnvelopes(cut, LABEL)).not.toContain('VEIL1');
  });

  it('leaves text without envelopes as it is', () => {
    expect(maskEnvelopes('VEIL is a word; lunch at noon?', LABEL)).toBe('VEIL is a word; lunch at noon?');
  });

  it('shows a decrypted preview where one is known, the label elsewhere', () => {
    const other = encodeEnvelopeText(new Uint8Array(60).fill(9));
    const known = new Map([[envelope, 'lunch at noon <b>?</b>']]);
    expect(maskEnvelopes(`(2) alice: ${envelope} · ${other}`, LABEL, known)).toBe(
      `(2) alice: lunch at noon <b>?</b> · ${LABEL}`,
    );
  });
});
