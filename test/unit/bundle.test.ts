import { describe, expect, it } from 'vitest';
import { randomBytes } from '@noble/ciphers/utils.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { BundleError, createBundle, directoryEntryOf, openBundle } from '../../lib/crypto/bundle';
import type { KeyRecord } from '../../lib/keys/model';
import { KDF_TEST_TIMEOUT } from '../support/kdf';

const FAST = { kdf: { N: 2 ** 15, r: 8, p: 1 } };
const keys: KeyRecord[] = [
  {
    id: 'a1b2c3d4',
    secret: randomBytes(32),
    label: 'Team',
    scope: { site: 'fixture-chat', conversations: ['*'] },
    status: 'active',
    createdAt: 1,
    source: 'generated',
  },
  {
    id: '0badf00d',
    secret: randomBytes(32),
    label: 'Old',
    scope: { site: '*', conversations: ['dm-*'] },
    status: 'retired',
    createdAt: 0,
    source: 'imported',
  },
];

async function expectBundleError(p: Promise<unknown>, code: BundleError['code']) {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  expect(e).toBeInstanceOf(BundleError);
  expect((e as BundleError).code).toBe(code);
}

describe('key bundles', { timeout: KDF_TEST_TIMEOUT }, () => {
  it('round-trips keys and metadata', async () => {
    const file = JSON.stringify(await createBundle(keys, 'correct horse battery', FAST));
    const back = (await openBundle(file, 'correct horse battery')).keys;
    expect(back.map((k) => [k.id, k.label, k.status, k.scope])).toEqual(
      keys.map((k) => [k.id, k.label, k.status, k.scope]),
    );
    expect(back.map((k) => k.secret)).toEqual(keys.map((k) => k.secret));
    expect(file).not.toContain(Buffer.from(keys[0]!.secret).toString('base64'));
  });

  it('refuses a wrong passphrase', async () => {
    const file = JSON.stringify(await createBundle(keys, 'correct horse battery', FAST));
    await expectBundleError(openBundle(file, 'wrong horse battery'), 'bad-passphrase');
  });

  it('detects altered metadata (it is authenticated)', async () => {
    const b = await createBundle(keys, 'correct horse battery', FAST);
    const altered = { ...b, keys: b.keys.map((k) => ({ ...k, scope: { site: '*', conversations: ['*'] } })) };
    await expectBundleError(openBundle(JSON.stringify(altered), 'correct horse battery'), 'bad-passphrase');
  });

  it('detects a corrupted ciphertext byte', async () => {
    const b = await createBundle(keys, 'correct horse battery', FAST);
    const ct = Buffer.from(b.ciphertext, 'base64');
    ct[5]! ^= 1;
    await expectBundleError(
      openBundle(JSON.stringify({ ...b, ciphertext: ct.toString('base64') }), 'correct horse battery'),
      'bad-passphrase',
    );
  });

  it('gives clear errors for non-bundles, future versions, weak or absurd KDF costs and duplicate ids', async () => {
    const b = await createBundle(keys, 'correct horse battery', FAST);
    await expectBundleError(openBundle('not json', 'x'), 'not-a-bundle');
    await expectBundleError(openBundle('{"a":1}', 'x'), 'not-a-bundle');
    await expectBundleError(openBundle(JSON.stringify({ ...b, version: 2 }), 'x'), 'unsupported');
    await expectBundleError(openBundle(JSON.stringify({ ...b, kdf: { ...b.kdf, N: 2 ** 10 } }), 'x'), 'invalid');
    await expectBundleError(openBundle(JSON.stringify({ ...b, kdf: { ...b.kdf, N: 2 ** 30 } }), 'x'), 'invalid');
    await expectBundleError(openBundle(JSON.stringify({ ...b, keys: [b.keys[0], b.keys[0]] }), 'x'), 'invalid');
  });

  it('carries signing identities (sealed) and a directory (authenticated)', async () => {
    const secretKey = ed25519.utils.randomSecretKey();
    const me = { site: 'fixture-chat', userId: 'alice', secretKey, createdAt: 5 };
    const other = directoryEntryOf({
      site: 'fixture-chat',
      userId: 'bob',
      secretKey: ed25519.utils.randomSecretKey(),
      createdAt: 6,
    });
    const b = await createBundle(keys, 'correct horse battery', {
      ...FAST,
      identities: [me],
      directory: [directoryEntryOf(me), other],
    });
    expect(JSON.stringify(b)).not.toContain(Buffer.from(secretKey).toString('base64'));
    const back = await openBundle(JSON.stringify(b), 'correct horse battery');
    expect(back.identities).toEqual([me]);
    expect(back.directory.map((d) => d.userId)).toEqual(['alice', 'bob']);
    // Swapping a public key in the directory is detected.
    const swapped = {
      ...b,
      directory: [directoryEntryOf(me), { ...other, publicKey: directoryEntryOf(me).publicKey }],
    };
    await expectBundleError(openBundle(JSON.stringify(swapped), 'correct horse battery'), 'bad-passphrase');
  });

  it('refuses short passphrases on export', async () => {
    await expectBundleError(createBundle(keys, 'short', FAST), 'invalid');
  });
});
