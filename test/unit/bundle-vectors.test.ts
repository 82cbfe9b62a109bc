import { describe, expect, it } from 'vitest';
import { bytesToHex } from '@noble/ciphers/utils.js';
import vector from '../vectors/key-bundle-v1.json';
import { createBundle, openBundle } from '../../lib/crypto/bundle';
import { KDF_TEST_TIMEOUT } from '../support/kdf';

describe('key bundle v1 vector (test/vectors/key-bundle-v1.json)', { timeout: KDF_TEST_TIMEOUT }, () => {
  it('opens to the recorded keys and identities', async () => {
    const back = await openBundle(JSON.stringify(vector.bundle), vector.passphrase);
    expect(back.keys.map((k) => ({ id: k.id, secret: bytesToHex(k.secret) }))).toEqual(vector.expect.keys);
    expect(back.identities.map((i) => ({ userId: i.userId, secretKey: bytesToHex(i.secretKey) }))).toEqual(
      vector.expect.identities,
    );
  });

  it('is reproduced byte for byte from the same inputs', async () => {
    const back = await openBundle(JSON.stringify(vector.bundle), vector.passphrase);
    const salt = Buffer.from(vector.bundle.kdf.salt, 'base64');
    const nonce = Buffer.from(vector.bundle.nonce, 'base64');
    const again = await createBundle(back.keys, vector.passphrase, {
      kdf: { N: vector.bundle.kdf.N, r: 8, p: 1 },
      now: vector.bundle.createdAt,
      salt,
      nonce,
      identities: back.identities,
      directory: back.directory,
    });
    expect(again).toEqual(vector.bundle);
  });

  it('fails with one flipped byte anywhere in the ciphertext', async () => {
    const ct = Buffer.from(vector.bundle.ciphertext, 'base64');
    for (const i of [0, Math.floor(ct.length / 2), ct.length - 1]) {
      const bad = Buffer.from(ct);
      bad[i]! ^= 1;
      await expect(
        openBundle(JSON.stringify({ ...vector.bundle, ciphertext: bad.toString('base64') }), vector.passphrase),
      ).rejects.toThrow(/wrong passphrase, or the file was altered/);
    }
  });
});
