/**
 * The keyring's persistent store: extension-private IndexedDB through `idb`.
 * Background only. Secrets go in wrapped (wrapping.ts) and come out only through `unwrap`.
 * Every write that touches several keys is one transaction: all or nothing.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/ciphers/utils.js';
import {
  type DirectoryEntry,
  fingerprint,
  type KeyInfo,
  type KeyRecord,
  type KeyStatus,
  type SigningIdentity,
} from '../../keys/model';
import {
  DB_NAME,
  DB_VERSION,
  type MetaRecord,
  migrate,
  type StoredIdentity,
  type StoredKey,
  type VeilDB,
} from './migrations';
import { createDeviceKey, type LockParams, unwrapSecret, type WrappedSecret, wrapSecret } from './wrapping';

export type KeyMeta = KeyInfo;
export type IdentityInfo = Omit<StoredIdentity, 'wrapped'>;

/** What an import adds besides keys: the user's signing identities and directory entries. */
export interface ImportExtras {
  identities?: SigningIdentity[];
  directory?: DirectoryEntry[];
  /** Keys to mark retired in the same transaction (superseded by an imported newer key). */
  retire?: string[];
  /** Let `directory` entries replace different ones already known (the user confirmed it). */
  replaceDirectory?: boolean;
}

export class KeyStore {
  private db?: Promise<IDBPDatabase<VeilDB>>;
  /** Per connection: a database deleted and made again holds another device key, or none yet. */
  private readonly devices = new WeakMap<IDBPDatabase<VeilDB>, Promise<CryptoKey>>();

  constructor(private readonly name = DB_NAME) {}

  private open(): Promise<IDBPDatabase<VeilDB>> {
    if (this.db) return this.db;
    const connecting = openDB<VeilDB>(this.name, DB_VERSION, {
      upgrade: (db, oldVersion) => migrate(db, oldVersion),
      // Another context wants to upgrade or delete the keyring (a newer Veil starting during an
      // update): let it, and open it again at the next use rather than block it forever.
      blocking: () => {
        if (this.db === opening) this.db = undefined;
        void connecting.then((db) => db.close()).catch(() => undefined);
      },
    });
    const opening: Promise<IDBPDatabase<VeilDB>> = connecting.then(async (db) => {
      await this.wrapLegacySecrets(db);
      return db;
    });
    this.db = opening;
    // A failed open is not kept: the next use tries again.
    opening.catch(() => {
      if (this.db === opening) this.db = undefined;
    });
    return opening;
  }

  private deviceKey(db: IDBPDatabase<VeilDB>): Promise<CryptoKey> {
    let device = this.devices.get(db);
    if (device) return device;
    device = (async () => {
      const have = await db.get('meta', 'device-key');
      if (have && 'key' in have) return have.key;
      const key = await createDeviceKey();
      // add() fails if another context created one meanwhile; then use theirs.
      try {
        await db.add('meta', { id: 'device-key', key });
        return key;
      } catch {
        const again = await db.get('meta', 'device-key');
        return (again as { key: CryptoKey }).key;
      }
    })();
    this.devices.set(db, device);
    device.catch(() => this.devices.delete(db)); // never a failure kept for good
    return device;
  }

  /** Data half of v1 -> v2: wraps every raw secret left by the first slice's store. */
  private async wrapLegacySecrets(db: IDBPDatabase<VeilDB>): Promise<void> {
    const legacy = (await db.getAll('keys')).filter((k) => k.secret && !k.wrapped);
    if (legacy.length === 0) return;
    const device = await this.deviceKey(db);
    const wrapped = await Promise.all(
      legacy.map(async (k) => {
        const { secret, ...rest } = k;
        return { ...rest, fingerprint: fingerprint(k.id, secret!), wrapped: await wrapSecret(device, k.id, secret!) };
      }),
    );
    const tx = db.transaction('keys', 'readwrite');
    await Promise.all([...wrapped.map((k) => tx.store.put(k)), tx.done]);
  }

  async all(): Promise<KeyMeta[]> {
    return (await (await this.open()).getAll('keys')).map(({ wrapped: _w, secret: _s, ...meta }) => meta as KeyMeta);
  }

  /** The raw secret of one key; throws LockedError when its passphrase layer needs `lockKey`. */
  async unwrap(id: string, lockKey?: Uint8Array): Promise<Uint8Array | undefined> {
    const db = await this.open();
    const k = await db.get('keys', id);
    if (!k?.wrapped) return undefined;
    return unwrapSecret(await this.deviceKey(db), id, k.wrapped, lockKey);
  }

  /**
   * Adds keys (and signing identities and directory entries) in one transaction; throws, and
   * writes nothing, if any key id exists or any identity / directory entry would change.
   */
  async addAll(keys: KeyRecord[], lockKey?: Uint8Array, extras: ImportExtras = {}): Promise<void> {
    const db = await this.open();
    const device = await this.deviceKey(db);
    const stored: StoredKey[] = await Promise.all(
      keys.map(async ({ secret, ...meta }) => ({
        ...meta,
        fingerprint: fingerprint(meta.id, secret),
        wrapped: await wrapSecret(device, meta.id, secret, lockKey),
      })),
    );
    const identities: StoredIdentity[] = await Promise.all(
      (extras.identities ?? []).map(async (i) => ({
        site: i.site,
        userId: i.userId,
        publicKey: bytesToHex(ed25519.getPublicKey(i.secretKey)),
        createdAt: i.createdAt,
        wrapped: await wrapSecret(device, `identity/${i.site}/${i.userId}`, i.secretKey, lockKey),
      })),
    );
    const tx = db.transaction(['keys', 'identities', 'directory'], 'readwrite');
    try {
      for (const k of stored) {
        if (await tx.objectStore('keys').getKey(k.id)) throw new Error(`key ${k.id} is already in the keyring`);
        await tx.objectStore('keys').add(k);
      }
      for (const id of extras.retire ?? []) {
        const k = await tx.objectStore('keys').get(id);
        if (k) await tx.objectStore('keys').put({ ...k, status: 'retired' });
      }
      for (const i of identities) {
        const have = await tx.objectStore('identities').get([i.site, i.userId]);
        if (have && have.publicKey !== i.publicKey) {
          throw new Error(`you already have a different signing identity as ${i.userId} on ${i.site}`);
        }
        if (!have) await tx.objectStore('identities').add(i);
      }
      const own = identities.map((i) => ({
        site: i.site,
        userId: i.userId,
        publicKey: i.publicKey,
        addedAt: i.createdAt,
      }));
      for (const [d, replaceable] of [
        ...(extras.directory ?? []).map((d) => [d, !!extras.replaceDirectory] as const),
        ...own.map((d) => [d, false] as const),
      ]) {
        const have = await tx.objectStore('directory').get([d.site, d.userId]);
        if (have && have.publicKey !== d.publicKey && !replaceable) {
          throw new Error(`the directory already holds a different public key for ${d.userId} on ${d.site}`);
        }
        if (!have || have.publicKey !== d.publicKey) await tx.objectStore('directory').put(d);
      }
      await tx.done;
    } catch (e) {
      try {
        tx.abort();
      } catch {
        /* already finished */
      }
      await tx.done.catch(() => undefined);
      throw e;
    }
  }

  async identities(): Promise<IdentityInfo[]> {
    return (await (await this.open()).getAll('identities')).map(({ wrapped: _w, ...info }) => info);
  }

  async unwrapIdentity(site: string, userId: string, lockKey?: Uint8Array): Promise<Uint8Array | undefined> {
    const db = await this.open();
    const i = await db.get('identities', [site, userId]);
    if (!i) return undefined;
    return unwrapSecret(await this.deviceKey(db), `identity/${site}/${userId}`, i.wrapped, lockKey);
  }

  async directory(): Promise<DirectoryEntry[]> {
    return (await this.open()).getAll('directory');
  }

  /** Status changes and additions in one transaction (rotation retires one key as it adds another). */
  async update(
    changes: { id: string; status: KeyStatus }[],
    add: KeyRecord[] = [],
    lockKey?: Uint8Array,
  ): Promise<void> {
    const db = await this.open();
    const device = await this.deviceKey(db);
    const added: StoredKey[] = await Promise.all(
      add.map(async ({ secret, ...meta }) => ({
        ...meta,
        fingerprint: fingerprint(meta.id, secret),
        wrapped: await wrapSecret(device, meta.id, secret, lockKey),
      })),
    );
    const tx = db.transaction('keys', 'readwrite');
    const writes: Promise<unknown>[] = [];
    for (const c of changes) {
      const k = await tx.store.get(c.id);
      if (!k) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw new Error(`no key ${c.id}`);
      }
      writes.push(tx.store.put({ ...k, status: c.status }));
    }
    for (const k of added) writes.push(tx.store.add(k));
    await Promise.all([...writes, tx.done]);
  }

  async lockParams(): Promise<LockParams | undefined> {
    const rec = await (await this.open()).get('meta', 'lock');
    return rec && 'params' in rec ? rec.params : undefined;
  }

  /**
   * Re-wraps every secret for a new lock state in one transaction: `from` opens the current
   * inner layer (undefined when unlocked-by-design), `to` seals the new one (undefined removes it).
   */
  async relock(from: Uint8Array | undefined, to: { key: Uint8Array; params: LockParams } | undefined): Promise<void> {
    const db = await this.open();
    const device = await this.deviceKey(db);
    // Key service keys never get the passphrase layer: refreshes write them while Veil is locked.
    const all = (await db.getAll('keys')).filter((k) => k.source !== 'keyservice');
    const rewrapped = await Promise.all(
      all.map(async (k) => ({
        ...k,
        wrapped: await wrapSecret(device, k.id, await unwrapSecret(device, k.id, k.wrapped!, from), to?.key),
      })),
    );
    const ids = await Promise.all(
      (await db.getAll('identities')).map(async (i) => {
        const aadId = `identity/${i.site}/${i.userId}`;
        return {
          ...i,
          wrapped: await wrapSecret(device, aadId, await unwrapSecret(device, aadId, i.wrapped, from), to?.key),
        };
      }),
    );
    const tx = db.transaction(['keys', 'meta', 'identities'], 'readwrite');
    const writes: Promise<unknown>[] = rewrapped.map((k) => tx.objectStore('keys').put(k));
    for (const i of ids) writes.push(tx.objectStore('identities').put(i));
    writes.push(
      to ? tx.objectStore('meta').put({ id: 'lock', params: to.params }) : tx.objectStore('meta').delete('lock'),
    );
    await Promise.all([...writes, tx.done]);
  }

  /**
   * Makes the key service keys in the store exactly `records`, in one transaction: absent ones
   * are deleted, the others (re)written wrapped under the device key only. A record whose id is
   * taken by a key of another source (the user's own, or `reserved` policy key ids) is skipped:
   * a release never overwrites a key it did not deliver.
   */
  async replaceServiceKeys(records: KeyRecord[], reserved: string[] = []): Promise<void> {
    const db = await this.open();
    const device = await this.deviceKey(db);
    const stored: StoredKey[] = await Promise.all(
      records.map(async ({ secret, ...meta }) => ({
        ...meta,
        source: 'keyservice' as const,
        fingerprint: fingerprint(meta.id, secret),
        wrapped: await wrapSecret(device, meta.id, secret),
      })),
    );
    const tx = db.transaction('keys', 'readwrite');
    const keep = new Set(stored.map((k) => k.id));
    const writes: Promise<unknown>[] = [];
    for (const k of await tx.store.getAll()) {
      if (k.source === 'keyservice' && !keep.has(k.id)) writes.push(tx.store.delete(k.id));
    }
    for (const k of stored) {
      const have = await tx.store.get(k.id);
      if ((have && have.source !== 'keyservice') || reserved.includes(k.id)) {
        console.warn(`Veil: key service key ${k.id} clashes with a key from elsewhere; not stored`);
        continue;
      }
      writes.push(tx.store.put(k));
    }
    await Promise.all([...writes, tx.done]);
  }

  /** Deletes the key service keys `which` selects; true when any was deleted. */
  async deleteServiceKeys(which: (k: StoredKey) => boolean): Promise<boolean> {
    const db = await this.open();
    const tx = db.transaction('keys', 'readwrite');
    const gone = (await tx.store.getAll()).filter((k) => k.source === 'keyservice' && which(k));
    await Promise.all([...gone.map((k) => tx.store.delete(k.id)), tx.done]);
    return gone.length > 0;
  }

  async getMeta<R extends MetaRecord>(id: R['id']): Promise<R | undefined> {
    return (await (await this.open()).get('meta', id)) as R | undefined;
  }

  async putMeta(rec: MetaRecord): Promise<void> {
    await (await this.open()).put('meta', rec);
  }

  async deleteMeta(id: MetaRecord['id']): Promise<void> {
    await (await this.open()).delete('meta', id);
  }

  /** Seals bytes other than keys (a private key, a refresh token) under the device key. */
  async sealWithDevice(label: string, bytes: Uint8Array): Promise<WrappedSecret> {
    const db = await this.open();
    return wrapSecret(await this.deviceKey(db), label, bytes);
  }

  async openWithDevice(label: string, w: WrappedSecret): Promise<Uint8Array> {
    const db = await this.open();
    return unwrapSecret(await this.deviceKey(db), label, w);
  }
}
