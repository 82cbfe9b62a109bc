/**
 * Property-based fuzzing (fast-check) of everything that parses untrusted input: envelope text and
 * frames, key bundles, policy. Bounded here (FUZZ_RUNS, default small for `npm test`); `npm run fuzz`
 * runs the same properties with 100,000+ inputs each. A reported failure replays with its seed:
 * `FUZZ_SEED=<seed> npm run fuzz`. The harness itself never throws on a generated value, so every
 * failure is the product's.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText, findEnvelopes } from '../../lib/crypto/codec';
import { toEnvelopeTexts } from '../../lib/crypto/chunks';
import { deriveKey, openMessage, sealMessage } from '../../lib/crypto/envelope';
import { decryptItem } from '../../lib/background/decrypt';
import type { Keyring } from '../../lib/background/keyring';
import { BundleError, createBundle, openBundle } from '../../lib/crypto/bundle';
import { parseManagedPolicy } from '../../lib/policy/parse';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
/** FUZZ_SEED replays a reported failure: fast-check prints the seed with every counterexample. */
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const runs = (numRuns: number) => (SEED === undefined ? { numRuns } : { numRuns, seed: SEED });
/** Sized for RUNS inputs on a loaded 2-core machine (each key-bundle input may run scrypt). */
const TIMEOUT = 120_000 + RUNS * 50;

/** CPU time (ms) spent in fn: what pathological backtracking costs, which a busy machine does not inflate. */
async function cpuMs<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const before = process.cpuUsage();
  const value = await fn();
  const { user, system } = process.cpuUsage(before);
  return { value, ms: (user + system) / 1000 };
}
const STATUSES = ['decrypted', 'unknown-key', 'locked', 'tampered', 'malformed'];

const keyId = randomBytes(4);
const secret = randomBytes(32);
const key = deriveKey({ id: keyId, secret });
/** The background's decrypt path over a one-key keyring, as the content script would call it. */
const ring = {
  get: async (id: string) =>
    id === bytesToHex(keyId)
      ? { id, fingerprint: 'FP', status: 'active', scope: { site: '*', conversations: ['*'] } }
      : undefined,
  derivedFor: async (id: string) => (id === bytesToHex(keyId) ? key : undefined),
  directory: async () => new Map(),
} as unknown as Keyring;
const ctx = { conversationId: 'dm-alice-bob', senderId: 'alice' };
const sample = encodeEnvelopeText(sealMessage(key, 'hello there', ctx, { sentAt: 1e12, nonce: randomBytes(16) }));

/** Mutations of a valid envelope: flips, inserts, deletes, truncations, splices of host junk. */
const mutatedEnvelope = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.nat(sample.length),
        fc.constantFrom('flip', 'insert', 'delete', 'zw', 'space'),
        fc.string({ minLength: 1, maxLength: 1 }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    fc.option(fc.nat(sample.length)),
  )
  .map(([edits, cut]) => {
    let s = sample;
    for (const [at, op, ch] of edits) {
      const i = at % (s.length + 1);
      if (op === 'flip') s = s.slice(0, i) + ch + s.slice(i + 1);
      if (op === 'insert') s = s.slice(0, i) + ch + s.slice(i);
      if (op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
      if (op === 'zw') s = s.slice(0, i) + '\u200b' + s.slice(i);
      if (op === 'space') s = s.slice(0, i) + '\n ' + s.slice(i);
    }
    return cut === null ? s : s.slice(0, cut);
  });

async function judge(text: string) {
  const { value, ms } = await cpuMs(async () => ({
    found: findEnvelopes(text),
    r: await decryptItem(ring, ctx.conversationId, { id: '1', texts: [text], author: 'alice' }, 'fixture-chat'),
  }));
  expect(STATUSES).toContain(value.r.status);
  if (value.r.status === 'decrypted') expect(typeof value.r.text).toBe('string');
  expect(ms).toBeLessThan(250); // no pathological backtracking
  return value;
}

describe('fuzz: envelope parsing and opening', { timeout: TIMEOUT }, () => {
  it('arbitrary text never throws and always gets a clear status', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'grapheme' }),
          fc.string().map((s) => `VEIL1${s}`),
          fc.string({ unit: fc.constantFrom(...'VEIL10abcXYZ \u200b') }),
        ),
        async (t) => {
          await judge(t);
        },
      ),
      runs(RUNS),
    );
  });

  it('mutated envelopes are never shown as anything but the original text', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedEnvelope, async (t) => {
        const { r } = await judge(t);
        if (r.status === 'decrypted') expect(r.text).toBe('hello there'); // only ignorable edits survive
      }),
      runs(RUNS),
    );
  });

  it('oversized and pathological inputs finish quickly', async () => {
    for (const t of [
      'V'.repeat(200_000),
      `VEIL1${'1'.repeat(300_000)}`,
      `VEIL1${'1 '.repeat(100_000)}0`,
      'VEIL'.repeat(50_000),
    ]) {
      expect((await cpuMs(() => findEnvelopes(t))).ms).toBeLessThan(2_000);
    }
  });

  it('seal/open round-trips any Unicode text and context', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (text, conversationId, senderId) => {
          const c = { conversationId, senderId };
          const frame = sealMessage(key, text, c, { sentAt: 1.7e12, nonce: randomBytes(16) });
          const [found] = findEnvelopes(encodeEnvelopeText(frame));
          expect(found?.kind).toBe('envelope');
          expect(openMessage(key, (found as { frame: Uint8Array }).frame, c)).toMatchObject({
            status: 'decrypted',
            text,
          });
        },
      ),
      runs(Math.min(RUNS, 2_000)),
    );
  });

  it('chunked messages reassemble exactly in any order, whatever the limit', async () => {
    let refused = 0;
    let chunked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', minLength: 40, maxLength: 2_000, size: 'medium' }),
        fc.integer({ min: 60, max: 400 }),
        fc.infiniteStream(fc.nat()),
        async (text, limit, order) => {
          const frame = sealMessage(key, text, ctx, { sentAt: 1.7e12, nonce: randomBytes(16) });
          let texts: string[];
          try {
            texts = toEnvelopeTexts(frame, limit, randomBytes(4));
          } catch {
            refused++;
            return; // refused: too many parts for this limit; that is a clear error, not a truncation
          }
          chunked += texts.length > 1 ? 1 : 0;
          const shuffled = [...texts].sort(() => (order.next().value % 3) - 1);
          for (const t of texts) expect(t.length).toBeLessThanOrEqual(limit);
          const r = await decryptItem(
            ring,
            ctx.conversationId,
            { id: 'x', texts: shuffled, author: 'alice' },
            'fixture-chat',
          );
          expect(r).toMatchObject({ status: 'decrypted', text });
        },
      ),
      runs(Math.min(RUNS, 300)),
    );
    expect(chunked).toBeGreaterThan(Math.min(RUNS, 300) / 4); // the property really exercised chunking
    void refused;
  });
});

describe('fuzz: key bundle importer', { timeout: TIMEOUT }, () => {
  it('mutated bundles fail with a BundleError or import exactly; never another exception', async () => {
    const valid = await createBundle(
      [
        {
          id: 'a1b2c3d4',
          secret,
          label: 'k',
          scope: { site: '*', conversations: ['*'] },
          status: 'active',
          createdAt: 1,
          source: 'generated',
        },
      ],
      'fuzz passphrase',
      { kdf: { N: 2 ** 15, r: 8, p: 1 } },
    );
    const fields = Object.keys(valid) as (keyof typeof valid)[];
    const value = fc.oneof(fc.jsonValue(), fc.string(), fc.constant(undefined), fc.constant(2 ** 40));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), value, fc.boolean(), async (field, v, raw) => {
        // The importer only ever gets file text. Objects become their JSON, not String(v): that
        // can throw (e.g. {"toString": false}) and would blame the harness for the product.
        const whole = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
        const text = raw ? whole : JSON.stringify({ ...valid, [field]: v });
        try {
          await openBundle(text, 'fuzz passphrase');
        } catch (e) {
          expect(e).toBeInstanceOf(BundleError);
          expect((e as Error).message.length).toBeGreaterThan(10);
        }
      }),
      {
        ...runs(Math.max(50, Math.floor(RUNS / 20))),
        // Values whose String() throws, where the importer once built a message or a number from them.
        examples: [
          ['format', { toString: false }, true],
          ['version', { toString: false }, false],
          ['kdf', { name: 'scrypt', N: { valueOf: false, toString: false }, r: 8, p: 1, salt: '' }, false],
          ['keys', [{ id: { toString: false } }], false],
        ],
      },
    ); // each run that reaches scrypt costs ~50 ms
  });

  it('arbitrary JSON is refused cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (v) => {
        await expect(openBundle(JSON.stringify(v), 'x')).rejects.toBeInstanceOf(BundleError);
      }),
      runs(RUNS),
    );
  });
});

describe('fuzz: policy loader', { timeout: TIMEOUT }, () => {
  it('arbitrary managed-storage contents never throw and never yield an unprotected site silently', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(
            fc.constantFrom(
              'protectedSites',
              'requireEncryption',
              'mode',
              'keyBundles',
              'flagUnencrypted',
              'allowUserKeys',
            ),
            fc.jsonValue(),
          ),
        ),
        (v) => {
          const r = parseManagedPolicy(v);
          // A refused policy is visible (errors) and strict (fail closed); it never drops protection quietly.
          if (r.policy.errors?.length) {
            expect(r.policy.requireEncryption).toBe(true);
            expect(r.keys).toEqual([]);
          }
        },
      ),
      runs(RUNS),
    );
  });
});
