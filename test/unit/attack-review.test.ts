/**
 * An adversarial review of the background's defences, as the vendor would attack them: replay
 * detection when the page strips the chat's message ids, and an import whose scope pattern takes
 * over encrypting a conversation without the review noticing.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { bytesToHex, randomBytes } from '@noble/ciphers/utils.js';
import type { KeyRecord } from '../../lib/keys/model';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';

vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));
vi.mock('../../lib/background/policy-source', () => ({ policy: () => ({ allowUserKeys: true }) }));

const { ReplayLog } = await import('../../lib/background/replay-log');
const { judgeReplays } = await import('../../lib/background/decrypt');
const { Keyring, noLockCache } = await import('../../lib/background/keyring');
const { KeyStore } = await import('../../lib/background/keys/store');
const { globsIntersect } = await import('../../lib/keys/model');

let n = 0;

describe('replay: the page strips the message id', () => {
  const decrypted = (): DecryptedItem => ({ id: '0', status: 'decrypted', keyId: '0a0b0c0d', messageId: 'm1' });
  const shown = async (log: InstanceType<typeof ReplayLog>, hostId: string | undefined) => {
    const item: DecryptItem = { id: '0', texts: ['VEIL1…'], author: 'alice', hostId };
    const result = decrypted();
    await judgeReplays(log, 'dm-alice-bob', [{ item, result }], true); // a chat whose ids survive reloads
    return !!result.replayed;
  };

  it('a message first shown under its id, re-delivered without one, is a replay', async () => {
    const log = new ReplayLog(`veil-attack-review-${n++}`);
    expect(await shown(log, 'msg-17')).toBe(false);
    expect(await shown(log, 'msg-17')).toBe(false); // re-rendered: fine
    // The vendor deletes the original and delivers the envelope again, with no id to compare.
    expect(await shown(log, undefined)).toBe(true);
  });

  it('and first shown without an id, then under one: also a replay', async () => {
    const log = new ReplayLog(`veil-attack-review-${n++}`);
    expect(await shown(log, undefined)).toBe(false);
    expect(await shown(log, 'msg-99')).toBe(true);
  });
});

describe('import review: a scope pattern that overlaps without being equal', () => {
  const ring = () => new Keyring(new KeyStore(`veil-attack-review-ring-${n++}-${Date.now()}`), noLockCache);
  const key = (label: string, conversations: string[], createdAt: number, site = 'fixture-chat'): KeyRecord => ({
    id: bytesToHex(randomBytes(4)),
    secret: randomBytes(32),
    label,
    scope: { site, conversations },
    status: 'active',
    createdAt,
    source: 'imported',
  });

  it('`dm*-*` over an existing `dm-*` takes over every direct conversation: the review says so', async () => {
    const keyring = ring();
    const dms = key('Direct messages', ['dm-*'], 1_000);
    await keyring.importAll([dms]);
    // As specific as `dm-*` (three literal characters), newer, and not literally `dm-*`.
    const evil = key('Direct messages (new)', ['dm*-*'], 2_000);
    const plan = await keyring.planImport([evil], {}, 'bundle');
    // What the import would do if let through:
    await keyring.importAll([evil]);
    expect((await keyring.encryptionKey('fixture-chat', 'dm-alice-bob'))?.id).toBe(evil.id);
    expect(plan.needsConfirmation).toBe(true);
    expect(plan.keys[0]!.replaces).toEqual([{ id: dms.id, label: 'Direct messages' }]);
  });

  it('a scope for every site over a site key with an overlapping pattern: the review says so', async () => {
    const keyring = ring();
    const team = key('Team', ['ch-team-*'], 1_000);
    await keyring.importAll([team]);
    // Nine literal characters beat eight, whatever the site: it encrypts `ch-team-x-team-1`.
    const evil = key('Everyone', ['ch-*-*team-*'], 2_000, '*');
    const plan = await keyring.planImport([evil], {}, 'bundle');
    await keyring.importAll([evil]);
    expect((await keyring.encryptionKey('fixture-chat', 'ch-team-x-team-1'))?.id).toBe(evil.id);
    expect(plan.needsConfirmation).toBe(true);
    expect(plan.keys[0]!.replaces).toEqual([{ id: team.id, label: 'Team' }]);
  });

  it('glob intersection is exact on small cases', () => {
    const cases: [string, string, boolean][] = [
      ['dm-*', 'dm*-*', true],
      ['dm-*', 'ch-*', false],
      ['*a', 'b*', true],
      ['a*', 'b*', false],
      ['abc', 'a*c', true],
      ['abc', 'a*d', false],
      ['*', 'anything', true],
      ['x*y*z', '*q*', true],
      ['ab', 'abc', false],
      ['a*b', '*c*', true],
      ['a*b', 'ac', false],
    ];
    for (const [a, b, want] of cases) {
      expect(globsIntersect(a, b), `${a} ∩ ${b}`).toBe(want);
      expect(globsIntersect(b, a), `${b} ∩ ${a}`).toBe(want);
    }
  });
});
