import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '@noble/ciphers/utils.js';
import vectorsFile from '../vectors/envelope-v1.json';
import { encodeEnvelopeText, findEnvelopes } from '../../lib/crypto/codec';
import { deriveKey, openMessage, parseHeader, sealMessage, verifySignature } from '../../lib/crypto/envelope';
import { ed25519 } from '@noble/curves/ed25519.js';

const { vectors } = vectorsFile;

function open(frame: Uint8Array, v: (typeof vectors)[number]) {
  const key = deriveKey({ id: hexToBytes(v.keyId), secret: hexToBytes(v.secret) });
  const header = parseHeader(frame);
  if ('error' in header) return { status: 'malformed' as const };
  // A flipped key id byte names a key the receiver does not have.
  if (bytesToHex(header.keyId) !== v.keyId) return { status: 'unknown-key' as const };
  return openMessage(key, frame, v);
}

/** A vector's edit field, as sealMessage takes it. */
function editOf(v: (typeof vectors)[number]) {
  const e = 'editOf' in v ? (v.editOf as { messageId: string; hostId: string }) : undefined;
  return e && { messageId: hexToBytes(e.messageId), hostId: e.hostId };
}

/** A vector's quote field, as sealMessage takes it. */
function quotesOf(v: (typeof vectors)[number]) {
  const q =
    'quotes' in v
      ? (v.quotes as {
          messageId: string;
          digest: string;
          start: number;
          length: number;
          prefix: string;
          author: string;
        }[])
      : undefined;
  return q?.map((x) => ({ ...x, messageId: hexToBytes(x.messageId), digest: hexToBytes(x.digest) }));
}

describe('wire format v1 vectors (test/vectors/envelope-v1.json)', () => {
  it.each(vectors)('$name: seals to the recorded frame and envelope', (v) => {
    const key = deriveKey({ id: hexToBytes(v.keyId), secret: hexToBytes(v.secret) });
    const signingKey = 'signingKey' in v ? hexToBytes(v.signingKey as string) : undefined;
    const edit = editOf(v);
    const frame = sealMessage(key, v.text, v, {
      sentAt: v.sentAt,
      nonce: hexToBytes(v.nonce),
      signingKey,
      editOf: edit,
      quotes: quotesOf(v),
    });
    expect(bytesToHex(frame)).toBe(v.frame);
    expect(encodeEnvelopeText(frame)).toBe(v.envelope);
  });

  it.each(vectors)('$name: opens to the recorded text and context', (v) => {
    const [found] = findEnvelopes(v.envelope);
    expect(found?.kind).toBe('envelope');
    const r = open((found as { frame: Uint8Array }).frame, v);
    expect(r).toMatchObject({
      status: 'decrypted',
      text: v.text,
      sentAt: v.sentAt,
      movedFromOtherConversation: false,
      senderMismatch: false,
    });
    expect(r.status === 'decrypted' ? r.editOf : 'not decrypted').toEqual(editOf(v));
    expect(r.status === 'decrypted' ? r.quotes : 'not decrypted').toEqual(quotesOf(v));
  });

  it('an edit names the message it replaces inside the sealed part, under the signature', () => {
    const v = vectors.find((x) => 'editOf' in x && 'publicKey' in x)!;
    const r = open(hexToBytes(v.frame), v);
    if (r.status !== 'decrypted' || !r.signature) throw new Error('expected a signed edit');
    expect(r.editOf?.hostId).toBe('msg-编号-42');
    expect(verifySignature(r.signature, hexToBytes((v as { publicKey: string }).publicKey))).toBe(true);
    // The edit field is not readable from outside: the envelope text holds no trace of the host id.
    expect(v.frame).not.toContain(Buffer.from('m7').toString('hex'));
    // A plain message and an edit differ in the flags, which only the key holder sees.
    const plain = open(hexToBytes(vectors[0]!.frame), vectors[0]!);
    expect(plain.status === 'decrypted' && plain.editOf).toBeUndefined();
  });

  it('an edit with empty text round-trips; a host id over 255 bytes is refused', () => {
    const key = deriveKey({ id: new Uint8Array(4).fill(1), secret: new Uint8Array(32).fill(2) });
    const ctx = { conversationId: 'c', senderId: 's' };
    const edit = { messageId: new Uint8Array(16), hostId: 'm1' };
    const frame = sealMessage(key, '', ctx, { sentAt: 0, nonce: new Uint8Array(16), editOf: edit });
    expect(openMessage(key, frame, ctx)).toMatchObject({ status: 'decrypted', text: '', editOf: edit });
    expect(() =>
      sealMessage(key, 'x', ctx, {
        sentAt: 0,
        nonce: new Uint8Array(16),
        editOf: { ...edit, hostId: 'x'.repeat(256) },
      }),
    ).toThrow(/255 bytes/);
  });

  it.each(vectors)('$name: every single flipped byte is detected', (v) => {
    const frame = hexToBytes(v.frame);
    for (let i = 0; i < frame.length; i++) {
      const bad = frame.slice();
      bad[i]! ^= 0x01;
      const r = open(bad, v);
      expect(r.status, `byte ${i}`).not.toBe('decrypted');
    }
  });

  it("signed vectors verify against the sender's public key only, and only in their context", () => {
    const v = vectors.find((x) => 'publicKey' in x)!;
    const pub = hexToBytes((v as { publicKey: string }).publicKey);
    const r = open(hexToBytes(v.frame), v);
    if (r.status !== 'decrypted' || !r.signature) throw new Error('expected a signed frame');
    expect(verifySignature(r.signature, pub)).toBe(true);
    expect(verifySignature(r.signature, ed25519.getPublicKey(new Uint8Array(32).fill(9)))).toBe(false);
    const elsewhere = open(hexToBytes(v.frame), { ...v, senderId: 'mallory' });
    if (elsewhere.status !== 'decrypted' || !elsewhere.signature) throw new Error('expected a signed frame');
    expect(verifySignature(elsewhere.signature, pub)).toBe(false);
    const unsigned = open(hexToBytes(vectors[0]!.frame), vectors[0]!);
    expect(unsigned.status === 'decrypted' && unsigned.signature).toBeFalsy();
  });

  it('a 2-character message costs at most 80 characters of overhead', () => {
    const v = vectors[0]!;
    const overhead = v.envelope.length - v.text.length;
    const signed = vectors.find((x) => 'publicKey' in x)!;
    console.log(
      `envelope overhead for a 2-character message: ${overhead} characters (${v.envelope.length} total); ` +
        `signed: ${signed.envelope.length - signed.text.length} characters`,
    );
    expect(overhead).toBeLessThanOrEqual(80);
  });

  it('binds conversation and sender: moved or re-attributed messages are flagged', () => {
    const v = vectors[0]!;
    const frame = hexToBytes(v.frame);
    expect(open(frame, { ...v, conversationId: 'dm-alice-carol' })).toMatchObject({
      status: 'decrypted',
      movedFromOtherConversation: true,
      senderMismatch: false,
    });
    expect(open(frame, { ...v, senderId: 'mallory' })).toMatchObject({
      status: 'decrypted',
      movedFromOtherConversation: false,
      senderMismatch: true,
    });
  });

  it('rejects frames under a different key as tampered, never garbage', () => {
    const v = vectors[0]!;
    const other = deriveKey({ id: hexToBytes(v.keyId), secret: new Uint8Array(32).fill(7) });
    expect(openMessage(other, hexToBytes(v.frame), v)).toEqual({ status: 'tampered' });
  });
});
