/**
 * Importing a key bundle: whoever wrote the bundle must not silently decide which key encrypts a
 * team conversation, plant a signing identity for the user, or change who counts as verified.
 * The background lets such a bundle in only with the digest of the plan the user reviewed.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { bytesToHex, randomBytes } from '@noble/ciphers/utils.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { KeyRecord } from '../../lib/keys/model';

vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));
vi.mock('../../lib/background/policy-source', () => ({ policy: () => ({ allowUserKeys: true }) }));

const { Keyring, noLockCache } = await import('../../lib/background/keyring');
const { KeyStore } = await import('../../lib/background/keys/store');
const { keyHandlers } = await import('../../lib/background/handlers/keys');
const { createBundle } = await import('../../lib/crypto/bundle');
const { planLines } = await import('../../lib/ui/import-preview');

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 15, r: 8, p: 1 };
let n = 0;
const ring = () => new Keyring(new KeyStore(`veil-import-${n++}-${Date.now()}`), noLockCache);
const key = (label: string, conversations: string[], createdAt: number): KeyRecord => ({
  id: bytesToHex(randomBytes(4)),
  secret: randomBytes(32),
  label,
  scope: { site: 'fixture-chat', conversations },
  status: 'active',
  createdAt,
  source: 'imported',
});
const bundle = async (keys: KeyRecord[], opts: Parameters<typeof createBundle>[2] = {}) =>
  JSON.stringify(await createBundle(keys, PASS, { kdf: FAST, ...opts }));

async function importIt(keyring: InstanceType<typeof Keyring>, fileText: string, confirm?: string) {
  return keyHandlers['keys/import']({ fileText, passphrase: PASS, confirm }, { keyring });
}
async function preview(keyring: InstanceType<typeof Keyring>, fileText: string) {
  const r = await keyHandlers['keys/import-preview']({ fileText, passphrase: PASS }, { keyring });
  if (!r.ok) throw new Error(r.error.message);
  return r.plan;
}

describe('importing a key bundle', { timeout: 60_000 }, () => {
  it('a newer key for the team scope takes over encrypting only once the user confirms it', async () => {
    const keyring = ring();
    const team = key('Team', ['ch-team'], 1_000);
    await keyring.importAll([team]);
    const evil = await bundle([key('Team (new)', ['ch-team'], 2_000)]);
    const plan = await preview(keyring, evil);
    expect(plan.needsConfirmation).toBe(true);
    expect(plan.keys[0]!.replaces).toEqual([{ id: team.id, label: 'Team' }]);
    expect(planLines(plan).some((l) => l.warn)).toBe(true);
    // Without the user's yes (or with a yes for something else) nothing changes.
    expect(await importIt(keyring, evil)).toMatchObject({ ok: false, error: { code: 'confirm' } });
    expect(await importIt(keyring, evil, 'f'.repeat(32))).toMatchObject({ ok: false, error: { code: 'confirm' } });
    expect((await keyring.encryptionKey('fixture-chat', 'ch-team'))?.id).toBe(team.id);
    expect(await importIt(keyring, evil, plan.digest)).toMatchObject({ ok: true });
    expect((await keyring.encryptionKey('fixture-chat', 'ch-team'))?.id).not.toBe(team.id);
  });

  it('a more specific key that would take over one conversation needs confirmation too', async () => {
    const keyring = ring();
    const general = key('General', ['*'], 1_000);
    await keyring.importAll([general]);
    const plan = await preview(keyring, await bundle([key('Just us', ['dm-alice-mallory'], 500)]));
    expect(plan.keys[0]!.replaces.map((r) => r.id)).toEqual([general.id]);
    expect(plan.needsConfirmation).toBe(true);
  });

  it('a key for a scope nobody encrypts yet goes in without a question', async () => {
    const keyring = ring();
    const text = await bundle([key('Fresh', ['ch-new'], 1_000)]);
    expect((await preview(keyring, text)).needsConfirmation).toBe(false);
    expect(await importIt(keyring, text)).toMatchObject({ ok: true });
  });

  it('never plants a signing identity or a verified person without confirmation', async () => {
    const keyring = ring();
    const secretKey = ed25519.utils.randomSecretKey();
    const withIdentity = await bundle([], {
      identities: [{ site: 'fixture-chat', userId: 'alice', secretKey, createdAt: 1 }],
    });
    const plan = await preview(keyring, withIdentity);
    expect(plan.identities).toEqual([
      { site: 'fixture-chat', userId: 'alice', publicKey: bytesToHex(ed25519.getPublicKey(secretKey)) },
    ]);
    expect(await importIt(keyring, withIdentity)).toMatchObject({ ok: false, error: { code: 'confirm' } });
    expect(await keyring.identities()).toEqual([]);

    const bobKey = bytesToHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const mallorysKey = bytesToHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const entry = (publicKey: string) => ({ site: 'fixture-chat', userId: 'bob', publicKey, addedAt: 1 });
    const first = await bundle([], { directory: [entry(bobKey)] });
    expect(await importIt(keyring, first)).toMatchObject({ ok: false, error: { code: 'confirm' } });
    expect(await importIt(keyring, first, (await preview(keyring, first)).digest)).toMatchObject({ ok: true });
    // Bob is known now; a bundle with another key for him is a change the user must approve.
    const swap = await bundle([], { directory: [entry(mallorysKey)] });
    const swapPlan = await preview(keyring, swap);
    expect(swapPlan.directory[0]).toMatchObject({ change: 'changed', previousKey: bobKey, publicKey: mallorysKey });
    expect(await importIt(keyring, swap)).toMatchObject({ ok: false, error: { code: 'confirm' } });
    expect((await keyring.store.directory())[0]!.publicKey).toBe(bobKey);
    expect(await importIt(keyring, swap, swapPlan.digest)).toMatchObject({ ok: true });
    expect((await keyring.store.directory())[0]!.publicKey).toBe(mallorysKey);
  });
});
