/**
 * XChaCha20-Poly1305 decryption for bulk use in Node (`admin archive decrypt`): the construction of
 * draft-irtf-cfrg-xchacha (section 2.3), HChaCha20 from @noble/ciphers for the subkey and OpenSSL's
 * ChaCha20-Poly1305 (node:crypto) for the rest. It opens exactly what @noble/ciphers'
 * xchacha20poly1305 opens (test/unit/archive-aead.test.ts checks both against the draft's vector and
 * each other); it exists because noble's per-call setup, not the cipher, is most of the cost of a
 * short message, and an archive opens millions of them.
 */
import { createDecipheriv } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';

/** "expand 32-byte k", the ChaCha constant HChaCha20 starts from (RFC 8439 section 2.3). */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const TAG = 16;

export type AeadOpen = (nonce24: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array;

/**
 * An opener for one 32-byte key; undefined where it would not be exact (a big-endian machine, on
 * which the word views below would read bytes in the other order): callers then keep noble's.
 */
export function nativeXChaChaOpener(key: Uint8Array): AeadOpen | undefined {
  if (!LITTLE_ENDIAN || key.length !== 32) return undefined;
  const k32 = new Uint32Array(key.slice().buffer);
  const sub32 = new Uint32Array(8);
  const sub = new Uint8Array(sub32.buffer);
  const n32 = new Uint32Array(4);
  const n8 = new Uint8Array(n32.buffer);
  return (nonce24, aad, sealed) => {
    if (nonce24.length !== 24) throw new Error('nonce must be 24 bytes');
    if (sealed.length < TAG) throw new Error('ciphertext shorter than its tag');
    n8.set(nonce24.subarray(0, 16));
    hchacha(SIGMA, k32, n32, sub32);
    const nonce12 = new Uint8Array(12);
    nonce12.set(nonce24.subarray(16), 4);
    const d = createDecipheriv('chacha20-poly1305', sub, nonce12, { authTagLength: TAG });
    d.setAAD(aad, { plaintextLength: sealed.length - TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const head = d.update(sealed.subarray(0, sealed.length - TAG));
    const tail = d.final(); // throws on a wrong tag: nothing of `head` is returned then
    sub32.fill(0);
    if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length); // a plain view, as noble's
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  };
}
