/**
 * What the quotes in new messages are checked against: each authentic message this browser showed,
 * by where it was shown (site and mode), conversation and message id, with its author. In memory
 * (the background's, which holds the keys) and bounded; after a restart, quotes of messages not
 * shown again since say "not checked". Short texts are kept as they are and hashed only when a
 * quote names them (most messages are never quoted); long ones as their digest.
 */
import { bytesToHex } from '@noble/ciphers/utils.js';
import { quoteDigest, wellFormed } from '../crypto/quotes';
import type { DecryptedItem, DecryptItem } from '../messaging/protocol';

const MAX_ENTRIES = 20_000;
/** Texts up to this length are kept as text; longer ones as a digest (memory stays bounded). */
const MAX_KEPT_CHARS = 2_048;

interface Entry {
  author: string;
  text?: string;
  digest?: string;
  /** Two different messages claimed this id (a sender reusing someone's nonce): nothing is checked against it. */
  conflict?: boolean;
}

/** Where a message was shown: quotes are checked only against messages shown in the same place. */
export type BookPlace = `${'inline' | 'isolated'}:${string}`;

export class QuoteBook {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max = MAX_ENTRIES) {}

  note(place: BookPlace, conversationId: string, messageId: string, author: string, text: string): void {
    const key = `${place}\n${conversationId}\n${messageId}`;
    const digest = text.length > MAX_KEPT_CHARS ? bytesToHex(quoteDigest(text)) : undefined;
    const seen = this.entries.get(key);
    if (seen) {
      // The first showing stays; another text or author under the same id spoils the entry.
      const same =
        seen.author === wellFormed(author) && (seen.text !== undefined ? seen.text === text : seen.digest === digest);
      if (!same) seen.conflict = true;
      this.entries.delete(key); // re-inserted last: the most recently shown are kept
      this.entries.set(key, seen);
    } else {
      this.entries.set(key, { author: wellFormed(author), ...(digest ? { digest } : { text }) });
    }
    // Trimmed an eighth at a time: deleting one entry per note leaves the map's front full of
    // holes that every next trim would walk past again.
    if (this.entries.size <= this.max) return;
    let drop = this.entries.size - this.max + (this.max >> 3);
    for (const oldest of this.entries.keys()) {
      if (drop-- <= 0) break;
      this.entries.delete(oldest);
    }
  }

  /** The original a quote names, as checkable facts; undefined when not shown here (or spoiled). */
  original(
    place: BookPlace,
    conversationId: string,
    messageId: string,
  ): { author: string; digest: string } | undefined {
    const e = this.entries.get(`${place}\n${conversationId}\n${messageId}`);
    if (!e || e.conflict) return undefined;
    return { author: e.author, digest: e.digest ?? bytesToHex(quoteDigest(e.text ?? '')) };
  }

  get size(): number {
    return this.entries.size;
  }
}

export const quoteBook = new QuoteBook();

/** Shown as authentic, by its author, in its place: only such a message is an original a quote can match. */
function authentic(r: DecryptedItem): boolean {
  return (
    r.status === 'decrypted' &&
    !!r.messageId &&
    !r.movedFromOtherConversation &&
    !r.senderMismatch &&
    !r.replayed &&
    !r.staleOnArrival &&
    !r.graftedEdit &&
    r.signature?.state !== 'failed' &&
    r.keyStatus !== 'revoked'
  );
}

/**
 * Notes every authentic message of a batch, then judges the quotes in it, so a reply shown in the
 * same batch as its original is checked whatever their order. Run after judgeReplays (its flags
 * decide what is authentic). `quotedMessages` come from decryptFrame and are replaced by the verdict
 * and the quoted authors.
 */
export function judgeQuotes(
  book: QuoteBook,
  place: BookPlace,
  conversationId: string,
  pairs: { item: Pick<DecryptItem, 'author'>; result: DecryptedItem }[],
): void {
  for (const { item, result: r } of pairs)
    if (authentic(r)) book.note(place, conversationId, r.messageId!, item.author, r.text ?? '');
  for (const { result: r } of pairs) {
    const refs = r.quotedMessages;
    if (!refs) continue;
    delete r.quotedMessages;
    if (r.quote === 'mismatch') continue;
    let verdict: 'verified' | 'unseen' = 'verified';
    const authors: string[] = [];
    for (const ref of refs) {
      const original = book.original(place, conversationId, ref.messageId);
      if (!original) {
        verdict = 'unseen';
        continue;
      }
      if (original.digest !== ref.digest || (ref.author !== '' && ref.author !== original.author)) {
        r.quote = 'mismatch';
        break;
      }
      if (!authors.includes(original.author)) authors.push(original.author);
    }
    if (r.quote === 'mismatch') continue;
    r.quote = verdict;
    if (authors.length) r.quotedAuthors = authors;
  }
}
