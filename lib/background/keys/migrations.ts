/**
 * IndexedDB schema history of the keyring. One step per version; each has a test
 * (test/unit/keystore.test.ts) that builds the old store and checks that no key is lost.
 *
 * IndexedDB upgrade transactions cannot wait for WebCrypto, so steps that need crypto are split:
 * the upgrade changes the shape, and `KeyStore.open` finishes the data migration right after in
 * ordinary transactions (idempotent: an interrupted migration simply runs again).
 */
import type { DBSchema, IDBPDatabase } from 'idb';
import type { DirectoryEntry, KeyScope, KeySource, KeyStatus } from '../../keys/model';
import type { LockParams, WrappedSecret } from './wrapping';

export const DB_NAME = 'veil-keyring';
export const DB_VERSION = 3;

/** Metadata of a key as stored; the secret is only ever stored wrapped (v2+). */
export interface StoredKey {
  id: string;
  label: string;
  scope: KeyScope;
  status: KeyStatus;
  createdAt: number;
  source: KeySource;
  /** Key service keys: when the offline grace ends (no schema change: an optional field). */
  expiresAt?: number;
  /** Stored so that a locked keyring can still show which key is which (v2+). */
  fingerprint?: string;
  wrapped?: WrappedSecret;
  /** v1 stored the raw secret; present only until the v1 -> v2 data migration has run. */
  secret?: Uint8Array;
}

export type MetaRecord =
  | { id: 'device-key'; key: CryptoKey }
  | { id: 'lock'; params: LockParams }
  /** The key service's HPKE key pair: a WebCrypto pair (non-extractable private key) or a wrapped private key. */
  | { id: `hpke/${string}`; publicKey: Uint8Array; pair?: CryptoKeyPair; wrapped?: WrappedSecret }
  /** The key service session's non-secret state (lib/background/keyservice/session.ts). */
  | { id: 'keyservice'; state: unknown }
  /** The identity provider's tokens (ID and refresh token), sealed under the device key. */
  | { id: 'keyservice/tokens'; wrapped: WrappedSecret };

/** A signing identity as stored: the Ed25519 seed wrapped like key secrets (v3+). */
export interface StoredIdentity {
  site: string;
  userId: string;
  publicKey: string;
  createdAt: number;
  wrapped: WrappedSecret;
}

export interface VeilDB extends DBSchema {
  keys: { key: string; value: StoredKey };
  meta: { key: string; value: MetaRecord };
  identities: { key: [string, string]; value: StoredIdentity };
  directory: { key: [string, string]; value: DirectoryEntry };
}

/** v0 -> v1 (first slice): one object store of key records by id, secrets in the clear. */
function v0ToV1(db: IDBPDatabase<VeilDB>): void {
  db.createObjectStore('keys', { keyPath: 'id' });
}

/** v1 -> v2: a meta store for the device key and lock; secrets get wrapped after the upgrade. */
function v1ToV2(db: IDBPDatabase<VeilDB>): void {
  db.createObjectStore('meta', { keyPath: 'id' });
}

/** v2 -> v3: sender authenticity: the user's signing identities and the directory of others'. */
function v2ToV3(db: IDBPDatabase<VeilDB>): void {
  db.createObjectStore('identities', { keyPath: ['site', 'userId'] });
  db.createObjectStore('directory', { keyPath: ['site', 'userId'] });
}

export function migrate(db: IDBPDatabase<VeilDB>, oldVersion: number): void {
  if (oldVersion < 1) v0ToV1(db);
  if (oldVersion < 2) v1ToV2(db);
  if (oldVersion < 3) v2ToV3(db);
}
