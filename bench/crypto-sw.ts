/**
 * Bench-only bundle, evaluated by `npm run bench` (bench/crypto.ts) inside the extension's
 * service worker over CDP, so Veil's crypto and OpenPGP.js run in the very context where Veil
 * decrypts. Never part of the extension build: nothing in entrypoints/ imports it. Defines
 * `globalThis.__veilBench`.
 */
import * as openpgp from 'openpgp';
import { hexToBytes, randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText, findEnvelopes } from '../lib/crypto/codec';
import { deriveKey, openMessage, sealMessage, type DerivedKey } from '../lib/crypto/envelope';
import { Keyring } from '../lib/background/keyring';
import { contentHandlers } from '../lib/background/handlers/content';
import { KeyStore } from '../lib/background/keys/store';

const CTX = { conversationId: 'dm-alice-bob', senderId: 'alice' };
const SITE = { adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] };

export type Op =
  | 'veil-encrypt'
  | 'veil-decrypt'
  | 'veil-decrypt-path'
  | 'pgp-sym-encrypt'
  | 'pgp-sym-decrypt'
  | 'pgp-pk-encrypt'
  | 'pgp-pk-decrypt';

/** ASCII text of exactly `bytes` bytes. */
function text(bytes: number): string {
  const base = 'Quarterly numbers attached, please review before Thursday. ';
  return base.repeat(Math.ceil(bytes / base.length)).slice(0, bytes);
}

/** Runs `fn` for at least `minMs` (and 3 times); returns operations per second. */
async function perSecond(fn: () => unknown, minMs: number, opsPerCall = 1): Promise<number> {
  await fn(); // warm: JIT, caches
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs || calls < 3) {
    const r = fn();
    if (r instanceof Promise) await r; // no microtask hop for synchronous work
    calls++;
    now = performance.now();
  }
  return (calls * opsPerCall * 1000) / (now - start);
}

interface State {
  key: DerivedKey;
  /** The key the extension holds (imported through the options page): the real decrypt path. */
  realKey: DerivedKey;
  keyring: Keyring;
  pgp: { pub: openpgp.PublicKey; priv: openpgp.PrivateKey; session: { data: Uint8Array; algorithm: 'aes256' } };
}
let state: State | undefined;

async function setup(realKeyId: string, realSecretHex: string): Promise<void> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'bob' }],
    format: 'object',
  });
  state = {
    key: deriveKey({ id: randomBytes(4), secret: randomBytes(32) }),
    realKey: deriveKey({ id: hexToBytes(realKeyId), secret: hexToBytes(realSecretHex) }),
    keyring: new Keyring(new KeyStore()),
    pgp: { pub: privateKey.toPublic(), priv: privateKey, session: { data: randomBytes(32), algorithm: 'aes256' } },
  };
}

const seal = (key: DerivedKey, t: string) =>
  encodeEnvelopeText(sealMessage(key, t, CTX, { sentAt: Date.now(), nonce: randomBytes(16) }));

async function run(op: Op, bytes: number, minMs: number): Promise<number> {
  if (!state) throw new Error('call setup() first');
  const { key, realKey, keyring, pgp } = state;
  const t = text(bytes);
  switch (op) {
    case 'veil-encrypt':
      return perSecond(() => seal(key, t), minMs);
    case 'veil-decrypt': {
      const env = seal(key, t);
      return perSecond(() => {
        const [f] = findEnvelopes(env);
        if (f?.kind !== 'envelope' || openMessage(key, f.frame, CTX).status !== 'decrypted')
          throw new Error('veil decrypt failed');
      }, minMs);
    }
    case 'veil-decrypt-path': {
      // The background's real handler with the real keyring (IndexedDB, derived-key cache), in the
      // batches the renderer sends: what a page opening its history costs the background.
      const batch = Math.max(1, Math.min(1000, Math.floor((1 << 20) / Math.max(bytes, 64))));
      const items = Array.from({ length: batch }, (_, i) => ({
        id: String(i),
        texts: [seal(realKey, t)],
        author: CTX.senderId,
      }));
      return perSecond(
        async () => {
          const res = await contentHandlers.decrypt(
            { conversationId: CTX.conversationId, items },
            { keyring, site: SITE },
          );
          if (!res.ok || res.items.some((r) => r.status !== 'decrypted'))
            throw new Error(`decrypt path failed: ${JSON.stringify(res).slice(0, 300)}`);
        },
        minMs,
        batch,
      );
    }
    case 'pgp-sym-encrypt':
      return perSecond(
        async () => openpgp.encrypt({ message: await openpgp.createMessage({ text: t }), sessionKey: pgp.session }),
        minMs,
      );
    case 'pgp-sym-decrypt': {
      const armored = await openpgp.encrypt({
        message: await openpgp.createMessage({ text: t }),
        sessionKey: pgp.session,
      });
      return perSecond(async () => {
        const r = await openpgp.decrypt({
          message: await openpgp.readMessage({ armoredMessage: armored }),
          sessionKeys: pgp.session,
        });
        if (r.data !== t) throw new Error('pgp decrypt failed');
      }, minMs);
    }
    case 'pgp-pk-encrypt':
      return perSecond(
        async () => openpgp.encrypt({ message: await openpgp.createMessage({ text: t }), encryptionKeys: pgp.pub }),
        minMs,
      );
    case 'pgp-pk-decrypt': {
      const armored = await openpgp.encrypt({
        message: await openpgp.createMessage({ text: t }),
        encryptionKeys: pgp.pub,
      });
      return perSecond(async () => {
        const r = await openpgp.decrypt({
          message: await openpgp.readMessage({ armoredMessage: armored }),
          decryptionKeys: pgp.priv,
        });
        if (r.data !== t) throw new Error('pgp decrypt failed');
      }, minMs);
    }
  }
}

(globalThis as unknown as { __veilBench: unknown }).__veilBench = { setup, run };
