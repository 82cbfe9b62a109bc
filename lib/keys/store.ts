/**
 * The keyring's persistent store: extension-private IndexedDB through `idb`.
 * Background only: this module holds secrets. Schema versions and their migrations live in
 * `migrations.ts`; every write that changes several keys is one transaction (all or nothing).
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { KeyRecord, KeyStatus } from './model';
import { DB_NAME, DB_VERSION, migrate, type VeilDB } from './migrations';

export class KeyStore {
  private db?: Promise<IDBPDatabase<VeilDB>>;

  constructor(private readonly name = DB_NAME) {}

  private open(): Promise<IDBPDatabase<VeilDB>> {
    this.db ??= openDB<VeilDB>(this.name, DB_VERSION, {
      upgrade: (db, oldVersion) => migrate(db, oldVersion),
    });
    return this.db;
  }

  async all(): Promise<KeyRecord[]> {
    return (await this.open()).getAll('keys');
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    return (await this.open()).get('keys', id);
  }

  /** Adds keys atomically; throws (and writes nothing) if any id already exists. */
  async addAll(keys: KeyRecord[]): Promise<void> {
    const tx = (await this.open()).transaction('keys', 'readwrite');
    try {
      for (const k of keys) {
        if (await tx.store.getKey(k.id)) throw new Error(`key ${k.id} is already in the keyring`);
        await tx.store.add(k);
      }
      await tx.done;
    } catch (e) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw e;
    }
  }

  /** Applies status changes atomically (rotation retires one key while another is added). */
  async update(changes: { id: string; status: KeyStatus }[], add: KeyRecord[] = []): Promise<void> {
    const tx = (await this.open()).transaction('keys', 'readwrite');
    for (const c of changes) {
      const k = await tx.store.get(c.id);
      if (!k) throw new Error(`no key ${c.id}`);
      await tx.store.put({ ...k, status: c.status });
    }
    for (const k of add) await tx.store.add(k);
    await tx.done;
  }

  async delete(id: string): Promise<void> {
    await (await this.open()).delete('keys', id);
  }
}
