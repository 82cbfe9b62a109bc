/**
 * When the background's search index fills and empties (lib/background/search/service.ts): only
 * messages shown as they were sent go in; search off by policy, a revoked key or a key no longer
 * delivered erases everything.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';

vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));

const { KeyStore } = await import('../../lib/background/keys/store');
const { setPolicy } = await import('../../lib/background/policy-source');
const { DEFAULT_POLICY } = await import('../../lib/policy/policy');
const service = await import('../../lib/background/search/service');

let keys: { id: string; status: string }[] = [];
let n = 0;
const keyring = () =>
  ({ store: new KeyStore(`search-service-${n++}`), list: async () => keys }) as unknown as Parameters<
    typeof service.installSearch
  >[0];

const pair = (i: number, text: string, extra: Partial<DecryptedItem> = {}) => ({
  item: { id: String(i), texts: ['VEIL1…'], author: 'alice', hostId: `h${i}` } as DecryptItem,
  result: {
    id: String(i),
    status: 'decrypted',
    text,
    keyId: 'aabbccdd',
    keyStatus: 'active',
    messageId: String(i).padStart(32, '0'),
    sentAt: 1_700_000_000_000,
    ...extra,
  } as DecryptedItem,
});

let kr: ReturnType<typeof keyring>;
beforeEach(() => {
  setPolicy({ ...DEFAULT_POLICY, managed: true });
  keys = [{ id: 'aabbccdd', status: 'active' }];
  kr = keyring();
  service.installSearch(kr);
});

async function indexed(): Promise<number> {
  await service.searchIndex()!.settled();
  return service.searchIndex()!.count();
}

describe('search service', () => {
  it('indexes decrypted messages, but not replays, moved, misattributed, grafted or revoked-key ones', async () => {
    service.indexDecrypted('fixture-chat', 'dm-alice-bob', 'http://chat/?conv=bob', [
      pair(1, 'kept message'),
      pair(2, 'replayed one', { replayed: true }),
      pair(3, 'moved one', { movedFromOtherConversation: true }),
      pair(4, 'misattributed one', { senderMismatch: true }),
      pair(5, 'grafted one', { graftedEdit: true }),
      pair(6, 'revoked one', { keyStatus: 'revoked' }),
      pair(7, 'tampered one', { status: 'tampered' }),
    ]);
    expect(await indexed()).toBe(1);
    const [hit] = await service.searchIndex()!.search('kept');
    expect(hit).toMatchObject({ conversationId: 'dm-alice-bob', author: 'alice' });
    expect(await service.searchIndex()!.search('one')).toEqual([]);
  });

  it('keeps nothing while policy turns search off, and erases what was there', async () => {
    service.indexDecrypted('fixture-chat', 'c', undefined, [pair(1, 'before')]);
    expect(await indexed()).toBe(1);
    setPolicy({ ...DEFAULT_POLICY, managed: true, localSearch: false });
    await service.reconcileSearch(kr);
    expect(await indexed()).toBe(0);
    service.indexDecrypted('fixture-chat', 'c', undefined, [pair(2, 'after')]);
    expect(await indexed()).toBe(0);
  });

  it.each([
    ['revoked', [{ id: 'aabbccdd', status: 'revoked' }]],
    ['removed', [{ id: 'other000', status: 'active' }]],
  ])('erases the index when a key whose messages it holds is %s', async (_what, after) => {
    service.indexDecrypted('fixture-chat', 'c', undefined, [pair(1, 'under the key')]);
    expect(await indexed()).toBe(1);
    keys = [...keys, { id: 'other000', status: 'active' }];
    await service.reconcileSearch(kr);
    expect(await indexed()).toBe(1); // a new key changes nothing
    keys = after;
    await service.reconcileSearch(kr);
    expect(await indexed()).toBe(0);
  });

  it('a key revoked right after its messages were shown leaves none of them findable', async () => {
    keys = [...keys, { id: 'other000', status: 'active' }];
    service.indexDecrypted('fixture-chat', 'c', undefined, [pair(1, 'earlier', { keyId: 'other000' })]);
    expect(await indexed()).toBe(1);
    service.indexDecrypted('fixture-chat', 'c', undefined, [pair(2, 'fresh words')]);
    await new Promise((resolve) => setImmediate(resolve)); // the worker's next event: a revocation
    keys = [
      { id: 'aabbccdd', status: 'revoked' },
      { id: 'other000', status: 'active' },
    ];
    await service.reconcileSearch(kr);
    expect(await service.searchIndex()!.search('fresh')).toEqual([]);
    expect(await indexed()).toBe(0);
  });

  it('a lock erases it', async () => {
    service.indexDecrypted('fixture-chat', 'c', undefined, [pair(1, 'locked away')]);
    expect(await indexed()).toBe(1);
    await service.wipeSearch();
    expect(await indexed()).toBe(0);
  });
});
