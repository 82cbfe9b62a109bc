/**
 * The archive's platform XChaCha20-Poly1305 (scripts/archive-aead.ts) opens exactly what
 * @noble/ciphers seals: the draft-irtf-cfrg-xchacha-03 test vector (A.3.1), random keys, nonces,
 * associated data and lengths against noble, and every tampering noble refuses.
 */
import { describe, expect, it } from 'vitest';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hexToBytes, randomBytes, utf8ToBytes } from '@noble/ciphers/utils.js';
import { deriveKey, openMessage, sealMessage } from '../../lib/crypto/envelope';
import { nativeXChaChaOpener } from '../../scripts/archive-aead';

const open = (key: Uint8Array) => {
  const o = nativeXChaChaOpener(key);
  if (!o) throw new Error('no platform opener on this machine');
  return o;
};

describe('platform XChaCha20-Poly1305 opener', () => {
  it('opens the draft-irtf-cfrg-xchacha A.3.1 vector', () => {
    const key = hexToBytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hexToBytes('404142434445464748494a4b4c4d4e4f5051525354555657');
    const aad = hexToBytes('50515253c0c1c2c3c4c5c6c7');
    const sealed = hexToBytes(
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39' +
        'ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3ff' +
        'f921f9664c97637da9768812f615c68b13b52e' +
        'c0875924c1c7987947deafd8780acf49',
    );
    const text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    expect(new TextDecoder().decode(open(key)(nonce, aad, sealed))).toBe(text);
    expect(xchacha20poly1305(key, nonce, aad).encrypt(utf8ToBytes(text))).toEqual(sealed);
  });

  it('opens what noble seals, for any length, and yields a plain Uint8Array', () => {
    for (const len of [0, 1, 15, 16, 63, 64, 65, 1000, 65_000]) {
      const key = randomBytes(32);
      const nonce = randomBytes(24);
      const aad = randomBytes(len % 40);
      const plain = randomBytes(len);
      const got = open(key)(nonce, aad, xchacha20poly1305(key, nonce, aad).encrypt(plain));
      expect(got).toEqual(plain);
      expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
    }
  });

  it('refuses whatever noble refuses: any flipped bit, other associated data or nonce, a cut tag', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const aad = randomBytes(21);
    const sealed = xchacha20poly1305(key, nonce, aad).encrypt(randomBytes(100));
    const o = open(key);
    for (const at of [0, 50, 99, 100, 115]) {
      const bad = sealed.slice();
      bad[at]! ^= 1;
      expect(() => o(nonce, aad, bad)).toThrow();
      expect(() => xchacha20poly1305(key, nonce, aad).decrypt(bad)).toThrow();
    }
    const otherAad = aad.slice();
    otherAad[0]! ^= 0x80;
    expect(() => o(nonce, otherAad, sealed)).toThrow();
    const otherNonce = nonce.slice();
    otherNonce[23]! ^= 1; // the part that is not in the subkey
    expect(() => o(otherNonce, aad, sealed)).toThrow();
    expect(() => o(nonce, aad, sealed.subarray(0, 10))).toThrow();
    expect(() => o(nonce.subarray(0, 12), aad, sealed)).toThrow();
  });

  it('one opener opens message after message, each under its own nonce, and refuses a changed subkey nonce byte', () => {
    const key = randomBytes(32);
    const o = open(key);
    for (let i = 0; i < 50; i++) {
      const nonce = randomBytes(24);
      const aad = randomBytes(5);
      const plain = randomBytes(i * 7);
      const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plain);
      expect(o(nonce, aad, sealed)).toEqual(plain);
      const other = nonce.slice();
      other[i % 16]! ^= 1 << (i % 8); // a byte that goes into HChaCha20's subkey
      expect(() => o(other, aad, sealed)).toThrow();
    }
  });

  it('is what openMessage uses when a key carries it, with the same verdicts', () => {
    const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
    const ctx = { conversationId: 'ch-x', senderId: 'alice' };
    const frame = sealMessage(key, 'héllo 👋', ctx, { sentAt: 1_700_000_000_000, nonce: randomBytes(16) });
    const withNative = { ...key, open: open(key.enc) };
    expect(openMessage(withNative, frame, ctx)).toEqual(openMessage(key, frame, ctx));
    const bad = frame.slice();
    bad[frame.length - 1]! ^= 1;
    expect(openMessage(withNative, bad, ctx)).toEqual({ status: 'tampered' });
  });

  it('an opener inherited from a polluted Object.prototype is never used', () => {
    const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
    const ctx = { conversationId: 'ch-x', senderId: 'alice' };
    const bad = sealMessage(key, 'hello', ctx, { sentAt: 1_700_000_000_000, nonce: randomBytes(16) });
    bad[bad.length - 1]! ^= 1;
    const proto = Object.prototype as { open?: unknown };
    proto.open = () => new Uint8Array(40); // "authentic", whatever it is given
    try {
      expect(openMessage(key, bad, ctx)).toEqual({ status: 'tampered' });
    } finally {
      delete proto.open;
    }
  });
});
