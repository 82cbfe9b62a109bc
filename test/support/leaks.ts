/**
 * Finds plaintext where it must not be: every substring of `secret` of at least `min` characters
 * (by code point) that occurs in `haystack`. test/unit/leaks.test.ts proves it catches leaks.
 */
export function leakedSubstrings(haystack: string, secret: string, min = 4): string[] {
  const chars = [...secret];
  const found = new Set<string>();
  for (let i = 0; i + min <= chars.length; i++) {
    const piece = chars.slice(i, i + min).join('');
    if (piece.trim().length < min) continue; // whitespace runs are not content
    if (haystack.includes(piece)) found.add(piece);
  }
  return [...found];
}
