/**
 * The background's keyring: the store plus in-memory caches of records and derived keys.
 * This is the only place outside lib/keys where secrets exist, and nothing here is returned to
 * callers except `KeyInfo`.
 */
import { hexToBytes, randomBytes, bytesToHex } from '@noble/ciphers/utils.js';
import { deriveKey, type DerivedKey } from '../crypto/envelope';
import { fingerprint, type KeyRecord, type KeyScope, type KeyStatus, selectEncryptionKey } from '../keys/model';
import { KeyStore } from '../keys/store';

export class Keyring {
  private records?: Promise<Map<string, KeyRecord>>;
  private derived = new Map<string, DerivedKey>();
  private fingerprints = new Map<string, string>();

  constructor(readonly store = new KeyStore()) {}

  private load(): Promise<Map<string, KeyRecord>> {
    this.records ??= this.store.all().then((all) => new Map(all.map((k) => [k.id, k])));
    return this.records;
  }

  private invalidate(): void {
    this.records = undefined;
    this.derived.clear();
    this.fingerprints.clear();
  }

  fingerprintOf(rec: KeyRecord): string {
    let fp = this.fingerprints.get(rec.id);
    if (!fp) this.fingerprints.set(rec.id, (fp = fingerprint(rec.id, rec.secret)));
    return fp;
  }

  async list(): Promise<KeyRecord[]> {
    return [...(await this.load()).values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    return (await this.load()).get(id);
  }

  async derivedFor(id: string): Promise<DerivedKey | undefined> {
    let d = this.derived.get(id);
    if (d) return d;
    const rec = await this.get(id);
    if (!rec) return undefined;
    d = deriveKey({ id: hexToBytes(rec.id), secret: rec.secret });
    this.derived.set(id, d);
    return d;
  }

  async encryptionKey(site: string, conversationId: string): Promise<KeyRecord | undefined> {
    return selectEncryptionKey(await this.list(), site, conversationId);
  }

  async generate(label: string, scope: KeyScope): Promise<KeyRecord> {
    const existing = await this.load();
    let id: string;
    do id = bytesToHex(randomBytes(4));
    while (existing.has(id));
    const rec: KeyRecord = {
      id, secret: randomBytes(32), label, scope, status: 'active', createdAt: Date.now(), source: 'generated',
    };
    await this.mutate(() => this.store.addAll([rec]));
    return rec;
  }

  /** All or nothing: a conflicting id anywhere in the batch leaves the keyring untouched. */
  async importAll(keys: KeyRecord[]): Promise<void> {
    const existing = await this.load();
    for (const k of keys) {
      const have = existing.get(k.id);
      if (have) {
        const same = bytesToHex(have.secret) === bytesToHex(k.secret);
        throw new Error(same
          ? `key ${k.id} is already in your keyring; nothing was imported`
          : `key ${k.id} conflicts with a different key of the same id in your keyring; nothing was imported`);
      }
    }
    await this.mutate(() => this.store.addAll(keys));
  }

  async setStatus(id: string, status: KeyStatus): Promise<KeyRecord> {
    const rec = await this.get(id);
    if (!rec) throw new Error(`no key ${id}`);
    if (rec.status === 'revoked' && status !== 'revoked') throw new Error('a revoked key stays revoked');
    await this.mutate(() => this.store.update([{ id, status }]));
    return { ...rec, status };
  }

  private async mutate(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } finally {
      this.invalidate();
    }
  }
}
