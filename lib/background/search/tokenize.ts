/**
 * Turning message text into search terms, the same way for what is indexed and what is asked:
 * case folded, diacritics removed (café = cafe, İ = i, ß = ss), Arabic tatweel dropped, emoji
 * kept as terms (skin tones and variation selectors folded away), and scripts written without
 * spaces (Chinese, Japanese, Korean, Thai…) cut into single characters and overlapping bigrams,
 * the usual choice for CJK full-text search (Lucene's CJKBigramFilter, SQLite's trigram kin).
 * Right-to-left text needs nothing special: it is stored and matched in logical order.
 * Pure; background only (the popup gets highlighted snippets, never the index).
 */

/** Scripts with no spaces between words: indexed as unigrams and bigrams. */
const UNSPACED =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const TERM =
  /(\p{Extended_Pictographic}(?:\u200d\p{Extended_Pictographic})*)|([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\u30fc]+)|([\p{L}\p{N}]+)/gu;
/** Longest word term kept (a base64 blob is not worth indexing whole). */
const MAX_TERM = 48;
/** Japanese voicing marks change the word: kept, unlike Latin accents. */
const KEEP_MARKS = /[\u3099\u309a]/u;

/** Dropped when folding: combining marks (accents, Arabic harakat), tatweel, variation selectors, skin tones. */
function dropped(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if (KEEP_MARKS.test(c)) return false;
  return /\p{M}/u.test(c) || cp === 0x640 || cp === 0xfe0e || cp === 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff);
}

/** The folded form of one code point (may be empty: a combining accent, a variation selector). */
function foldChar(ch: string): string {
  let s = ch.normalize('NFKD');
  s = [...s].filter((c) => !dropped(c)).join('');
  return s.toLowerCase().replace(/ß/g, 'ss').replace(/ς/g, 'σ').normalize('NFC');
}

/**
 * `text` folded, with where each folded UTF-16 unit came from in `text` (for highlighting the
 * original). Folding is per code point, so a decomposed accent folds like a precomposed one.
 */
export function foldWithMap(text: string): { folded: string; from: number[] } {
  let folded = '';
  const from: number[] = [];
  let at = 0;
  for (const ch of text) {
    const f = foldChar(ch);
    for (let i = 0; i < f.length; i++) from.push(at);
    folded += f;
    at += ch.length;
  }
  from.push(at);
  return { folded, from };
}

export const fold = (text: string): string => foldWithMap(text).folded;

/**
 * The pieces of folded text a query must find: words, emoji, and runs of unspaced script whole
 * (the index narrows by their bigrams; the run itself is then checked in the decrypted text).
 */
export function phrases(text: string): string[] {
  const out: string[] = [];
  for (const m of fold(text).matchAll(TERM)) out.push(m[2] ?? (m[1] ?? m[3]!).slice(0, MAX_TERM));
  return out;
}

/** The distinct index terms of `text`. */
export function terms(text: string): string[] {
  const out = new Set<string>();
  for (const p of phrases(text)) {
    if (!UNSPACED.test(p)) {
      out.add(p);
      continue;
    }
    const chars = [...p];
    for (let i = 0; i < chars.length; i++) {
      out.add(chars[i]!);
      if (i + 1 < chars.length) out.add(chars[i]! + chars[i + 1]!);
    }
  }
  return [...out];
}

/** What a query looks up: for an unspaced run, its bigrams (or the one character) narrow enough. */
export function queryTerms(query: string): string[] {
  const out = new Set<string>();
  for (const p of phrases(query)) {
    const chars = [...p];
    if (!UNSPACED.test(p) || chars.length === 1) out.add(p);
    else for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  }
  return [...out];
}

export interface SnippetPart {
  text: string;
  hit: boolean;
}

/**
 * A window of `text` around its first match of the query's phrases, cut into plain and matched
 * parts (the popup writes each with textContent). Undefined when some phrase is not in `text`.
 */
export function snippet(text: string, query: string, around = 60): SnippetPart[] | undefined {
  const { folded, from } = foldWithMap(text);
  const ranges: [number, number][] = [];
  for (const p of phrases(query)) {
    let i = folded.indexOf(p);
    if (i < 0) return undefined;
    for (; i >= 0; i = folded.indexOf(p, i + p.length)) ranges.push([from[i]!, from[i + p.length]!]);
  }
  if (ranges.length === 0) return undefined;
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([...r]);
  }
  const start = Math.max(0, merged[0]![0] - around);
  const end = Math.min(text.length, merged[0]![1] + around * 2);
  const parts: SnippetPart[] = [];
  let at = start;
  const push = (a: number, b: number, hit: boolean) => {
    if (b > a) parts.push({ text: text.slice(a, b), hit });
  };
  for (const [a, b] of merged) {
    if (a >= end) break;
    push(at, Math.max(at, a), false);
    push(Math.max(at, a), Math.min(b, end), true);
    at = Math.min(b, end);
  }
  push(at, end, false);
  if (start > 0) parts.unshift({ text: '…', hit: false });
  if (end < text.length) parts.push({ text: '…', hit: false });
  return parts;
}
