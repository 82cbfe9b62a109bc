/**
 * What the quotes in new messages are checked against: each message text this browser decrypted,
 * by conversation and message id. In memory (the background's, which holds the keys) and bounded
 * (the page decides how many messages it shows); after a restart, quotes of messages not shown
 * again since say "not checked". Texts, not digests: a digest per message would cost every
 * message a hash, while only the few that are quoted need one.
 */
import { bytesToHex } from '@noble/ciphers/utils.js';
import { quoteDigest } from '../crypto/quotes';
import type { DecryptedItem } from '../messaging/protocol';

const MAX_ENTRIES = 20_000;

export class QuoteBook {
  private readonly texts = new Map<string, string>();

  constructor(private readonly max = MAX_ENTRIES) {}

  note(conversationId: string, messageId: string, text: string): void {
    const key = `${conversationId}\n${messageId}`;
    this.texts.delete(key); // re-inserted last: the most recently shown are kept
    this.texts.set(key, text);
    // Trimmed an eighth at a time: deleting one entry per note leaves the map's front full of
    // holes that every next trim would walk past again.
    if (this.texts.size <= this.max) return;
    let drop = this.texts.size - this.max + (this.max >> 3);
    for (const oldest of this.texts.keys()) {
      if (drop-- <= 0) break;
      this.texts.delete(oldest);
    }
  }

  digestOf(conversationId: string, messageId: string): string | undefined {
    const text = this.texts.get(`${conversationId}\n${messageId}`);
    return text === undefined ? undefined : bytesToHex(quoteDigest(text));
  }

  get size(): number {
    return this.texts.size;
  }
}

export const quoteBook = new QuoteBook();

/**
 * Notes every message of a batch that is authentic here, then judges the quotes in it, so a reply
 * shown in the same batch as its original is checked whatever their order. `quotedIds`/`digests`
 * come from decryptFrame and are removed from the results (the page needs only the verdict).
 */
export function judgeQuotes(book: QuoteBook, conversationId: string, results: DecryptedItem[]): void {
  for (const r of results) {
    if (r.status === 'decrypted' && r.messageId && !r.movedFromOtherConversation && !r.senderMismatch)
      book.note(conversationId, r.messageId, r.text ?? '');
  }
  for (const r of results) {
    const refs = r.quotedMessages;
    if (!refs) continue;
    delete r.quotedMessages;
    if (r.quote === 'mismatch') continue;
    let verdict: 'verified' | 'unseen' = 'verified';
    for (const ref of refs) {
      const seen = book.digestOf(conversationId, ref.messageId);
      if (seen === undefined) verdict = 'unseen';
      else if (seen !== ref.digest) {
        r.quote = 'mismatch';
        break;
      }
    }
    if (r.quote !== 'mismatch') r.quote = verdict;
  }
}
