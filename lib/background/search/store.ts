/**
 * The local search index: messages this browser decrypted, findable by word, and nothing of them
 * readable at rest. Background only; extension-private IndexedDB (`veil-search`).
 *
 * At rest (docs/security.md, "Local search"):
 * - a 32-byte index key, sealed under the keyring's non-extractable device key (the same wrapping
 *   as the keyring's keys); from it HKDF derives a document key, a bucket key and a label key;
 * - each message as one XChaCha20-Poly1305 ciphertext, padded to a multiple of 256 bytes;
 * - postings in encrypted buckets of message numbers (sizes fixed by position: bucketSlots), under
 *   labels HMAC(label key, segment, term, bucket number): pseudorandom, so the store reveals no
 *   term, no term frequency beyond the bucket count, and which buckets belong to one term only to
 *   whoever holds the index key (the bucket design of Cash et al., NDSS 2014, "Π_pack").
 * Bounded: messages go into segments of a tenth of the cap; past the cap the oldest segment is
 * deleted whole (its messages and buckets), so eviction needs no decryption.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/ciphers/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { WrappedSecret } from '../keys/wrapping';
import { phrases, queryTerms, snippet, terms, type SnippetPart } from './tokenize';

export const DEFAULT_MAX_MESSAGES = 100_000;
/**
 * Message numbers per posting bucket: a term's first bucket holds 4, each next one twice as many,
 * up to BUCKET_SLOTS. A bucket's size is fixed by its place, full or not: the store shows how many
 * buckets of each size exist (a coarse histogram of term frequencies), never which term they are.
 */
export const BUCKET_SLOTS = 128;
export const bucketSlots = (b: number): number => Math.min(BUCKET_SLOTS, 4 << Math.min(b, 5));
const PAD = 256;
/** Term fill states kept in memory for the segment being written. */
const MAX_FILL_CACHE = 20_000;
const MAX_RECENT = 20_000;

/** A message as it was shown decrypted, to be made findable. */
export interface IndexedMessage {
  keyId: string;
  messageId: string;
  site: string;
  conversationId: string;
  author: string;
  text: string;
  sentAt: number;
  signature?: 'verified' | 'failed' | 'unknown-signer' | 'missing';
  hostId?: string;
  /** The chat page it was shown on, to go back to it. */
  url?: string;
}

export interface SearchHit {
  id: number;
  site: string;
  conversationId: string;
  author: string;
  sentAt: number;
  signature?: IndexedMessage['signature'];
  snippet: SnippetPart[];
}

/** Seals the index key under the device key (KeyStore.sealWithDevice / openWithDevice). */
export interface DeviceSealer {
  sealWithDevice(label: string, bytes: Uint8Array): Promise<WrappedSecret>;
  openWithDevice(label: string, w: WrappedSecret): Promise<Uint8Array>;
}

interface Sealed {
  nonce: Uint8Array;
  ct: Uint8Array;
}
interface DocRecord extends Sealed {
  seq: number;
  seg: number;
  tag: string;
}
interface BucketRecord extends Sealed {
  seg: number;
  label: string;
}
interface State {
  id: 'state';
  next: number;
  seg: number;
  segCount: number;
  oldest: number;
}
type MetaRecord = { id: 'key'; wrapped: WrappedSecret } | State | ({ id: 'keys' } & Sealed);

interface SearchDB extends DBSchema {
  meta: { key: string; value: MetaRecord };
  docs: { key: number; value: DocRecord; indexes: { seg: number; tag: string } };
  buckets: { key: [number, string]; value: BucketRecord };
}

interface Keys {
  doc: Uint8Array;
  bucket: Uint8Array;
  label: Uint8Array;
}

const KEY_LABEL = 'search-index';
const enc = (s: string) => utf8ToBytes(s);

function seal(key: Uint8Array, aad: string, plain: Uint8Array): Sealed {
  const nonce = randomBytes(24);
  return { nonce, ct: xchacha20poly1305(key, nonce, enc(aad)).encrypt(plain) };
}
const open = (key: Uint8Array, aad: string, s: Sealed) => xchacha20poly1305(key, s.nonce, enc(aad)).decrypt(s.ct);

/** Length-prefixed and padded to a multiple of PAD: the ciphertext tells only a size class. */
function pad(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((bytes.length + 4) / PAD) * PAD);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}
const unpad = (b: Uint8Array) => b.subarray(4, 4 + new DataView(b.buffer, b.byteOffset).getUint32(0));

function packBucket(seqs: number[], b: number): Uint8Array {
  const out = new Uint8Array(4 + bucketSlots(b) * 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, seqs.length);
  seqs.forEach((s, i) => v.setUint32(4 + i * 4, s));
  return out;
}
function unpackBucket(b: Uint8Array): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: v.getUint32(0) }, (_, i) => v.getUint32(4 + i * 4));
}

export class SearchIndex {
  private db?: Promise<IDBPDatabase<SearchDB>>;
  private keys?: Promise<Keys>;
  /** For the segment being written: per term, its last bucket number and what it holds. */
  private fill = new Map<string, { b: number; seqs: number[] }>();
  private keyIds?: Set<string>;
  /**
   * Messages indexed lately (key id and message id; oldest first), so showing them again costs no
   * database read and no tag (an HMAC each: a long history shown again would hash every message).
   */
  private recent = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sealer: DeviceSealer,
    private readonly name = 'veil-search',
    public maxMessages = DEFAULT_MAX_MESSAGES,
  ) {}

  private openDb(): Promise<IDBPDatabase<SearchDB>> {
    this.db ??= openDB<SearchDB>(this.name, 1, {
      upgrade(db) {
        db.createObjectStore('meta', { keyPath: 'id' });
        const docs = db.createObjectStore('docs', { keyPath: 'seq' });
        docs.createIndex('seg', 'seg');
        docs.createIndex('tag', 'tag', { unique: true });
        db.createObjectStore('buckets', { keyPath: ['seg', 'label'] });
      },
    });
    return this.db;
  }

  /** One write or wipe at a time: each reads the state the one before left. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private indexKeys(): Promise<Keys> {
    this.keys ??= (async () => {
      const db = await this.openDb();
      const have = await db.get('meta', 'key');
      let master: Uint8Array | undefined;
      if (have && 'wrapped' in have) {
        master = await this.sealer.openWithDevice(KEY_LABEL, have.wrapped).catch(() => undefined);
        // The device key is gone (keyring database deleted): nothing here can be read again.
        if (!master) await this.clearStores(db);
      }
      if (!master) {
        master = randomBytes(32);
        await db.put('meta', { id: 'key', wrapped: await this.sealer.sealWithDevice(KEY_LABEL, master) });
      }
      const derive = (info: string) => hkdf(sha256, master, undefined, enc(`veil/search/${info}`), 32);
      return { doc: derive('doc'), bucket: derive('bucket'), label: derive('label') };
    })();
    this.keys.catch(() => (this.keys = undefined));
    return this.keys;
  }

  private label(k: Keys, seg: number, term: string, b: number): string {
    return bytesToHex(hmac(sha256, k.label, enc(`${seg}\u0000${term}\u0000${b}`)).subarray(0, 16));
  }

  private tag(k: Keys, keyId: string, messageId: string): string {
    return bytesToHex(hmac(sha256, k.label, enc(`message\u0000${keyId}\u0000${messageId}`)).subarray(0, 16));
  }

  /** Adds messages not indexed yet; returns how many were new. */
  add(messages: IndexedMessage[]): Promise<number> {
    if (messages.length === 0) return Promise.resolve(0);
    return this.serial(() => this.addNow(messages));
  }

  private async addNow(messages: IndexedMessage[]): Promise<number> {
    const ids = messages.map((m) => `${m.keyId}\u0000${m.messageId}`);
    // Re-renders (scrolling, re-opening a chat) ask again for what is indexed: no transaction then.
    if (ids.every((id) => this.recent.has(id))) return 0;
    const k = await this.indexKeys();
    const tags = messages.map((m) => this.tag(k, m.keyId, m.messageId));
    const db = await this.openDb();
    await this.rememberKeys(db, k, messages);
    const tx = db.transaction(['meta', 'docs', 'buckets'], 'readwrite');
    const docs = tx.objectStore('docs');
    const buckets = tx.objectStore('buckets');
    const meta = tx.objectStore('meta');
    const state = ((await meta.get('state')) as State | undefined) ?? {
      id: 'state',
      next: 1,
      seg: 0,
      segCount: 0,
      oldest: 0,
    };
    const segSize = Math.max(1, Math.ceil(this.maxMessages / 10));
    const seen = new Set<string>();
    const fresh: { m: IndexedMessage; tag: string }[] = [];
    const known = await Promise.all(tags.map((t) => docs.index('tag').getKey(t)));
    messages.forEach((m, i) => {
      if (known[i] === undefined && !seen.has(tags[i]!)) fresh.push({ m, tag: tags[i]! });
      seen.add(tags[i]!);
    });
    const remember = () => {
      for (const id of ids) {
        this.recent.delete(id);
        this.recent.add(id);
      }
      while (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.values().next().value!);
    };
    if (fresh.length === 0) {
      await tx.done;
      remember();
      return 0;
    }
    let count = await docs.count();
    const writes: Promise<unknown>[] = [];
    // term -> new message numbers, per segment
    const postings = new Map<number, Map<string, number[]>>();
    for (const { m, tag } of fresh) {
      if (state.segCount >= segSize) {
        state.seg++;
        state.segCount = 0;
        this.fill.clear();
      }
      // Past the cap, the oldest segment goes whole: no decryption, one range delete.
      while (count >= this.maxMessages && state.oldest < state.seg) {
        count -= await this.dropSegment(tx, state.oldest);
        state.oldest++;
      }
      const seq = state.next++;
      state.segCount++;
      count++;
      const body = pad(enc(JSON.stringify(m)));
      writes.push(docs.put({ seq, seg: state.seg, tag, ...seal(k.doc, `doc/${seq}`, body) }));
      const bySeg = postings.get(state.seg) ?? new Map<string, number[]>();
      postings.set(state.seg, bySeg);
      for (const term of terms(m.text)) {
        const list = bySeg.get(term) ?? [];
        list.push(seq);
        bySeg.set(term, list);
      }
    }
    for (const [seg, byTerm] of postings) {
      if (seg < state.oldest) continue; // written and evicted in one batch (a tiny cap)
      const fills = await Promise.all(
        [...byTerm.keys()].map(
          async (term) => [term, await this.fillOf(buckets, k, seg, term, seg === state.seg)] as const,
        ),
      );
      for (const [term, f] of fills) {
        const put = () => {
          const label = this.label(k, seg, term, f.b);
          writes.push(buckets.put({ seg, label, ...seal(k.bucket, `${seg}/${label}`, packBucket(f.seqs, f.b)) }));
        };
        let dirty = false;
        for (const seq of byTerm.get(term)!) {
          if (f.seqs.length >= bucketSlots(f.b)) {
            if (dirty) put(); // a batch with more than a bucket's worth of one term
            f.b++;
            f.seqs = [];
          }
          f.seqs.push(seq);
          dirty = true;
        }
        put();
      }
    }
    writes.push(meta.put(state));
    try {
      await Promise.all(writes);
      await tx.done;
    } catch (e) {
      this.fill.clear(); // what it holds may be ahead of the database now
      throw e;
    }
    remember();
    return fresh.length;
  }

  /** Where `term` stands in segment `seg`: its last bucket's number and contents. */
  private async fillOf(
    buckets: { get(key: [number, string]): Promise<BucketRecord | undefined> },
    k: Keys,
    seg: number,
    term: string,
    cache: boolean,
  ): Promise<{ b: number; seqs: number[] }> {
    const id = `${seg}\u0000${term}`;
    const have = this.fill.get(id);
    if (have) {
      this.fill.delete(id);
      this.fill.set(id, have);
      return have;
    }
    const found = await this.readBuckets(buckets, k, seg, term);
    const f = found.length ? { b: found.length - 1, seqs: found.at(-1)! } : { b: 0, seqs: [] as number[] };
    if (cache) {
      this.fill.set(id, f);
      if (this.fill.size > MAX_FILL_CACHE) this.fill.delete(this.fill.keys().next().value!);
    }
    return f;
  }

  /** Every bucket of `term` in `seg`, in order (a few gets at once). */
  private async readBuckets(
    buckets: { get(key: [number, string]): Promise<BucketRecord | undefined> },
    k: Keys,
    seg: number,
    term: string,
  ): Promise<number[][]> {
    const out: number[][] = [];
    // One get first: most terms are absent from most segments, or hold one bucket there.
    for (let b = 0, step = 1; ; b += step, step = Math.min(step * 2, 16)) {
      const labels = Array.from({ length: step }, (_, i) => this.label(k, seg, term, b + i));
      const got = await Promise.all(labels.map((l) => buckets.get([seg, l])));
      for (let i = 0; i < got.length; i++) {
        const r = got[i];
        if (!r) return out;
        out.push(unpackBucket(open(k.bucket, `${seg}/${labels[i]}`, r)));
      }
    }
  }

  private async dropSegment(
    tx: IDBPTransaction<SearchDB, ('meta' | 'docs' | 'buckets')[], 'readwrite'>,
    seg: number,
  ): Promise<number> {
    const docs = tx.objectStore('docs');
    const n = await docs.index('seg').count(seg);
    const keys = await docs.index('seg').getAllKeys(seg);
    await Promise.all(keys.map((key) => docs.delete(key)));
    await tx.objectStore('buckets').delete(IDBKeyRange.bound([seg, ''], [seg, '\uffff']));
    this.recent.clear(); // an evicted message shown again goes back in
    return n;
  }

  /** The key ids whose messages are in the index, sealed: a removed key's messages must go. */
  private async rememberKeys(db: IDBPDatabase<SearchDB>, k: Keys, messages: IndexedMessage[]): Promise<void> {
    const ids = await this.indexedKeyIds();
    if (messages.every((m) => ids.has(m.keyId))) return;
    for (const m of messages) ids.add(m.keyId);
    await db.put('meta', { id: 'keys', ...seal(k.doc, 'keys', enc(JSON.stringify([...ids]))) });
  }

  /** Key ids of the messages in the index (empty when there is no index). */
  async indexedKeyIds(): Promise<Set<string>> {
    if (this.keyIds) return this.keyIds;
    const db = await this.openDb();
    const rec = await db.get('meta', 'keys');
    if (!rec || !('ct' in rec)) return (this.keyIds = new Set());
    const k = await this.indexKeys();
    this.keyIds = new Set(JSON.parse(new TextDecoder().decode(open(k.doc, 'keys', rec))) as string[]);
    return this.keyIds;
  }

  /** Resolves once every write and wipe asked for so far has finished. */
  async settled(): Promise<void> {
    await this.queue;
  }

  async count(): Promise<number> {
    return (await this.openDb()).count('docs');
  }

  /**
   * Messages holding every word of `query`, newest first. `site`: only that chat's messages.
   * Unspaced scripts are narrowed by bigrams, then checked as whole runs in the decrypted text.
   */
  async search(query: string, opts: { site?: string; limit?: number } = {}): Promise<SearchHit[]> {
    const wanted = queryTerms(query);
    if (wanted.length === 0 || phrases(query).length === 0) return [];
    const limit = opts.limit ?? 50;
    const db = await this.openDb();
    const state = (await db.get('meta', 'state')) as State | undefined;
    if (!state) return [];
    const k = await this.indexKeys();
    const hits: SearchHit[] = [];
    for (let seg = state.seg; seg >= state.oldest && hits.length < limit; seg--) {
      const tx = db.transaction('buckets', 'readonly');
      let candidates: Set<number> | undefined;
      // Rarest first would be cheaper; the query's own order is good enough for short queries.
      for (const term of wanted) {
        const lists = await this.readBuckets(tx.store, k, seg, term);
        const here = new Set(lists.flat());
        candidates = candidates ? new Set([...candidates].filter((s) => here.has(s))) : here;
        if (candidates.size === 0) break;
      }
      await tx.done;
      const ordered = [...(candidates ?? [])].sort((a, b) => b - a);
      for (const seq of ordered) {
        if (hits.length >= limit) break;
        const rec = await db.get('docs', seq);
        if (!rec) continue;
        const m = JSON.parse(new TextDecoder().decode(unpad(open(k.doc, `doc/${seq}`, rec)))) as IndexedMessage;
        if (opts.site && m.site !== opts.site) continue;
        const parts = snippet(m.text, query);
        if (!parts) continue;
        hits.push({
          id: seq,
          site: m.site,
          conversationId: m.conversationId,
          author: m.author,
          sentAt: m.sentAt,
          signature: m.signature,
          snippet: parts,
        });
      }
    }
    return hits;
  }

  /** One indexed message, for going back to it (its page and the chat's id for it). */
  async message(id: number): Promise<IndexedMessage | undefined> {
    const db = await this.openDb();
    const rec = await db.get('docs', id);
    if (!rec) return undefined;
    const k = await this.indexKeys();
    return JSON.parse(new TextDecoder().decode(unpad(open(k.doc, `doc/${id}`, rec)))) as IndexedMessage;
  }

  /**
   * Deletes everything, the index key included: what the disk may still hold of deleted records
   * is ciphertext under a key that no longer exists anywhere.
   */
  wipe(): Promise<void> {
    return this.serial(async () => {
      await this.clearStores(await this.openDb());
      this.keys = undefined;
    });
  }

  private async clearStores(db: IDBPDatabase<SearchDB>): Promise<void> {
    const tx = db.transaction(['meta', 'docs', 'buckets'], 'readwrite');
    await Promise.all([
      tx.objectStore('meta').clear(),
      tx.objectStore('docs').clear(),
      tx.objectStore('buckets').clear(),
      tx.done,
    ]);
    this.keyIds = undefined;
    this.fill.clear();
    this.recent.clear();
  }
}
