/**
 * The replay log reads a whole batch at once (one round of database reads, not one per message):
 * a batch must still be judged as if its messages came one by one. The vendor can put the same
 * envelope twice into one history load, once as another message; the second is the replay.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ReplayLog, STALE_AFTER_MS } from '../../lib/background/replay-log';

const DAY = 24 * 3600_000;
const now = 200 * DAY;
const sighting = (messageId: string, hostId: string, sentAt = now) => ({
  keyId: '0a0b0c0d',
  messageId,
  conversationId: 'dm-a-b',
  author: 'alice',
  hostId,
  sentAt,
});

describe('replay log, one batch', () => {
  it('judges a message twice in one batch against its first sighting in that batch', async () => {
    const log = new ReplayLog('veil-replay-batch-1', () => now);
    expect(
      await log.witness([sighting('m1', 'h1'), sighting('m2', 'h2'), sighting('m1', 'h1'), sighting('m1', 'h9')]),
    ).toEqual([
      { replayed: false, stale: false },
      { replayed: false, stale: false },
      { replayed: false, stale: false }, // the same message rendered twice
      { replayed: true, stale: false }, // the same envelope as another message
    ]);
    // And it was stored: a later batch sees the first binding.
    expect((await log.witness([sighting('m2', 'h-other')]))[0]!.replayed).toBe(true);
  });

  it('judges each author and conversation of one batch on its own (places are hashed once per batch)', async () => {
    const log = new ReplayLog('veil-replay-batch-3', () => now);
    const as = (messageId: string, author: string, conversationId = 'dm-a-b') => ({
      ...sighting(messageId, `h-${messageId}`),
      author,
      conversationId,
    });
    const first = [as('m1', 'alice'), as('m2', 'bob'), as('m3', 'alice', 'dm-a-c')];
    expect((await log.witness(first)).map((v) => v.replayed)).toEqual([false, false, false]);
    // From memory now: the same messages again, then each one under another author, conversation
    // or chat message id.
    const moved = { ...as('m2', 'bob'), hostId: 'h-m1' };
    const again = [...first, as('m1', 'bob'), as('m2', 'alice'), as('m3', 'alice'), moved];
    expect((await log.witness(again)).map((v) => v.replayed)).toEqual([false, false, false, true, true, true, true]);
    // Through the database (a new message in the batch): the same verdicts.
    expect((await log.witness([...again, as('m4', 'bob')])).map((v) => v.replayed)).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('judges long chat ids (hashed every time, not kept in memory) as short ones', async () => {
    const log = new ReplayLog('veil-replay-batch-4', () => now);
    const [id1, id2] = ['a'.repeat(200), `${'a'.repeat(199)}b`];
    expect((await log.witness([sighting('m1', id1)]))[0]!.replayed).toBe(false);
    const again = await log.witness([sighting('m1', id1), sighting('m1', id2), sighting('m1', id1)]);
    expect(again.map((v) => v.replayed)).toEqual([false, true, false]);
  });

  it("keeps a conversation's history range from the batch's oldest message", async () => {
    let t = now;
    const log = new ReplayLog('veil-replay-batch-2', () => t);
    // First visit: a batch reaching back 30 days, newest first (order within the batch must not matter).
    await log.witness([sighting('a', 'ha', now - DAY), sighting('b', 'hb', now - 30 * DAY)]);
    t += 5 * DAY;
    // An old message first shown between messages already read: stale; older than all of them: not.
    const between = sighting('c', 'hc', now - 10 * DAY);
    const older = sighting('d', 'hd', now - 40 * DAY);
    expect(STALE_AFTER_MS).toBeLessThan(10 * DAY);
    expect(await log.witness([between, older])).toEqual([
      { replayed: false, stale: true },
      { replayed: false, stale: false },
    ]);
  });
});
