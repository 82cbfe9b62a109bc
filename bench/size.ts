/**
 * Size benchmark: what a message becomes on the wire, in characters. Veil envelopes (unsigned and
 * Ed25519-signed) against OpenPGP.js armored messages encrypted to one Curve25519 key (unsigned and
 * signed by the sender's Curve25519 key), as Mailvelope sends them. Sizes are deterministic apart
 * from OpenPGP's variable-length fields, so one sample each is exact enough; we take the median of 5.
 */
import * as openpgp from 'openpgp';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText } from '../lib/crypto/codec';
import { deriveKey, sealMessage } from '../lib/crypto/envelope';
import { CONVERSATION_ID, stat } from './common';

export const SIZE_LENGTHS = [2, 100, 1000];

export interface SizeRow {
  chars: number;
  veil: number;
  veilSigned: number;
  pgp: number;
  pgpSigned: number;
}

function message(chars: number): string {
  const base = 'hi there, the numbers for the third quarter are in the shared folder. ';
  return chars === 2 ? 'hi' : base.repeat(Math.ceil(chars / base.length)).slice(0, chars);
}

export async function measureSizes(): Promise<SizeRow[]> {
  const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
  const signingKey = ed25519.utils.randomSecretKey();
  const gen = (name: string) =>
    openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'object' });
  const [alice, bob] = await Promise.all([gen('alice'), gen('bob')]);
  const bobPub = bob.privateKey.toPublic();
  const rows: SizeRow[] = [];
  for (const chars of SIZE_LENGTHS) {
    const text = message(chars);
    const veil = (signed: boolean) =>
      encodeEnvelopeText(
        sealMessage(
          key,
          text,
          { conversationId: CONVERSATION_ID, senderId: 'alice' },
          { sentAt: Date.now(), nonce: randomBytes(16), signingKey: signed ? signingKey : undefined },
        ),
      ).length;
    const pgp = async (signed: boolean) =>
      (
        await openpgp.encrypt({
          message: await openpgp.createMessage({ text }),
          encryptionKeys: bobPub,
          signingKeys: signed ? alice.privateKey : undefined,
        })
      ).length;
    const med = async (f: () => number | Promise<number>) => {
      const xs: number[] = [];
      for (let i = 0; i < 5; i++) xs.push(await f());
      return stat(xs).median;
    };
    rows.push({
      chars,
      veil: (await med(() => veil(false))) - chars,
      veilSigned: (await med(() => veil(true))) - chars,
      pgp: (await med(() => pgp(false))) - chars,
      pgpSigned: (await med(() => pgp(true))) - chars,
    });
  }
  return rows;
}
