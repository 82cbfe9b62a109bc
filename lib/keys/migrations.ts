/**
 * IndexedDB schema history of the keyring. One function per version step; each has a test
 * (test/unit/keystore-migrations.test.ts) that builds the old store and checks no key is lost.
 */
import type { DBSchema, IDBPDatabase } from 'idb';
import type { KeyRecord } from './model';

export const DB_NAME = 'veil-keyring';
export const DB_VERSION = 1;

export interface VeilDB extends DBSchema {
  keys: { key: string; value: KeyRecord };
}

/** v0 -> v1: the first keyring: one object store of key records by id. */
function v0ToV1(db: IDBPDatabase<VeilDB>): void {
  db.createObjectStore('keys', { keyPath: 'id' });
}

export function migrate(db: IDBPDatabase<VeilDB>, oldVersion: number): void {
  if (oldVersion < 1) v0ToV1(db);
}
