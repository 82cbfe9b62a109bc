/**
 * Wraps a group key to a browser's device public key with HPKE (RFC 9180, base mode, single-shot),
 * as /v1/keys/release specifies: X-Wing (X25519 + ML-KEM-768) by default so a recorded release
 * stays closed to a future quantum computer, or X25519.
 */
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { XWing } from '@hpke/hybridkem-x-wing';
import { base64urlnopad } from '@scure/base';

export type Kem = 'x-wing' | 'x25519';
export const KEMS: Kem[] = ['x-wing', 'x25519'];
export const SUITE_NAMES: Record<Kem, string> = {
  'x-wing': 'x-wing/hkdf-sha256/chacha20poly1305',
  x25519: 'x25519/hkdf-sha256/chacha20poly1305',
};
export const PUBLIC_KEY_LENGTH: Record<Kem, number> = { 'x-wing': 1216, x25519: 32 };
export const RELEASE_INFO = 'veil/key-release/v1';

const suites = new Map<Kem, CipherSuite>();
export function suiteFor(kem: Kem): CipherSuite {
  let s = suites.get(kem);
  if (!s) {
    s = new CipherSuite({
      kem: kem === 'x-wing' ? new XWing() : new DhkemX25519HkdfSha256(),
      kdf: new HkdfSha256(),
      aead: new Chacha20Poly1305(),
    });
    suites.set(kem, s);
  }
  return s;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const ab = (u: Uint8Array) => u.slice().buffer as ArrayBuffer;

export const releaseAad = (subject: string, id: string, group: string) => utf8(`${subject}\n${id}\n${group}`);

/** Parses a device public key (base64url, padding tolerated); throws on a wrong size or encoding. */
export async function devicePublicKey(kem: Kem, b64: string): Promise<CryptoKey> {
  const raw = base64urlnopad.decode(stripPadding(b64));
  if (raw.length !== PUBLIC_KEY_LENGTH[kem]) throw new Error(`a ${kem} public key has ${PUBLIC_KEY_LENGTH[kem]} bytes`);
  return suiteFor(kem).kem.deserializePublicKey(ab(raw));
}

export async function sealKey(
  kem: Kem,
  recipient: CryptoKey,
  secret: Uint8Array,
  aad: Uint8Array,
): Promise<{ suite: string; enc: string; ct: string }> {
  const { ct, enc } = await suiteFor(kem).seal(
    { recipientPublicKey: recipient, info: ab(utf8(RELEASE_INFO)) },
    ab(secret),
    ab(aad),
  );
  return {
    suite: SUITE_NAMES[kem],
    enc: base64urlnopad.encode(new Uint8Array(enc)),
    ct: base64urlnopad.encode(new Uint8Array(ct)),
  };
}

/** Base64 padding off the end, without a regular expression a long run of '=' could stall. */
export function stripPadding(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  return s.slice(0, end);
}
