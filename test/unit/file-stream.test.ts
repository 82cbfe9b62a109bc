/**
 * Encrypted files (lib/crypto/file-stream.ts): the published vectors, and what a vendor that
 * stores the sealed bytes can do to them: cut, reorder, splice two files, flip the final flag,
 * append after the end, swap headers. Every one must be refused, never yield other bytes.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from '@noble/ciphers/utils.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import vectorsFile from '../vectors/file-v1.json';
import { deriveKey, type DerivedKey } from '../../lib/crypto/envelope';
import { FileOpener, FileSealer, FileStreamError, openFile, sealFile } from '../../lib/crypto/file-stream';
import { encodeFileRef, parseFileRef } from '../../lib/crypto/file-ref';

const { vectors } = vectorsFile;
const ctx = { conversationId: 'dm-alice-bob', senderId: 'alice' };
const key = deriveKey({ id: hexToBytes('01020304'), secret: randomBytes(32) });
const keyFor = (k: DerivedKey) => (id: Uint8Array) => (bytesToHex(id) === bytesToHex(k.id) ? k : undefined);
const LOG2 = 6;
const CHUNK = 64;
const SEALED_CHUNK = CHUNK + 16;

function seal(plain: Uint8Array, opts: { fileKey?: Uint8Array; chunkLog2?: number } = {}) {
  return sealFile(key, plain, { name: 'a.bin', type: 'application/octet-stream' }, ctx, {
    sentAt: 1_790_000_000_000,
    fileId: randomBytes(16),
    fileKey: opts.fileKey ?? randomBytes(32),
    chunkLog2: opts.chunkLog2 ?? LOG2,
  }).sealed;
}

function headerLen(sealed: Uint8Array): number {
  return 29 + new DataView(sealed.buffer, sealed.byteOffset).getUint16(27);
}

function errorOf(sealed: Uint8Array, k = key, c = ctx): string {
  try {
    openFile(keyFor(k), sealed, c);
    return 'opened';
  } catch (e) {
    if (e instanceof FileStreamError) return e.code;
    throw e;
  }
}

describe('file format v1 vectors (test/vectors/file-v1.json)', () => {
  it.each(vectors)('$name: seals to the recorded bytes and digest', (v) => {
    const k = deriveKey({ id: hexToBytes(v.keyId), secret: hexToBytes(v.secret) });
    const { sealed, digest } = sealFile(k, hexToBytes(v.plain), { name: v.fileName, type: v.fileType }, v, {
      sentAt: v.sentAt,
      fileId: hexToBytes(v.fileId),
      fileKey: hexToBytes(v.fileKey),
      chunkLog2: v.chunkLog2,
    });
    expect(bytesToHex(sealed)).toBe(v.sealed);
    expect(bytesToHex(digest)).toBe(v.sha256);
    expect(bytesToHex(sha256(sealed))).toBe(v.sha256);
  });

  it.each(vectors)('$name: opens to the recorded contents, name and type; every flipped byte is refused', (v) => {
    const k = deriveKey({ id: hexToBytes(v.keyId), secret: hexToBytes(v.secret) });
    const r = openFile(keyFor(k), hexToBytes(v.sealed), v);
    expect(bytesToHex(r.plain)).toBe(v.plain);
    expect(r.header).toMatchObject({ name: v.fileName, type: v.fileType, size: v.plain.length / 2, sentAt: v.sentAt });
    expect(r.header.movedFromOtherConversation || r.header.senderMismatch).toBe(false);
    const sealed = hexToBytes(v.sealed);
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 0x01;
      expect(errorOf(bad, k, v), `byte ${i}`).not.toBe('opened');
    }
  });

  it('chunk i is ChaCha20-Poly1305 under HKDF(fileKey, fileId, info | SHA-256(header)), nonce = i | final', () => {
    const v = vectors.find((x) => x.name.startsWith('several'))!;
    const sealed = hexToBytes(v.sealed);
    const hl = headerLen(sealed);
    const info = concatBytes(new TextEncoder().encode('veil/v1/file-payload'), sha256(sealed.subarray(0, hl)));
    const pk = hkdf(sha256, hexToBytes(v.fileKey), hexToBytes(v.fileId), info, 32);
    const nonce = (i: number, final: number) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i, final);
    const plain = hexToBytes(v.plain);
    const c0 = chacha20poly1305(pk, nonce(0, 0)).decrypt(sealed.subarray(hl, hl + SEALED_CHUNK));
    expect(c0).toEqual(plain.subarray(0, 64));
    const last = chacha20poly1305(pk, nonce(3, 1)).decrypt(sealed.subarray(hl + 3 * SEALED_CHUNK));
    expect(last).toEqual(plain.subarray(192));
  });
});

describe('file stream: what the vendor can do to stored bytes', () => {
  const plain = randomBytes(5 * CHUNK + 10); // 6 chunks, the last short

  it('round-trips any size, including empty and exact multiples of the chunk size', () => {
    for (const n of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 1]) {
      const p = randomBytes(n);
      const r = openFile(keyFor(key), seal(p), ctx);
      expect(r.plain).toEqual(p);
    }
    // An empty file is one final chunk: just its tag.
    const empty = seal(new Uint8Array(0));
    expect(empty.length - headerLen(empty)).toBe(16);
    // An exact multiple ends with a full final chunk, not an extra empty one.
    const three = seal(randomBytes(3 * CHUNK));
    expect(three.length - headerLen(three)).toBe(3 * SEALED_CHUNK);
  });

  it('refuses truncation: at a chunk boundary, inside a chunk, inside the header, and to nothing', () => {
    const s = seal(plain);
    const hl = headerLen(s);
    expect(errorOf(s.subarray(0, hl + 2 * SEALED_CHUNK))).toBe('truncated');
    expect(errorOf(s.subarray(0, hl + 2 * SEALED_CHUNK + 7))).toBe('truncated');
    expect(errorOf(s.subarray(0, hl + 2 * SEALED_CHUNK + 20))).toBe('tampered'); // not a whole chunk: altered
    expect(errorOf(s.subarray(0, hl + 3))).toBe('truncated');
    expect(errorOf(s.subarray(0, hl))).toBe('truncated');
    expect(errorOf(s.subarray(0, 20))).toBe('truncated');
    // Exact multiple of the chunk size, cut after a whole chunk.
    const m = seal(randomBytes(3 * CHUNK));
    expect(errorOf(m.subarray(0, headerLen(m) + 2 * SEALED_CHUNK))).toBe('truncated');
  });

  it('refuses reordered and dropped chunks', () => {
    const s = seal(plain);
    const hl = headerLen(s);
    const chunk = (i: number) => s.subarray(hl + i * SEALED_CHUNK, hl + (i + 1) * SEALED_CHUNK);
    const swapped = concatBytes(s.subarray(0, hl), chunk(1), chunk(0), s.subarray(hl + 2 * SEALED_CHUNK));
    expect(errorOf(swapped)).toBe('tampered');
    const dropped = concatBytes(s.subarray(0, hl), chunk(0), s.subarray(hl + 2 * SEALED_CHUNK));
    expect(errorOf(dropped)).toBe('tampered');
    const duplicated = concatBytes(s.subarray(0, hl), chunk(0), s.subarray(hl + SEALED_CHUNK));
    expect(
      errorOf(concatBytes(duplicated.subarray(0, hl + SEALED_CHUNK), chunk(0), s.subarray(hl + SEALED_CHUNK))),
    ).toBe('tampered');
  });

  it('refuses a splice of two files, even under the same key and with the same file key', () => {
    const fileKey = randomBytes(32);
    const a = seal(plain, { fileKey });
    const b = seal(randomBytes(plain.length), { fileKey }); // same key, other file id: other payload key
    const hl = headerLen(a);
    expect(errorOf(concatBytes(a.subarray(0, hl + SEALED_CHUNK), b.subarray(hl + SEALED_CHUNK)))).toBe('tampered');
    // b's header in front of a's chunks (same sizes): the payload key depends on the header.
    expect(errorOf(concatBytes(b.subarray(0, hl), a.subarray(hl)))).toBe('tampered');
    // The last chunk of another file.
    expect(errorOf(concatBytes(a.subarray(0, hl + 5 * SEALED_CHUNK), b.subarray(hl + 5 * SEALED_CHUNK)))).toBe(
      'tampered',
    );
  });

  it('refuses a wrong final flag: a middle chunk presented as the last, and a final chunk with data after it', () => {
    const s = seal(plain);
    const hl = headerLen(s);
    // Cut after chunk 2 (which was sealed with final = 0): reported as cut short, never accepted.
    expect(errorOf(s.subarray(0, hl + 3 * SEALED_CHUNK))).toBe('truncated');
    // Extension after a full final chunk: named as such.
    const m = seal(randomBytes(3 * CHUNK));
    expect(errorOf(concatBytes(m, randomBytes(SEALED_CHUNK)))).toBe('trailing-data');
    expect(errorOf(concatBytes(m, randomBytes(3)))).toBe('trailing-data');
    expect(errorOf(concatBytes(m, m.subarray(headerLen(m))))).toBe('trailing-data');
    // After a short final chunk the boundaries shift: still refused.
    expect(errorOf(concatBytes(s, randomBytes(SEALED_CHUNK)))).toBe('tampered');
    expect(errorOf(concatBytes(s, randomBytes(3)))).toBe('tampered');
  });

  it('a wrong key is unknown, a moved file or another author is reported (authentic, but not from here)', () => {
    const s = seal(plain);
    const other = deriveKey({ id: hexToBytes('01020304'), secret: randomBytes(32) });
    expect(errorOf(s, other)).toBe('tampered');
    expect(() => openFile(() => undefined, s, ctx)).toThrow(/no key/);
    const moved = openFile(keyFor(key), s, { conversationId: 'ch-general', senderId: 'mallory' });
    expect(moved.header.movedFromOtherConversation).toBe(true);
    expect(moved.header.senderMismatch).toBe(true);
    expect(errorOf(new TextEncoder().encode('GIF89a not a veil file at all, no'))).toBe('malformed');
  });

  it('streams: any piece sizes in, the same bytes out; memory holds about two chunks', () => {
    const big = randomBytes(40 * CHUNK + 3);
    const sealer = new FileSealer(key, { name: 'x', type: '', size: big.length }, ctx, {
      sentAt: 0,
      fileId: randomBytes(16),
      fileKey: randomBytes(32),
      chunkLog2: LOG2,
    });
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < big.length; at += 37) pieces.push(...sealer.push(big.subarray(at, at + 37)));
    pieces.push(...sealer.finish());
    const sealed = concatBytes(...pieces);
    expect(sealer.digest()).toEqual(sha256(sealed));
    expect(sealer.sealedSize).toBe(sealed.length);
    const opener = new FileOpener(keyFor(key), ctx);
    const out: Uint8Array[] = [];
    for (let at = 0; at < sealed.length; at += 101) {
      const got = opener.push(sealed.subarray(at, at + 101));
      out.push(...got);
      for (const g of got) expect(g.length).toBeLessThanOrEqual(CHUNK);
    }
    out.push(...opener.finish());
    expect(concatBytes(...out)).toEqual(big);
    expect(opener.digest()).toEqual(sha256(sealed));
  });

  it('the sealer refuses a file that changes size while it is read', () => {
    const s = new FileSealer(key, { name: 'x', type: '', size: 10 }, ctx, {
      sentAt: 0,
      fileId: randomBytes(16),
      fileKey: randomBytes(32),
    });
    expect(() => s.push(randomBytes(11))).toThrow(FileStreamError);
    const t = new FileSealer(key, { name: 'x', type: '', size: 10 }, ctx, {
      sentAt: 0,
      fileId: randomBytes(16),
      fileKey: randomBytes(32),
    });
    t.push(randomBytes(9));
    expect(() => t.finish()).toThrow(FileStreamError);
  });
});

describe('file references in message text (lib/crypto/file-ref.ts)', () => {
  const ref = {
    id: 'ab'.repeat(16),
    sha256: 'cd'.repeat(32),
    sealedSize: 200,
    name: 'a "b".png',
    type: 'image/png',
    size: 100,
  };
  it('round-trips, and anything else is ordinary text', () => {
    expect(parseFileRef(encodeFileRef(ref))).toEqual(ref);
    expect(parseFileRef('hello')).toBeUndefined();
    expect(parseFileRef('veil-file/1 {"id":"x"}')).toBeUndefined();
    expect(parseFileRef('veil-file/1 not json')).toBeUndefined();
    expect(parseFileRef(encodeFileRef({ ...ref, size: -1 }))).toBeUndefined();
  });
});
