/**
 * Quotes of encrypted messages, carried inside the new envelope (docs/wire-format.md, "quotes").
 *
 * A chat quotes what it has: the envelope of the message being quoted. Before sealing, the sender's
 * background replaces that envelope with its plaintext (keeping the chat's quote marker, such as
 * "> ", in front of every line) and records, sealed with the text, which message was quoted, a
 * digest of its text and where in the new text the quote sits. The vendor never sees the quoted
 * plaintext; the receiver checks the quote against the original it saw, so a key holder cannot put
 * words in someone else's mouth by quoting them.
 * Pure: no DOM, no browser APIs.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, utf8ToBytes } from '@noble/ciphers/utils.js';

export const MAX_QUOTES = 8;
/** The chat's quote marker in front of each quoted line ("> ", "│ "): short by nature. */
export const MAX_PREFIX_BYTES = 32;
const MESSAGE_ID_LEN = 16;
const DIGEST_LEN = 32;
const DIGEST_DOMAIN = utf8ToBytes('veil/v1/quote\u0000');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One quoted message inside a new message's text. Offsets count UTF-8 bytes of that text. */
export interface QuoteRef {
  messageId: Uint8Array;
  digest: Uint8Array;
  start: number;
  length: number;
  prefix: string;
  /** Who wrote the quoted message, as the sender's browser saw it ('' when it did not know). */
  author: string;
}

const MAX_AUTHOR_BYTES = 255;

/** What the receiver compares: a digest of the original message's whole text. */
export function quoteDigest(text: string): Uint8Array {
  return sha256(concatBytes(DIGEST_DOMAIN, utf8ToBytes(text)));
}

export function encodeQuotes(refs: QuoteRef[]): Uint8Array {
  if (refs.length < 1 || refs.length > MAX_QUOTES) throw new Error(`a message quotes 1 to ${MAX_QUOTES} messages`);
  const parts: Uint8Array[] = [Uint8Array.of(refs.length)];
  for (const ref of refs) {
    if (ref.messageId.length !== MESSAGE_ID_LEN) throw new Error('quote messageId must be 16 bytes');
    if (ref.digest.length !== DIGEST_LEN) throw new Error('quote digest must be 32 bytes');
    const prefix = utf8ToBytes(ref.prefix);
    if (prefix.length > MAX_PREFIX_BYTES) throw new Error(`quote prefix is longer than ${MAX_PREFIX_BYTES} bytes`);
    const author = utf8ToBytes(ref.author);
    if (author.length > MAX_AUTHOR_BYTES) throw new Error(`quote author is longer than ${MAX_AUTHOR_BYTES} bytes`);
    const offsets = new Uint8Array(8);
    const view = new DataView(offsets.buffer);
    view.setUint32(0, ref.start);
    view.setUint32(4, ref.length);
    parts.push(
      ref.messageId,
      ref.digest,
      offsets,
      Uint8Array.of(prefix.length),
      prefix,
      Uint8Array.of(author.length),
      author,
    );
  }
  return concatBytes(...parts);
}

/** Reads the quote field at `at`; `end` is where the text begins. */
export function decodeQuotes(bytes: Uint8Array, at: number): { refs: QuoteRef[]; end: number } | { error: string } {
  const count = bytes[at];
  if (count === undefined || count < 1 || count > MAX_QUOTES) return { error: 'quote field cut short or over-full' };
  const refs: QuoteRef[] = [];
  let p = at + 1;
  for (let i = 0; i < count; i++) {
    const fixed = MESSAGE_ID_LEN + DIGEST_LEN + 8 + 1;
    if (bytes.length < p + fixed) return { error: 'quote field cut short' };
    const view = new DataView(bytes.buffer, bytes.byteOffset + p + MESSAGE_ID_LEN + DIGEST_LEN, 8);
    const prefixLen = bytes[p + fixed - 1]!;
    const authorAt = p + fixed + prefixLen;
    const authorLen = bytes[authorAt];
    if (prefixLen > MAX_PREFIX_BYTES || authorLen === undefined || bytes.length < authorAt + 1 + authorLen)
      return { error: 'quote field cut short' };
    let prefix: string;
    let author: string;
    try {
      prefix = utf8.decode(bytes.subarray(p + fixed, authorAt));
      author = utf8.decode(bytes.subarray(authorAt + 1, authorAt + 1 + authorLen));
    } catch {
      return { error: 'invalid UTF-8 in quote field' };
    }
    refs.push({
      messageId: bytes.slice(p, p + MESSAGE_ID_LEN),
      digest: bytes.slice(p + MESSAGE_ID_LEN, p + MESSAGE_ID_LEN + DIGEST_LEN),
      start: view.getUint32(0),
      length: view.getUint32(4),
      prefix,
      author,
    });
    p = authorAt + 1 + authorLen;
  }
  return { refs, end: p };
}

/**
 * The original text a quote shows inside `text`, with the quote marker taken off every line after
 * the first; null when the span does not hold a quote in that form (a sender's inconsistency).
 */
export function quotedTextOf(text: string, ref: QuoteRef): string | null {
  const bytes = utf8ToBytes(text);
  if (ref.start + ref.length > bytes.length) return null;
  let span: string;
  try {
    span = utf8.decode(bytes.subarray(ref.start, ref.start + ref.length));
  } catch {
    return null;
  }
  const lines = span.split('\n');
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]!.startsWith(ref.prefix)) return null;
    lines[i] = lines[i]!.slice(ref.prefix.length);
  }
  return lines.join('\n');
}

/** True when the span of `text` that `ref` names is the text its digest covers. */
export function quoteConsistent(text: string, ref: QuoteRef): boolean {
  const quoted = quotedTextOf(text, ref);
  return quoted !== null && equalBytes(quoteDigest(quoted), ref.digest);
}

/** An envelope found in the text being sent, with the plaintext of the message it seals. */
export interface QuotedEnvelope {
  start: number; // UTF-16 offsets into the composer text, as findEnvelopes reports them
  end: number;
  messageId: Uint8Array;
  plaintext: string;
  /** Who wrote it, as this browser saw it ('' when not known). */
  author: string;
}

/** Lone UTF-16 surrogates become U+FFFD (as UTF-8 encoding makes them anyway), index for index. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` with lone surrogates as U+FFFD: what it reads as once encoded and decoded again. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * The composer text with each quoted envelope replaced by its plaintext, the chat's marker in
 * front of that line repeated in front of each further line, and the refs that say so.
 */
export function insertQuotes(composed: string, quoted: QuotedEnvelope[]): { text: string; refs: QuoteRef[] } {
  // Well-formed first: a lone surrogate on each side of an envelope would otherwise join into one
  // character around the quote once it is encoded, and shift every offset after it.
  const text = wellFormed(composed);
  const sorted = [...quoted].sort((a, b) => a.start - b.start).slice(0, MAX_QUOTES);
  const out: string[] = [];
  const refs: QuoteRef[] = [];
  let bytes = 0;
  let from = 0;
  const push = (s: string) => {
    out.push(s);
    bytes += utf8ToBytes(s).length;
  };
  for (const q of sorted) {
    if (q.start < from) continue; // overlapping finds: keep the first
    const lineStart = text.lastIndexOf('\n', q.start - 1) + 1;
    let prefix = text.slice(lineStart, q.start);
    if (utf8ToBytes(prefix).length > MAX_PREFIX_BYTES) prefix = '';
    push(text.slice(from, q.start));
    const shown = q.plaintext.split('\n').join('\n' + prefix);
    const start = bytes;
    push(shown);
    refs.push({
      messageId: q.messageId,
      digest: quoteDigest(q.plaintext),
      start,
      length: bytes - start,
      prefix,
      author: utf8ToBytes(wellFormed(q.author)).length <= MAX_AUTHOR_BYTES ? wellFormed(q.author) : '',
    });
    from = q.end;
  }
  push(text.slice(from));
  return { text: out.join(''), refs };
}
