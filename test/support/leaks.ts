/**
 * Finds plaintext where it must not be: every substring of `secret` of at least `min` characters
 * (by code point) that occurs in `haystack` outside Veil envelopes. test/unit/leaks.test.ts proves
 * it catches leaks.
 *
 * Envelope bodies are base58, so any short lowercase window ("iver", "ping") turns up in a few
 * kilobytes of ciphertext by chance; a match there is noise, not a leak, and would make the check
 * fail at random. Everything around the envelopes is still searched.
 */
const ENVELOPE_BODY = /VEIL\d[1-9A-HJ-NP-Za-km-z]+0?/g;

export function leakedSubstrings(haystack: string, secret: string, min = 4): string[] {
  const outside = haystack.replace(ENVELOPE_BODY, '\u0000');
  const chars = [...secret];
  const found = new Set<string>();
  for (let i = 0; i + min <= chars.length; i++) {
    const piece = chars.slice(i, i + min).join('');
    if (piece.trim().length < min) continue; // whitespace runs are not content
    if (outside.includes(piece)) found.add(piece);
  }
  return [...found];
}
