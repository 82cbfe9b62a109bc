/**
 * The browser's own HPKE key pair, to which the key service wraps every key it releases. Made
 * once per profile and KEM, kept in the keyring's IndexedDB:
 * - X25519: a WebCrypto pair whose private key is non-extractable (no script can read it out);
 *   where the browser's WebCrypto has no X25519, a private key kept like X-Wing's.
 * - X-Wing (X25519 + ML-KEM-768): the library works on private key bytes, so those are stored
 *   only sealed under the keyring's non-extractable AES-GCM device key and opened for one release.
 * Background only.
 */
import { CipherSuite, DhkemX25519HkdfSha256 as NativeX25519, HkdfSha256, type KemInterface } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { DhkemX25519HkdfSha256 as PortableX25519 } from '@hpke/dhkem-x25519';
import { XWing } from '@hpke/hybridkem-x-wing';
import type { KeyStore } from '../keys/store';
import type { WrappedSecret } from '../keys/wrapping';

export type Kem = 'x-wing' | 'x25519';

/** The suite names of the key service contract (HPKE base mode, HKDF-SHA256, ChaCha20-Poly1305). */
export const SUITE_NAMES: Record<Kem, string> = {
  'x-wing': 'x-wing/hkdf-sha256/chacha20poly1305',
  x25519: 'x25519/hkdf-sha256/chacha20poly1305',
};

export interface DeviceKey {
  kem: Kem;
  publicKey: Uint8Array;
  /** The HPKE suite and the recipient key to open one release with. */
  recipient(): Promise<{ suite: CipherSuite; key: CryptoKey | CryptoKeyPair }>;
}

type HpkeRecord = { id: `hpke/${string}`; publicKey: Uint8Array; pair?: CryptoKeyPair; wrapped?: WrappedSecret };

export function suiteFor(kem: KemInterface): CipherSuite {
  return new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
}

const buf = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;

/** A non-extractable X25519 pair from WebCrypto, or undefined where the browser has none. */
async function webCryptoX25519(): Promise<CryptoKeyPair | undefined> {
  try {
    return (await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
  } catch {
    return undefined;
  }
}

async function create(store: KeyStore, kem: Kem): Promise<HpkeRecord> {
  const id = `hpke/${kem}` as const;
  if (kem === 'x25519') {
    const pair = await webCryptoX25519();
    if (pair) {
      const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
      return { id, publicKey, pair };
    }
  }
  const impl = kem === 'x-wing' ? new XWing() : new PortableX25519();
  const pair = await impl.generateKeyPair();
  const publicKey = new Uint8Array(await impl.serializePublicKey(pair.publicKey));
  const secret = new Uint8Array(await impl.serializePrivateKey(pair.privateKey));
  const wrapped = await store.sealWithDevice(id, secret);
  secret.fill(0);
  return { id, publicKey, wrapped };
}

/** The device key pair for `kem`, made on first use. */
export async function deviceKey(store: KeyStore, kem: Kem): Promise<DeviceKey> {
  const id = `hpke/${kem}` as const;
  let rec = await store.getMeta<HpkeRecord>(id);
  if (!rec?.publicKey) {
    rec = await create(store, kem);
    await store.putMeta(rec);
  }
  const { publicKey, pair, wrapped } = rec;
  return {
    kem,
    publicKey,
    async recipient() {
      if (pair) return { suite: suiteFor(new NativeX25519()), key: pair };
      const impl = kem === 'x-wing' ? new XWing() : new PortableX25519();
      const secret = await store.openWithDevice(id, wrapped!);
      try {
        return { suite: suiteFor(impl), key: await impl.deserializePrivateKey(buf(secret)) };
      } finally {
        secret.fill(0);
      }
    },
  };
}
