/**
 * Key material at rest. Every secret in IndexedDB is sealed with the *device key*: an AES-GCM key
 * made by WebCrypto as non-extractable, so no script (not even Veil's own pages) can read it out,
 * and the profile's database files never hold a raw secret. With the optional passphrase lock, a
 * second, inner layer uses a key derived from the passphrase (scrypt), which is held only in
 * memory while Veil is unlocked. docs/decisions/0002-keys-at-rest.md says what each layer buys.
 * Background only.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes, utf8ToBytes } from '@noble/ciphers/utils.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';

export interface WrappedSecret {
  iv: Uint8Array; // AES-GCM, 12 bytes
  ct: Uint8Array;
  /** Inner passphrase layer: nonce of the XChaCha20-Poly1305 seal, when the keyring is locked by a passphrase. */
  lockNonce?: Uint8Array;
}

export interface LockParams {
  salt: Uint8Array;
  N: number;
  /** A known text sealed under the passphrase key: tells a wrong passphrase from a right one. */
  checkNonce: Uint8Array;
  check: Uint8Array;
}

const LOCK_CHECK = utf8ToBytes('veil passphrase check v1');
export const LOCK_KDF_N = 2 ** 16;

export class LockedError extends Error {
  constructor() {
    super("Veil is locked. Unlock it with your passphrase in Veil's options to send and read.");
  }
}

export function createDeviceKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]) as Promise<CryptoKey>;
}

const aad = (id: string) => buf(utf8ToBytes(`veil/key/${id}`));
/** WebCrypto's types want ArrayBuffer-backed views; noble's are. */
const buf = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;

export async function wrapSecret(
  device: CryptoKey,
  id: string,
  secret: Uint8Array,
  lockKey?: Uint8Array,
): Promise<WrappedSecret> {
  let inner = secret;
  let lockNonce: Uint8Array | undefined;
  if (lockKey) {
    lockNonce = randomBytes(24);
    inner = xchacha20poly1305(lockKey, lockNonce, aad(id)).encrypt(secret);
  }
  const iv = randomBytes(12);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: buf(iv), additionalData: aad(id) }, device, buf(inner)),
  );
  return lockNonce ? { iv, ct, lockNonce } : { iv, ct };
}

export async function unwrapSecret(
  device: CryptoKey,
  id: string,
  w: WrappedSecret,
  lockKey?: Uint8Array,
): Promise<Uint8Array> {
  const inner = new Uint8Array(
    await crypto.subtle.decrypt({ name: 'AES-GCM', iv: buf(w.iv), additionalData: aad(id) }, device, buf(w.ct)),
  );
  if (!w.lockNonce) return inner;
  if (!lockKey) throw new LockedError();
  return xchacha20poly1305(lockKey, w.lockNonce, aad(id)).decrypt(inner);
}

export async function deriveLockKey(passphrase: string, salt: Uint8Array, N: number): Promise<Uint8Array> {
  return scryptAsync(passphrase.normalize('NFKC'), salt, { N, r: 8, p: 1, dkLen: 32, maxmem: 2 ** 30 });
}

export async function newLock(passphrase: string): Promise<{ params: LockParams; key: Uint8Array }> {
  const salt = randomBytes(16);
  const key = await deriveLockKey(passphrase, salt, LOCK_KDF_N);
  const checkNonce = randomBytes(24);
  return {
    key,
    params: { salt, N: LOCK_KDF_N, checkNonce, check: xchacha20poly1305(key, checkNonce).encrypt(LOCK_CHECK) },
  };
}

/** Returns the lock key if the passphrase is right, undefined otherwise. */
export async function openLock(passphrase: string, p: LockParams): Promise<Uint8Array | undefined> {
  const key = await deriveLockKey(passphrase, p.salt, p.N);
  try {
    xchacha20poly1305(key, p.checkNonce).decrypt(p.check);
    return key;
  } catch {
    return undefined;
  }
}
