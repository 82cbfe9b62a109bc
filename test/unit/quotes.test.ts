import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '@noble/ciphers/utils.js';
import {
  decodeQuotes,
  encodeQuotes,
  insertQuotes,
  MAX_QUOTES,
  quoteConsistent,
  quoteDigest,
  quotedTextOf,
} from '../../lib/crypto/quotes';
import { deriveKey, openMessage, sealMessage } from '../../lib/crypto/envelope';
import { judgeQuotes, QuoteBook } from '../../lib/background/quote-book';
import type { DecryptedItem } from '../../lib/messaging/protocol';
import vectorsFile from '../vectors/envelope-v1.json';

const ID_A = new Uint8Array(16).fill(0xa1);
const ID_B = new Uint8Array(16).fill(0xb2);
const ENV = 'VEIL1envelopeofthequotedmessage0';

describe('quotes inside the envelope', () => {
  it('puts the plaintext where the envelope was, with the quote marker on every line', () => {
    const text = `> ${ENV}\n\nagreed 👍`;
    const { text: out, refs } = insertQuotes(text, [
      { start: 2, end: 2 + ENV.length, messageId: ID_A, plaintext: 'line one\nزوج 二', author: 'alice' },
    ]);
    expect(out).toBe('> line one\n> زوج 二\n\nagreed 👍');
    expect(refs).toHaveLength(1);
    expect(refs[0]!.prefix).toBe('> ');
    expect(quotedTextOf(out, refs[0]!)).toBe('line one\nزوج 二');
    expect(quoteConsistent(out, refs[0]!)).toBe(true);
  });

  it('handles two quotes, an envelope at the very start and a long line prefix', () => {
    const text = `${ENV} and ${'x'.repeat(40)}${ENV}!`;
    const second = text.lastIndexOf(ENV);
    const { text: out, refs } = insertQuotes(text, [
      { start: second, end: second + ENV.length, messageId: ID_B, plaintext: 'b1\nb2', author: 'alice' },
      { start: 0, end: ENV.length, messageId: ID_A, plaintext: 'a', author: 'alice' },
    ]);
    // The second quote's line starts with more than a marker: its further lines get none.
    expect(out).toBe(`a and ${'x'.repeat(40)}b1\nb2!`);
    expect(refs.map((r) => r.prefix)).toEqual(['', '']);
    expect(refs.every((r) => quoteConsistent(out, r))).toBe(true);
  });

  it('a sender that shows other words than the digest covers is caught by the receiver', () => {
    const { text, refs } = insertQuotes(`> ${ENV}\nok`, [
      { start: 2, end: 2 + ENV.length, messageId: ID_A, plaintext: 'I do not approve', author: 'alice' },
    ]);
    const forged = text.replace('I do not approve', 'I do approve!!!!');
    expect(forged.length).toBe(text.length);
    expect(quoteConsistent(forged, refs[0]!)).toBe(false);
    // A span past the end, a cut UTF-8 character, or a line without the marker: not a quote.
    expect(quotedTextOf('short', { ...refs[0]!, start: 3, length: 10 })).toBeNull();
    expect(quotedTextOf('é', { ...refs[0]!, start: 0, length: 1 })).toBeNull();
    expect(quotedTextOf('> a\nb', { ...refs[0]!, start: 2, length: 3 })).toBeNull();
  });

  it('encodes and decodes the field, and refuses cut-short or over-full ones', () => {
    const refs = [
      { messageId: ID_A, digest: quoteDigest('a'), start: 0, length: 1, prefix: '> ', author: 'alice' },
      { messageId: ID_B, digest: quoteDigest('b'), start: 5, length: 70_000, prefix: '', author: '' },
    ];
    const bytes = encodeQuotes(refs);
    const back = decodeQuotes(bytes, 0);
    expect(back).toEqual({ refs, end: bytes.length });
    for (let cut = 0; cut < bytes.length; cut++)
      expect(decodeQuotes(bytes.subarray(0, cut), 0)).toHaveProperty('error');
    expect(decodeQuotes(Uint8Array.of(0), 0)).toHaveProperty('error');
    expect(decodeQuotes(Uint8Array.of(MAX_QUOTES + 1), 0)).toHaveProperty('error');
    expect(() => encodeQuotes([])).toThrow();
    expect(() => encodeQuotes([{ ...refs[0]!, prefix: '>'.repeat(33) }])).toThrow(/32 bytes/);
  });

  it('travels sealed: the quoted text and its reference are inside the ciphertext', () => {
    const key = deriveKey({ id: new Uint8Array(4).fill(1), secret: new Uint8Array(32).fill(2) });
    const ctx = { conversationId: 'dm', senderId: 'bob' };
    const { text, refs } = insertQuotes(`> ${ENV}\n\nyes`, [
      { start: 2, end: 2 + ENV.length, messageId: ID_A, plaintext: 'secret plan', author: 'alice' },
    ]);
    const frame = sealMessage(key, text, ctx, { sentAt: 0, nonce: new Uint8Array(16), quotes: refs });
    expect(Buffer.from(frame).includes(Buffer.from('secret plan'))).toBe(false);
    expect(openMessage(key, frame, ctx)).toMatchObject({ status: 'decrypted', text, quotes: refs });
  });
});

describe('judging quotes against what this browser saw', () => {
  const INLINE = 'inline:fixture-chat' as const;
  const shown = (messageId: string, text: string, author = 'alice', more: Partial<DecryptedItem> = {}) => ({
    item: { author },
    result: { id: messageId, status: 'decrypted', messageId, text, ...more } as DecryptedItem,
  });
  const reply = (quotedId: string, quotedText: string, author = 'alice', quote: DecryptedItem['quote'] = 'unseen') =>
    shown('ff'.repeat(16), 'ok', 'bob', {
      quote,
      quotedMessages: [{ messageId: quotedId, digest: bytesToHex(quoteDigest(quotedText)), author }],
    });
  const a = 'aa'.repeat(16);

  it('verified when the original is in the same batch, in either order, naming its author', () => {
    for (const order of ['reply first', 'original first']) {
      const book = new QuoteBook();
      const r = reply(a, 'the plan');
      const batch = order === 'reply first' ? [r, shown(a, 'the plan')] : [shown(a, 'the plan'), r];
      judgeQuotes(book, INLINE, 'c1', batch);
      expect(r.result.quote, order).toBe('verified');
      expect(r.result.quotedAuthors).toEqual(['alice']);
      expect(r.result.quotedMessages).toBeUndefined();
    }
  });

  it('mismatch when the original says something else or is by someone else; unseen when never shown here', () => {
    const book = new QuoteBook();
    judgeQuotes(book, INLINE, 'c1', [shown(a, 'I do not approve')]);
    const lie = reply(a, 'I do approve');
    const otherAuthor = reply(a, 'I do not approve', 'carol');
    const unknown = reply('bb'.repeat(16), 'anything');
    judgeQuotes(book, INLINE, 'c1', [lie, otherAuthor, unknown]);
    expect([lie.result.quote, otherAuthor.result.quote, unknown.result.quote]).toEqual([
      'mismatch',
      'mismatch',
      'unseen',
    ]);
    // Another conversation, another site, or the same chat in isolated mode: not the original.
    for (const [place, conv] of [
      [INLINE, 'c2'],
      ['inline:thelounge', 'c1'],
      ['isolated:fixture-chat', 'c1'],
    ] as const) {
      const r = reply(a, 'I do not approve');
      judgeQuotes(book, place, conv, [r]);
      expect(r.result.quote, `${place} ${conv}`).toBe('unseen');
    }
    // A sender's own inconsistency (decryptFrame's verdict) stays a mismatch.
    const inconsistent = reply(a, 'I do not approve', 'alice', 'mismatch');
    judgeQuotes(book, INLINE, 'c1', [inconsistent]);
    expect(inconsistent.result.quote).toBe('mismatch');
  });

  it('an insider reusing the original id cannot make a misquote verify nor an honest quote fail', () => {
    const book = new QuoteBook();
    // alice's M, then mallory's X under M's id (flagged as replayed, or not: a page may hide that).
    const m = shown(a, 'I decline');
    const x = shown(a, 'I agree to pay', 'mallory');
    const flagged = shown(a, 'I agree to pay', 'alice', { replayed: true });
    const q = reply(a, 'I agree to pay');
    const honest = reply(a, 'I decline');
    judgeQuotes(book, INLINE, 'c1', [m, flagged, x, q, honest]);
    expect(q.result.quote).not.toBe('verified');
    expect(honest.result.quote).not.toBe('mismatch');
    // Flagged messages never become originals.
    const book2 = new QuoteBook();
    judgeQuotes(book2, INLINE, 'c1', [shown(a, 'forged', 'alice', { signature: { state: 'failed' } })]);
    expect(book2.original(INLINE, 'c1', a)).toBeUndefined();
  });

  it('the book is bounded, and long texts are kept as digests', () => {
    const book = new QuoteBook(8);
    for (let i = 0; i < 50; i++) judgeQuotes(book, INLINE, 'c1', [shown(String(i % 10).repeat(31) + 'x', `m${i}`)]);
    expect(book.size).toBeLessThanOrEqual(8);
    const long = 'w'.repeat(100_000);
    judgeQuotes(book, INLINE, 'c1', [shown(a, long)]);
    const r = reply(a, long);
    judgeQuotes(book, INLINE, 'c1', [r]);
    expect(r.result.quote).toBe('verified');
  });

  it('lone surrogates around a quoted envelope do not shift the quote', () => {
    const text = `\uD83D> ${ENV}\uDE00`;
    const { text: out, refs } = insertQuotes(text, [
      { start: 3, end: 3 + ENV.length, messageId: ID_A, plaintext: '', author: 'alice' },
    ]);
    expect(quoteConsistent(new TextDecoder().decode(new TextEncoder().encode(out)), refs[0]!)).toBe(true);
  });

  it('the vector reply quotes what its digest says', () => {
    const v = vectorsFile.vectors.find((x) => 'quotes' in x)!;
    const [ref] = (v as unknown as { quotes: { digest: string; start: number; length: number; prefix: string }[] })
      .quotes;
    const r = { ...ref!, messageId: new Uint8Array(16), digest: hexToBytes(ref!.digest), author: 'alice' };
    expect(quotedTextOf(v.text, r)).toBe('first line\nsecond 行');
    expect(quoteConsistent(v.text, r)).toBe(true);
  });
});
