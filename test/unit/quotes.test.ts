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
      { start: 2, end: 2 + ENV.length, messageId: ID_A, plaintext: 'line one\nزوج 二' },
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
      { start: second, end: second + ENV.length, messageId: ID_B, plaintext: 'b1\nb2' },
      { start: 0, end: ENV.length, messageId: ID_A, plaintext: 'a' },
    ]);
    // The second quote's line starts with more than a marker: its further lines get none.
    expect(out).toBe(`a and ${'x'.repeat(40)}b1\nb2!`);
    expect(refs.map((r) => r.prefix)).toEqual(['', '']);
    expect(refs.every((r) => quoteConsistent(out, r))).toBe(true);
  });

  it('a sender that shows other words than the digest covers is caught by the receiver', () => {
    const { text, refs } = insertQuotes(`> ${ENV}\nok`, [
      { start: 2, end: 2 + ENV.length, messageId: ID_A, plaintext: 'I do not approve' },
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
      { messageId: ID_A, digest: quoteDigest('a'), start: 0, length: 1, prefix: '> ' },
      { messageId: ID_B, digest: quoteDigest('b'), start: 5, length: 70_000, prefix: '' },
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
      { start: 2, end: 2 + ENV.length, messageId: ID_A, plaintext: 'secret plan' },
    ]);
    const frame = sealMessage(key, text, ctx, { sentAt: 0, nonce: new Uint8Array(16), quotes: refs });
    expect(Buffer.from(frame).includes(Buffer.from('secret plan'))).toBe(false);
    expect(openMessage(key, frame, ctx)).toMatchObject({ status: 'decrypted', text, quotes: refs });
  });
});

describe('judging quotes against what this browser saw', () => {
  const original = (messageId: string, text: string): DecryptedItem => ({
    id: messageId,
    status: 'decrypted',
    messageId,
    text,
  });
  const reply = (quotedId: string, quotedText: string, quote: DecryptedItem['quote'] = 'unseen'): DecryptedItem => ({
    id: 'r',
    status: 'decrypted',
    messageId: 'ff'.repeat(16),
    text: 'ok',
    quote,
    quotedMessages: [{ messageId: quotedId, digest: bytesToHex(quoteDigest(quotedText)) }],
  });

  it('verified when the original is in the same batch, in either order', () => {
    const a = 'aa'.repeat(16);
    for (const order of ['reply first', 'original first']) {
      const book = new QuoteBook();
      const r = reply(a, 'the plan');
      const batch = order === 'reply first' ? [r, original(a, 'the plan')] : [original(a, 'the plan'), r];
      judgeQuotes(book, 'c1', batch);
      expect(r.quote, order).toBe('verified');
      expect(r.quotedMessages).toBeUndefined();
    }
  });

  it('mismatch when the original says something else; unseen when it was never shown', () => {
    const book = new QuoteBook();
    const a = 'aa'.repeat(16);
    judgeQuotes(book, 'c1', [original(a, 'I do not approve')]);
    const lie = reply(a, 'I do approve');
    const elsewhere = reply(a, 'I do not approve');
    const unknown = reply('bb'.repeat(16), 'anything');
    judgeQuotes(book, 'c1', [lie, unknown]);
    judgeQuotes(book, 'c2', [elsewhere]); // the same message id in another conversation is not the original
    expect([lie.quote, unknown.quote, elsewhere.quote]).toEqual(['mismatch', 'unseen', 'unseen']);
    // A sender's own inconsistency (decryptFrame's verdict) stays a mismatch.
    const inconsistent = reply(a, 'I do not approve', 'mismatch');
    judgeQuotes(book, 'c1', [inconsistent]);
    expect(inconsistent.quote).toBe('mismatch');
  });

  it('moved or re-attributed messages are not originals; the book is bounded', () => {
    const book = new QuoteBook(3);
    const a = 'aa'.repeat(16);
    judgeQuotes(book, 'c1', [{ ...original(a, 'moved here'), movedFromOtherConversation: true }]);
    expect(book.digestOf('c1', a)).toBeUndefined();
    for (let i = 0; i < 10; i++) judgeQuotes(book, 'c1', [original(String(i).repeat(32), `m${i}`)]);
    expect(book.size).toBe(3);
    expect(book.digestOf('c1', '9'.repeat(32))).toBeDefined();
    expect(book.digestOf('c1', '0'.repeat(32))).toBeUndefined();
  });

  it('the vector reply quotes what its digest says', () => {
    const v = vectorsFile.vectors.find((x) => 'quotes' in x)!;
    const [ref] = (v as unknown as { quotes: { digest: string; start: number; length: number; prefix: string }[] })
      .quotes;
    const r = { ...ref!, messageId: new Uint8Array(16), digest: hexToBytes(ref!.digest) };
    expect(quotedTextOf(v.text, r)).toBe('first line\nsecond 行');
    expect(quoteConsistent(v.text, r)).toBe(true);
  });
});
