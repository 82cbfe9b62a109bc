/**
 * The archive's verdict on each message: the same code the browser runs (lib/background/decrypt.ts
 * decryptItem and the replay rules of judgeReplays, lib/i18n/status-text.ts briefViewOf), fed from an export instead of a
 * page. What the page keeps per load and the background keeps in IndexedDB (chunk groups, the
 * replay log) is kept here in bounded memory, so a million-message archive runs in constant space.
 */
import { findEnvelopes } from '../lib/crypto/codec';
import { KIND_CHUNK, parseChunk } from '../lib/crypto/chunks';
import { KIND_MESSAGE } from '../lib/crypto/envelope';
import { applyReplayVerdicts, decryptFrame, decryptItem, replaySightings } from '../lib/background/decrypt';
import { judgeQuotes, QuoteBook } from '../lib/background/quote-book';
import type { Keyring } from '../lib/background/keyring';
import type { Sighting, Verdict } from '../lib/background/replay-log';
import { STALE_AFTER_MS } from '../lib/background/replay-log';
import type { DecryptedItem, DecryptItem } from '../lib/messaging/protocol';
import {
  incompleteView,
  type MessageStatus,
  mixedAuthorsView,
  notEncryptedView,
  briefViewOf,
} from '../lib/i18n/status-text';

/** One message as the vendor exported it. */
export interface RawMessage {
  conversation: string;
  author: string;
  /** When the vendor stored it (ms since epoch), if the export says. */
  time?: number;
  /** The vendor's id for the message. */
  id: string;
  text: string;
  /**
   * What decryptFrame said about the message's one envelope, when a worker thread already decoded
   * and opened it (scripts/archive-workers.ts); the rest of the judgement stays in order here.
   */
  opened?: DecryptedItem;
}

export type ArchiveStatus = Exclude<MessageStatus, 'pending' | 'locked'> | 'verified';

/** One line of the decrypted archive. */
export interface ArchiveRecord {
  conversation: string;
  author: string;
  time?: number;
  id: string;
  /** Vendor ids of every part, for a message that travelled in chunks. */
  parts?: string[];
  status: ArchiveStatus;
  /** What the browser's badge says (English). */
  label: string;
  plaintext?: string;
  keyId?: string;
  fingerprint?: string;
  keyStatus?: string;
  /** When the sender sealed it (from inside the authenticated frame). */
  sentAt?: number;
  /** The author, when their signature verified against the directory. */
  verifiedSigner?: string;
  /** For a signature by someone other than the author: who made it. */
  signedBy?: string;
  /** An edit: the Veil message id (hex) of the message whose text it replaces. */
  editOf?: string;
  /** Quotes of encrypted messages: checked against the originals earlier in the export. */
  quote?: 'verified' | 'unseen' | 'mismatch';
  reason?: string;
}

/** Statuses that count as read: decrypted, with nothing wrong. */
const NOT_ENCRYPTED_LABEL = notEncryptedView().label;

export const OK_STATUSES: ReadonlySet<ArchiveStatus> = new Set(['decrypted', 'verified']);

export interface JudgeOptions {
  /** The adapter id the keys' scope is checked against, as the browser does per page. */
  site: string;
  /** Authentic messages remembered for replay detection (the browser's log holds 100,000). */
  replayWindow: number;
  /** Chunked messages awaiting their parts at once. */
  chunkWindow: number;
}

/**
 * A map that forgets its oldest key once full. The eviction order lives in a ring of keys: asking a
 * Map for its first key after many deletions walks every deleted slot, which made a million-message
 * archive quadratic.
 */
class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  private readonly ring: (string | undefined)[];
  private next = 0;
  constructor(cap: number) {
    this.ring = new Array<string | undefined>(cap);
  }
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (!this.map.has(key)) {
      const oldest = this.ring[this.next];
      if (oldest !== undefined) this.map.delete(oldest);
      this.ring[this.next] = key;
      this.next = (this.next + 1) % this.ring.length;
    }
    this.map.set(key, value);
  }
}

/** The background's replay log, in memory and bounded; "now" is when the vendor stored the message. */
class WindowReplayLog {
  now = 0;
  private readonly seen: BoundedMap<{ where: string; host?: string; stale: boolean }>;
  private readonly conversations: BoundedMap<{ knownSince: number; oldestSentAt: number }>;
  constructor(cap: number) {
    this.seen = new BoundedMap(cap);
    this.conversations = new BoundedMap(cap);
  }

  witness(sightings: Sighting[]): Verdict[] {
    return sightings.map((s) => this.one(s));
  }

  /** The rules of lib/background/replay-log.ts witness(), one sighting at a time. */
  private one(s: Sighting): Verdict {
    const id = `${s.keyId}:${s.messageId}`;
    const where = `${s.conversationId}\u0000${s.author}`;
    const first = this.seen.get(id);
    if (first) {
      const replayed = first.where !== where || (!!first.host && !!s.hostId && first.host !== s.hostId);
      return { replayed, stale: first.stale };
    }
    const convId = `${s.keyId}\u0000${s.conversationId}`;
    const conv = this.conversations.get(convId);
    const now = this.now || s.sentAt;
    const skewed = Math.abs(now - s.sentAt) > STALE_AFTER_MS;
    // "Watched on an earlier visit" offline: the conversation already had messages stored well before.
    const stale = skewed && !!conv && conv.knownSince < now - 10 * 60_000 && conv.oldestSentAt < s.sentAt;
    this.seen.set(id, { where, host: s.hostId, stale });
    if (!conv) this.conversations.set(convId, { knownSince: now, oldestSentAt: s.sentAt });
    else if (s.sentAt < conv.oldestSentAt) conv.oldestSentAt = s.sentAt;
    return { replayed: false, stale };
  }
}

interface PendingGroup {
  count: number;
  parts: Map<number, RawMessage>;
}

/**
 * Judges messages in export order. `push` returns the records that are final (a chunked message's
 * record comes when its last part arrives); `finish` returns what was still waiting for parts.
 */
export class ArchiveJudge {
  private readonly replays: WindowReplayLog;
  private readonly groups = new Map<string, PendingGroup>();
  /** The originals quotes are checked against: the last 20,000 authentic messages, as in a browser. */
  private readonly quotes: QuoteBook;

  constructor(
    private readonly keyring: Keyring,
    private readonly opts: JudgeOptions,
  ) {
    this.replays = new WindowReplayLog(opts.replayWindow);
    this.quotes = new QuoteBook();
  }

  /** Synchronous for a message a worker thread opened already (the common case: no await per message). */
  push(m: RawMessage): ArchiveRecord[] | Promise<ArchiveRecord[]> {
    if (m.opened) return [this.settle(m, this.itemOf(m, []), m.opened)];
    return this.pushRaw(m);
  }

  private async pushRaw(m: RawMessage): Promise<ArchiveRecord[]> {
    const found = findEnvelopes(m.text);
    if (found.length === 0) return [base(m, 'not-encrypted', NOT_ENCRYPTED_LABEL, m.text)];
    const f = found[0]!;
    if (found.length === 1 && f.kind === 'envelope') {
      if (f.frame[0] === KIND_CHUNK) {
        const c = parseChunk(f.frame);
        if (!('error' in c)) return this.chunk(m, c.group, c.index, c.count);
      } else if (f.frame[0] === KIND_MESSAGE) {
        // The common case, already decoded: what assembleFrame would return for this one text.
        return [await this.judge(m, f.frame)];
      }
    }
    // Several envelopes in one chat message: the browser shows each on its own, so does the archive.
    const out: ArchiveRecord[] = [];
    for (const [i, e] of found.entries()) {
      const text = m.text.slice(e.start, e.end);
      out.push(await this.judge(found.length === 1 ? m : { ...m, id: `${m.id}#${i + 1}` }, [text]));
    }
    return out;
  }

  /** Parts still missing at the end of the archive: shown as the browser shows them, incomplete. */
  finish(): ArchiveRecord[] {
    const out = [...this.groups.values()].map((g) => this.incomplete(g));
    this.groups.clear();
    return out;
  }

  private async chunk(m: RawMessage, group: string, index: number, count: number): Promise<ArchiveRecord[]> {
    const key = `${m.conversation}\u0000${group}`;
    let g = this.groups.get(key);
    const out: ArchiveRecord[] = [];
    if (!g) {
      // Bounded like the page's: a flood of invented groups pushes the oldest out as incomplete.
      if (this.groups.size >= this.opts.chunkWindow) {
        const oldest = this.groups.keys().next().value!;
        out.push(this.incomplete(this.groups.get(oldest)!));
        this.groups.delete(oldest);
      }
      this.groups.set(key, (g = { count, parts: new Map() }));
    }
    if (count !== g.count || (!g.parts.has(index) && g.parts.size >= g.count)) {
      // A part that does not fit its group (another count, one part too many): the browser ignores it.
      out.push({ ...base(m, 'malformed', mixedAuthorsView().label), reason: 'chunk that fits no message' });
      return out;
    }
    g.parts.set(index, m);
    if (g.parts.size < g.count) return out;
    this.groups.delete(key);
    const parts = [...g.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    const first = parts[0]!;
    const ids = parts.map((p) => p.id);
    if (new Set(parts.map((p) => p.author)).size > 1) {
      out.push({
        ...base(first, 'malformed', mixedAuthorsView().label),
        parts: ids,
        reason: 'parts posted by different authors',
      });
      return out;
    }
    const texts = parts.map((p) => findEnvelopeText(p.text));
    out.push({ ...(await this.judge(first, texts)), parts: ids });
    return out;
  }

  private incomplete(g: PendingGroup): ArchiveRecord {
    const parts = [...g.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    const head = g.parts.get(0) ?? parts[0]!;
    return {
      ...base(head, 'incomplete', incompleteView(g.parts.size, g.count).label),
      parts: parts.map((p) => p.id),
      reason: `${g.parts.size} of ${g.count} parts`,
    };
  }

  /**
   * `what`: the envelope texts (decoded and reassembled as the background does), the frame itself,
   * or decryptFrame's answer for it.
   */
  private async judge(m: RawMessage, what: string[] | Uint8Array): Promise<ArchiveRecord> {
    const item = this.itemOf(m, Array.isArray(what) ? what : []);
    const result: DecryptedItem = Array.isArray(what)
      ? await decryptItem(this.keyring, m.conversation, item, this.opts.site)
      : await openFrame(this.keyring, m, what, this.opts.site);
    return this.settle(m, item, result);
  }

  private itemOf(m: RawMessage, texts: string[]): DecryptItem {
    return { id: m.id, texts, author: m.author, hostId: m.id };
  }

  /** The order-bound part of the judgement (replays, quotes) and the record, as the browser judges. */
  private settle(m: RawMessage, item: DecryptItem, result: DecryptedItem): ArchiveRecord {
    this.replays.now = m.time ?? 0;
    // The background's judgeReplays, with this in-memory log answering at once.
    const { decrypted, sightings } = replaySightings(m.conversation, [{ item, result }], true);
    applyReplayVerdicts(decrypted, this.replays.witness(sightings));
    judgeQuotes(this.quotes, `inline:${this.opts.site}`, m.conversation, [{ item, result }]);
    // The status and label do not depend on the send time; leaving it out skips formatting a date.
    const sentAt = result.sentAt;
    result.sentAt = undefined;
    const view = briefViewOf(result, m.author, false); // the archive writes the label, never the tooltip
    const verified = view.status === 'decrypted' && result.signature?.state === 'verified';
    return {
      conversation: m.conversation,
      author: m.author,
      time: m.time,
      id: m.id,
      status: verified ? 'verified' : (view.status as ArchiveStatus),
      label: view.label,
      plaintext: result.text,
      keyId: result.keyId,
      fingerprint: result.fingerprint,
      keyStatus: result.keyStatus,
      sentAt,
      verifiedSigner: verified ? m.author : undefined,
      signedBy: result.signature?.signedBy,
      editOf: result.editOf?.messageId,
      quote: result.quote,
      reason: result.reason,
    };
  }
}

/** The one message frame of a chat message, when that is all it holds (the common case). */
export function singleFrame(text: string): Uint8Array | undefined {
  const found = findEnvelopes(text);
  const f = found[0];
  return found.length === 1 && f!.kind === 'envelope' && f!.frame[0] === KIND_MESSAGE ? f!.frame : undefined;
}

/** decryptFrame for one export message: the part of the judgement that needs no order (worker threads). */
export function openFrame(keyring: Keyring, m: RawMessage, frame: Uint8Array, site: string): Promise<DecryptedItem> {
  return decryptFrame(keyring, m.conversation, { id: m.id, author: m.author }, frame, site);
}

function base(m: RawMessage, status: ArchiveStatus, label: string, plaintext?: string): ArchiveRecord {
  return { conversation: m.conversation, author: m.author, time: m.time, id: m.id, status, label, plaintext };
}

/** The envelope text inside a chunk message (hosts may wrap it in other text). */
function findEnvelopeText(text: string): string {
  const f = findEnvelopes(text)[0];
  return f ? text.slice(f.start, f.end) : text;
}
