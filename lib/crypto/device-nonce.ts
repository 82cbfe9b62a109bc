/**
 * The OpenID Connect `nonce` with which Veil signs in commits to the browser's device key: the
 * identity provider signs it into the ID token, so the key service can tell that this sign-in
 * was made for this device and release keys wrapped to that device only (a replayed token with
 * another device key gets nothing). The random salt keeps the nonce unpredictable, as a nonce must
 * be. Pure; used by the extension's background and by the key service.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';

export function deviceNonce(devicePublicKey: string, salt: string): string {
  return base64urlnopad.encode(sha256(new TextEncoder().encode(`veil-device-v1\n${devicePublicKey}\n${salt}`)));
}
