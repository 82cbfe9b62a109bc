import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { bytesToHex, randomBytes } from '@noble/ciphers/utils.js';
import { Keyring } from '../../lib/background/keyring';
import { KeyStore } from '../../lib/background/keys/store';
import type { KeyRecord } from '../../lib/keys/model';
import { fingerprint } from '../../lib/keys/model';
import { createDeviceKey, wrapSecret } from '../../lib/background/keys/wrapping';
import { KDF_TEST_TIMEOUT } from '../support/kdf';

let n = 0;
const freshName = () => `veil-test-${n++}-${Date.now()}`;
const rec = (label: string, extra: Partial<KeyRecord> = {}): KeyRecord => ({
  id: bytesToHex(randomBytes(4)),
  secret: randomBytes(32),
  label,
  scope: { site: 'fixture-chat', conversations: ['*'] },
  status: 'active',
  createdAt: Date.now() + n++,
  source: 'generated',
  ...extra,
});

/** Builds a database exactly as the first slice (schema v1) left it: raw secrets in `keys`. */
async function makeV1Store(name: string, keys: KeyRecord[]): Promise<void> {
  const db = await openDB(name, 1, { upgrade: (d) => d.createObjectStore('keys', { keyPath: 'id' }) });
  for (const k of keys) await db.put('keys', k);
  db.close();
}

describe('keyring store migrations', () => {
  it('v1 -> v2 keeps every key, wraps every secret and records fingerprints', async () => {
    const name = freshName();
    const keys = [rec('a'), rec('b', { status: 'retired' }), rec('c', { status: 'revoked' })];
    await makeV1Store(name, keys);
    const store = new KeyStore(name);
    const metas = await store.all();
    expect(metas.map((m) => [m.id, m.label, m.status, m.fingerprint]).sort()).toEqual(
      keys.map((k) => [k.id, k.label, k.status, fingerprint(k.id, k.secret)]).sort(),
    );
    for (const k of keys) expect(await store.unwrap(k.id)).toEqual(k.secret);
    // Nothing raw is left in the records.
    const raw = await (await openDB(name)).getAll('keys');
    for (const r of raw) {
      expect(r.secret).toBeUndefined();
      expect(r.wrapped.ct).toBeInstanceOf(Uint8Array);
      const hay = bytesToHex(r.wrapped.ct);
      for (const k of keys) expect(hay).not.toContain(bytesToHex(k.secret).slice(0, 16));
    }
  });

  it('v2 -> v3 keeps wrapped keys and adds empty identity and directory stores', async () => {
    const name = freshName();
    const k = rec('v2 key');
    const device = await createDeviceKey();
    const db = await openDB(name, 2, {
      upgrade: (d) => {
        d.createObjectStore('keys', { keyPath: 'id' });
        d.createObjectStore('meta', { keyPath: 'id' });
      },
    });
    const { secret, ...meta } = k;
    await db.put('meta', { id: 'device-key', key: device });
    await db.put('keys', {
      ...meta,
      fingerprint: fingerprint(k.id, secret),
      wrapped: await wrapSecret(device, k.id, secret),
    });
    db.close();
    const store = new KeyStore(name);
    expect((await store.all()).map((m) => m.id)).toEqual([k.id]);
    expect(await store.unwrap(k.id)).toEqual(k.secret);
    expect(await store.identities()).toEqual([]);
    expect(await store.directory()).toEqual([]);
  });

  it('a fresh store starts at the current version and round-trips secrets', async () => {
    const store = new KeyStore(freshName());
    const k = rec('fresh');
    await store.addAll([k]);
    expect(await store.unwrap(k.id)).toEqual(k.secret);
  });

  it('another context deleting or upgrading the keyring is not blocked; Veil opens it again at the next use', async () => {
    const name = freshName();
    const store = new KeyStore(name);
    await store.addAll([rec('before')]);
    // A newer Veil (or a reset) removes the database while this one holds it open.
    await new Promise<void>((resolve, reject) => {
      const del = indexedDB.deleteDatabase(name);
      del.onsuccess = () => resolve();
      del.onerror = () => reject(del.error);
      del.onblocked = () => reject(new Error('blocked by the open keyring'));
    });
    await makeV1Store(name, [rec('legacy')]);
    const after = rec('after');
    await store.addAll([after]);
    expect((await store.all()).map((m) => m.label).sort()).toEqual(['after', 'legacy']);
    expect(await store.unwrap(after.id)).toEqual(after.secret);
    // Wrapped with the new database's own device key, not the deleted one's: a restart reads it.
    expect(await new KeyStore(name).unwrap(after.id)).toEqual(after.secret);
  });
});

describe('keyring', { timeout: KDF_TEST_TIMEOUT }, () => {
  it('imports all or nothing: one conflicting id leaves the keyring exactly as it was', async () => {
    const ring = new Keyring(new KeyStore(freshName()));
    const a = rec('a');
    await ring.importAll([a]);
    const before = await ring.list();
    const clash = { ...rec('clash'), id: a.id };
    await expect(ring.importAll([rec('new'), clash])).rejects.toThrow(/conflicts/);
    await expect(ring.importAll([rec('new2'), a])).rejects.toThrow(/already in your keyring/);
    expect(await ring.list()).toEqual(before);
  });

  it('rotates: a new active key with the same scope, the old one retired but still usable', async () => {
    const ring = new Keyring(new KeyStore(freshName()));
    const old = await ring.generate('team', { site: 'fixture-chat', conversations: ['dm-*'] });
    const fresh = await ring.rotate(old.id);
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.scope).toEqual(old.scope);
    expect((await ring.get(old.id))?.status).toBe('retired');
    expect((await ring.encryptionKey('fixture-chat', 'dm-a-b'))?.id).toBe(fresh.id);
    expect(await ring.derivedFor(old.id)).toBeDefined();
    await expect(ring.rotate(old.id)).rejects.toThrow(/only an active key/);
  });

  it('one active key per scope: generating a duplicate is refused, importing a newer one supersedes', async () => {
    const ring = new Keyring(new KeyStore(freshName()));
    const scope = { site: 'fixture-chat', conversations: ['*'] };
    const mine = await ring.generate('team', scope);
    await expect(ring.generate('again', scope)).rejects.toThrow(/rotate it instead/);
    const newer = rec('rotated elsewhere', { scope, createdAt: mine.createdAt + 1000 });
    await ring.importAll([newer]);
    expect((await ring.get(mine.id))?.status).toBe('retired');
    expect((await ring.encryptionKey('fixture-chat', 'x'))?.id).toBe(newer.id);
  });

  it('revoked keys never encrypt and stay revoked', async () => {
    const ring = new Keyring(new KeyStore(freshName()));
    const k = await ring.generate('team', { site: '*', conversations: ['*'] });
    await ring.setStatus(k.id, 'revoked');
    expect(await ring.encryptionKey('fixture-chat', 'x')).toBeUndefined();
    await expect(ring.setStatus(k.id, 'active')).rejects.toThrow(/stays revoked/);
  });

  it('passphrase lock: locked keys cannot be used, a wrong passphrase changes nothing, unlock restores', async () => {
    const store = new KeyStore(freshName());
    const ring = new Keyring(store);
    const k = await ring.generate('team', { site: '*', conversations: ['*'] });
    await ring.setPassphrase('a long passphrase');
    expect(await ring.lockState()).toBe('unlocked');
    await ring.lock();
    expect(await ring.lockState()).toBe('locked');
    await expect(ring.derivedFor(k.id)).rejects.toThrow(/locked/);
    await expect(ring.generate('x', { site: '*', conversations: ['dm-*'] })).rejects.toThrow(/locked/);
    await expect(ring.unlock('wrong passphrase!')).rejects.toThrow(/Wrong passphrase/);
    expect(await ring.lockState()).toBe('locked');
    // A second keyring over the same store (a restarted service worker) is locked too.
    expect(await new Keyring(store).lockState()).toBe('locked');
    await ring.unlock('a long passphrase');
    expect(await ring.derivedFor(k.id)).toBeDefined();
    await ring.setPassphrase(undefined);
    expect(await new Keyring(store).lockState()).toBe('none');
    expect(await new Keyring(store).derivedFor(k.id)).toBeDefined();
  });
});
