/**
 * Which authentic messages this browser has already shown, and as what: the memory that lets Veil
 * say "replayed" when the vendor delivers an old envelope again as a new message, across reloads
 * and restarts, and "old message" when an envelope sealed long ago first turns up in a
 * conversation the user has been reading since.
 *
 * A message is bound, the first time it is shown, to where it was shown: conversation, author and
 * (when the chat's ids survive a reload) the chat's own message id. The same message rendered
 * again (re-opening the chat, scrolling, a second tab) matches its binding; the same envelope
 * shown as another message does not. What is stored is a digest of the binding, not the
 * conversation or names themselves. Bounded: the oldest entries go first past the cap.
 *
 * Extension-private IndexedDB (background only; the page cannot read or reset it).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/ciphers/utils.js';

/** Sealed this long before (or after) it first appeared: worth a warning. */
export const STALE_AFTER_MS = 48 * 3600_000;
/** A conversation counts as "watched before" only from an earlier visit, not this page load. */
const EARLIER_VISIT_MS = 10 * 60_000;
export const MAX_MESSAGES = 100_000;
const MAX_CONVERSATIONS = 20_000;
/** First sightings kept in memory too, so re-renders (scrolling, re-opening a chat) skip the database. */
const MAX_REMEMBERED = 20_000;
/**
 * Chat ids up to this length are kept beside a remembered sighting (chats use short ids); a longer
 * one is hashed each time: a page chooses its ids, and 20,000 long ones would be megabytes.
 */
const MAX_KEPT_HOST_ID = 64;

interface SeenMessage {
  id: string; // keyId:messageId
  where: string; // digest of conversation and author
  host?: string; // digest of the chat's message id, when the chat's ids are stable
  firstSeen: number;
  stale: boolean;
}

interface WatchedConversation {
  id: string; // digest of key id and conversation
  knownSince: number;
  oldestSentAt: number;
}

interface ReplayDB extends DBSchema {
  messages: { key: string; value: SeenMessage; indexes: { firstSeen: number } };
  conversations: { key: string; value: WatchedConversation; indexes: { knownSince: number } };
}

export interface Sighting {
  keyId: string;
  messageId: string;
  conversationId: string;
  author: string;
  /** The chat's message id; only where the adapter's ids are stable across reloads. */
  hostId?: string;
  sentAt: number;
}

export interface Verdict {
  replayed: boolean;
  stale: boolean;
}

const digest = (...parts: string[]) => bytesToHex(sha256(utf8ToBytes(parts.join('\u0000'))).subarray(0, 16));
/** digest() of two parts, each pair hashed once; made per batch (a batch is bounded, the pairs pages send over time are not). */
function memoDigest(): (a: string, b: string) => string {
  const known = new Map<string, Map<string, string>>();
  return (a, b) => {
    let byB = known.get(a);
    if (!byB) known.set(a, (byB = new Map()));
    let d = byB.get(b);
    if (d === undefined) byB.set(b, (d = digest(a, b)));
    return d;
  };
}

/** Whether a message already shown is now shown as something else: another place, author or chat id. */
function judgeAgain(first: SeenMessage, where: string, host: string | undefined): Verdict {
  // With stable ids (hostId given only then), an id missing on one sighting and present on the
  // other is a change too: a page that strips the id must not pass a re-delivery as a re-render.
  return { replayed: first.where !== where || first.host !== host, stale: first.stale };
}

export class ReplayLog {
  private db?: Promise<IDBPDatabase<ReplayDB>>;
  private counts?: { messages: number; conversations: number };
  /** A bounded copy of first sightings (oldest use dropped first). The database stays the truth. */
  private readonly remembered = new Map<string, SeenMessage>();
  /**
   * The chat's id a remembered sighting's host digest was made from (memory only: the database
   * keeps the digest alone), so a message shown again under the same id is not hashed again.
   */
  private readonly hostIds = new WeakMap<SeenMessage, string>();

  constructor(
    private readonly name = 'veil-replay',
    private readonly now: () => number = Date.now,
    private readonly caps = { messages: MAX_MESSAGES, conversations: MAX_CONVERSATIONS },
  ) {}

  private open(): Promise<IDBPDatabase<ReplayDB>> {
    this.db ??= openDB<ReplayDB>(this.name, 1, {
      upgrade(db) {
        db.createObjectStore('messages', { keyPath: 'id' }).createIndex('firstSeen', 'firstSeen');
        db.createObjectStore('conversations', { keyPath: 'id' }).createIndex('knownSince', 'knownSince');
      },
    });
    return this.db;
  }

  /** Records a batch of decrypted messages (one transaction) and judges each against its first sighting. */
  async witness(sightings: Sighting[]): Promise<Verdict[]> {
    if (sightings.length === 0) return [];
    const ids = sightings.map((s) => `${s.keyId}:${s.messageId}`);
    const known = ids.map((id) => this.recall(id));
    // A batch is one conversation of a few authors: each place is hashed once, not once per message.
    const placeOf = memoDigest();
    const whereOf = (s: Sighting) => placeOf(s.conversationId, s.author);
    // A batch of messages all shown before is judged from memory: nothing to read, nothing to write.
    if (known.every((k) => k !== undefined)) {
      return sightings.map((s, i) => judgeAgain(known[i]!, whereOf(s), this.hostOf(s, known[i])));
    }
    const db = await this.open();
    const tx = db.transaction(['messages', 'conversations'], 'readwrite');
    const messages = tx.objectStore('messages');
    const conversations = tx.objectStore('conversations');
    this.counts ??= { messages: await messages.count(), conversations: await conversations.count() };
    const now = this.now();
    const convOf = memoDigest();
    const convIds = sightings.map((s) => convOf(s.keyId, s.conversationId));
    // Every read of the batch at once: requests queued in one transaction are served together,
    // where one awaited read per message cost a round trip to the database each (seconds for a
    // long history). The batch's own first sightings are kept here, so a message twice in one
    // batch and a conversation's running state read as they would one by one.
    const [firsts, convList] = await Promise.all([
      Promise.all(ids.map((id, i) => known[i] ?? messages.get(id))),
      Promise.all([...new Set(convIds)].map(async (id) => [id, await conversations.get(id)] as const)),
    ]);
    const convs = new Map(convList);
    const batch = new Map<string, SeenMessage>();
    const writes: Promise<unknown>[] = [];
    const touched = new Set<string>();
    const verdicts = sightings.map((s, i): Verdict => {
      const id = ids[i]!;
      const where = whereOf(s);
      const first = firsts[i] ?? batch.get(id);
      const host = this.hostOf(s, first);
      if (first) {
        this.remember(first);
        return judgeAgain(first, where, host);
      }
      const convId = convIds[i]!;
      const conv = convs.get(convId);
      // Stale: sealed far from now, in a conversation watched on an earlier visit whose history
      // already reached back past this message (so it would have been shown then). Loading older
      // history (scrolling up) or a first visit is not suspicious; an old message showing up
      // between messages already seen, or below them, is.
      const skewed = Math.abs(now - s.sentAt) > STALE_AFTER_MS;
      const stale = skewed && !!conv && conv.knownSince < now - EARLIER_VISIT_MS && conv.oldestSentAt < s.sentAt;
      const seen: SeenMessage = { id, where, host, firstSeen: now, stale };
      this.keepHostId(seen, s.hostId);
      batch.set(id, seen);
      writes.push(messages.put(seen));
      this.counts!.messages++;
      if (!conv) this.counts!.conversations++;
      const next: WatchedConversation = {
        id: convId,
        knownSince: conv?.knownSince ?? now,
        oldestSentAt: Math.min(conv?.oldestSentAt ?? s.sentAt, s.sentAt),
      };
      convs.set(convId, next);
      touched.add(convId);
      return { replayed: false, stale };
    });
    for (const id of touched) writes.push(conversations.put(convs.get(id)!)); // its state after the batch
    await Promise.all(writes);
    await this.evict(tx);
    await tx.done;
    for (const seen of batch.values()) this.remember(seen); // only once the database holds them
    return verdicts;
  }

  /** The digest of a sighting's host id, from memory when its first sighting had that same id. */
  private hostOf(s: Sighting, first: SeenMessage | undefined): string | undefined {
    if (!s.hostId) return undefined;
    if (first && this.hostIds.get(first) === s.hostId) return first.host;
    const host = digest(s.hostId);
    if (first && host === first.host) this.keepHostId(first, s.hostId);
    return host;
  }

  private keepHostId(seen: SeenMessage, hostId: string | undefined): void {
    if (hostId && hostId.length <= MAX_KEPT_HOST_ID) this.hostIds.set(seen, hostId);
  }

  private recall(id: string): SeenMessage | undefined {
    const seen = this.remembered.get(id);
    if (seen) {
      this.remembered.delete(id); // most recently used last
      this.remembered.set(id, seen);
    }
    return seen;
  }

  private remember(seen: SeenMessage): void {
    this.remembered.delete(seen.id);
    this.remembered.set(seen.id, seen);
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
  }

  /** Past a cap, drops the oldest tenth: eviction runs rarely and each write stays cheap. */
  private async evict(tx: ReturnType<IDBPDatabase<ReplayDB>['transaction']>): Promise<void> {
    const c = this.counts!;
    if (c.messages > this.caps.messages) {
      c.messages -= await dropOldest(
        tx.objectStore('messages').index('firstSeen'),
        c.messages - this.caps.messages * 0.9,
      );
    }
    if (c.conversations > this.caps.conversations) {
      c.conversations -= await dropOldest(
        tx.objectStore('conversations').index('knownSince'),
        c.conversations - this.caps.conversations * 0.9,
      );
    }
  }
}

async function dropOldest(
  index: { openCursor(): Promise<{ delete?(): Promise<void>; continue(): Promise<unknown> } | null> },
  howMany: number,
): Promise<number> {
  let dropped = 0;
  let cursor = await index.openCursor();
  while (cursor && dropped < howMany) {
    await cursor.delete!(); // a readwrite transaction's cursor can delete
    dropped++;
    cursor = (await cursor.continue()) as typeof cursor;
  }
  return dropped;
}

/** The background's one log. */
export const replayLog = new ReplayLog();
