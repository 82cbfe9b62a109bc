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

/** The draft's test vector A.3.1: a platform that does not open it exactly is not used. */
const VECTOR_TEXT =
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
const VECTOR_SEALED =
  'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39' +
  'ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3ff' +
  'f921f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49';

/** Whether this Node's OpenSSL opens the draft's test vector (A.3.1) as it should (FIPS builds lack ChaCha20). */
let platformWorks: boolean | undefined;
function platformOpensVector(): boolean {
  if (platformWorks !== undefined) return platformWorks;
  const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  try {
    const open = opener(hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'));
    const got = open(
      hex('404142434445464748494a4b4c4d4e4f5051525354555657'),
      hex('50515253c0c1c2c3c4c5c6c7'),
      hex(VECTOR_SEALED),
    );
    platformWorks = Buffer.from(got).toString('latin1') === VECTOR_TEXT;
  } catch {
    platformWorks = false;
  }
  return platformWorks;
}

/**
 * An opener for one 32-byte key; undefined where it would not be exact, and callers then keep
 * noble's: a big-endian machine (the word views below would read bytes in the other order), or a
 * Node whose OpenSSL lacks ChaCha20-Poly1305 or does not open the draft's vector (every message
 * would otherwise read as tampered).
 */
export function nativeXChaChaOpener(key: Uint8Array): AeadOpen | undefined {
  if (!LITTLE_ENDIAN || key.length !== 32 || !platformOpensVector()) return undefined;
  return opener(key);
}

function opener(key: Uint8Array): AeadOpen {
  const k32 = new Uint32Array(key.slice().buffer);
  const sub32 = new Uint32Array(8);
  const sub = new Uint8Array(sub32.buffer);
  const n32 = new Uint32Array(4);
  const n8 = new Uint8Array(n32.buffer);
  return (nonce24, aad, sealed) => {
    if (nonce24.length !== 24) throw new Error('nonce must be 24 bytes');
    if (sealed.length < TAG) throw new Error('ciphertext shorter than its tag');
    try {
      n8.set(nonce24.subarray(0, 16));
      hchacha(SIGMA, k32, n32, sub32);
      const nonce12 = new Uint8Array(12);
      nonce12.set(nonce24.subarray(16), 4);
      const d = createDecipheriv('chacha20-poly1305', sub, nonce12, { authTagLength: TAG });
      d.setAAD(aad, { plaintextLength: sealed.length - TAG });
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      const head = d.update(sealed.subarray(0, sealed.length - TAG));
      const tail = d.final(); // throws on a wrong tag: nothing of `head` is returned then
      if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length); // a plain view, as noble's
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    } finally {
      sub32.fill(0); // the message's subkey, whether it opened or not
    }
  };
}
