/**
 * The background's persistent replay log: a message is bound to where it was first shown, so a
 * re-render passes and a re-delivery as another message does not, across restarts; an envelope
 * sealed long ago that first shows up inside history already read is flagged; the log is bounded.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { ReplayLog, STALE_AFTER_MS } from '../../lib/background/replay-log';

let n = 0;
const DAY = 24 * 3600_000;
const sighting = (messageId: string, extra: Partial<Parameters<ReplayLog['witness']>[0][0]> = {}) => ({
  keyId: '0a0b0c0d',
  messageId,
  conversationId: 'dm-a-b',
  author: 'alice',
  hostId: `h-${messageId}`,
  sentAt: clock.t,
  ...extra,
});
const clock = { t: 100 * DAY };

describe('replay log', () => {
  it('survives a restart: the same envelope under a new host id, author or conversation is a replay', async () => {
    const name = `veil-replay-test-${n++}`;
    const before = new ReplayLog(name, () => clock.t);
    expect(await before.witness([sighting('m1')])).toEqual([{ replayed: false, stale: false }]);
    const after = new ReplayLog(name, () => clock.t); // a new service worker, same database
    expect(await after.witness([sighting('m1')])).toEqual([{ replayed: false, stale: false }]);
    // Shown without the id it first had (the page stripped it): a re-delivery cannot hide that way.
    expect(await after.witness([sighting('m1', { hostId: undefined })])).toEqual([{ replayed: true, stale: false }]);
    expect((await after.witness([sighting('m1', { hostId: 'h-new' })]))[0]!.replayed).toBe(true);
    expect((await after.witness([sighting('m1', { author: 'mallory' })]))[0]!.replayed).toBe(true);
    expect((await after.witness([sighting('m1', { conversationId: 'dm-x' })]))[0]!.replayed).toBe(true);
  });

  it('flags an old envelope first shown inside history already read, not history loaded for the first time', async () => {
    const log = new ReplayLog(`veil-replay-test-${n++}`, () => clock.t);
    const start = clock.t;
    // First visit: a conversation with a month of history, oldest first. Nothing is suspicious.
    const history = Array.from({ length: 30 }, (_, i) => sighting(`h${i}`, { sentAt: start - (30 - i) * DAY }));
    expect((await log.witness(history)).some((v) => v.stale)).toBe(false);
    clock.t += 5 * DAY;
    // Scrolling further up on a later visit: older than anything seen, fine.
    expect((await log.witness([sighting('older', { sentAt: start - 60 * DAY })]))[0]!.stale).toBe(false);
    // A fresh message: fine. The vendor re-delivering a 20-day-old one (never shown here): flagged.
    expect((await log.witness([sighting('new', { sentAt: clock.t - 60_000 })]))[0]!.stale).toBe(false);
    const old = sighting('pay-it', { sentAt: start - 20 * DAY });
    expect((await log.witness([old]))[0]!.stale).toBe(true);
    expect((await log.witness([old]))[0]).toEqual({ replayed: false, stale: true }); // stays flagged on re-render
    // Sealed in the future (a skewed clock or a forged time) is as suspicious.
    expect((await log.witness([sighting('future', { sentAt: clock.t + STALE_AFTER_MS + DAY })]))[0]!.stale).toBe(true);
  });

  it('stays within its cap, dropping the oldest sightings', async () => {
    const name = `veil-replay-test-${n++}`;
    const log = new ReplayLog(name, () => clock.t++, { messages: 100, conversations: 10 });
    for (let i = 0; i < 10; i++) {
      await log.witness(Array.from({ length: 50 }, (_, j) => sighting(`c${i}-${j}`, { conversationId: `conv-${i}` })));
    }
    const { openDB } = await import('idb');
    const db = await openDB(name);
    expect(await db.count('messages')).toBeLessThanOrEqual(100);
    expect(await db.count('conversations')).toBeLessThanOrEqual(10);
    expect(await db.get('messages', '0a0b0c0d:c9-49')).toBeDefined(); // the newest stay
    expect(await db.get('messages', '0a0b0c0d:c0-0')).toBeUndefined();
    db.close();
  });

  it('judges a re-rendered batch from memory, and a re-delivery in it still as a replay', async () => {
    const log = new ReplayLog(`veil-replay-test-${n++}`, () => clock.t);
    const batch = Array.from({ length: 20 }, (_, i) => sighting(`r${i}`));
    expect((await log.witness(batch)).every((v) => !v.replayed)).toBe(true);
    const opened = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      expect((await log.witness(batch)).every((v) => !v.replayed)).toBe(true);
      const moved = [...batch.slice(1), sighting('r0', { conversationId: 'dm-x' })];
      expect((await log.witness(moved)).map((v) => v.replayed)).toEqual([...Array(19).fill(false), true]);
      expect(opened).not.toHaveBeenCalled();
      // One message never shown in the batch: the database is asked, and the new one recorded.
      expect((await log.witness([...batch, sighting('fresh')])).some((v) => v.replayed)).toBe(false);
      expect(opened).toHaveBeenCalledTimes(1);
    } finally {
      opened.mockRestore();
    }
  });
});
