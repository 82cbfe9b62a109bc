/**
 * The background's one search index and when it fills and empties: every message a protected
 * page had decrypted (history and live) goes in while policy `localSearch` allows it; the whole
 * index is erased when the user locks Veil, when the policy turns search off, and when a key whose
 * messages it holds is revoked or removed (policy, key service, deletion).
 */
import type { DecryptedItem, DecryptItem } from '../../messaging/protocol';
import type { Keyring } from '../keyring';
import { policy } from '../policy-source';
import { DEFAULT_MAX_MESSAGES, type IndexedMessage, SearchIndex } from './store';

let index: SearchIndex | undefined;

export function installSearch(keyring: Keyring): SearchIndex {
  index = new SearchIndex(keyring.store);
  return index;
}

export function searchIndex(): SearchIndex | undefined {
  if (index) index.maxMessages = policy().localSearchMaxMessages ?? DEFAULT_MAX_MESSAGES;
  return index;
}

export const searchEnabled = (): boolean => policy().localSearch !== false;

/**
 * Indexes what a page was just shown decrypted. Only messages shown as they were sent: not a
 * replay, not moved from another conversation, not under another author's name, not a revoked
 * key's. Never delays the page: the index is written after the answer.
 */
export function indexDecrypted(
  site: string,
  conversationId: string,
  url: string | undefined,
  pairs: { item: DecryptItem; result: DecryptedItem }[],
): void {
  const idx = searchIndex();
  if (!idx || !searchEnabled()) return;
  const messages: IndexedMessage[] = [];
  for (const { item, result: r } of pairs) {
    if (r.status !== 'decrypted' || !r.text || !r.messageId || !r.keyId || r.keyStatus === 'revoked') continue;
    if (r.replayed || r.movedFromOtherConversation || r.senderMismatch || r.graftedEdit) continue;
    messages.push({
      keyId: r.keyId,
      messageId: r.messageId,
      site,
      conversationId,
      author: item.author.slice(0, 256),
      text: r.text,
      sentAt: r.sentAt ?? Date.now(),
      signature: r.signature?.state,
      hostId: item.hostId?.slice(0, 256),
      url: url?.slice(0, 8192),
    });
  }
  void idx.add(messages).catch((e) => console.warn('Veil: search index not written', e));
}

/** Erases the index (the user locked Veil, or asked for it). */
export async function wipeSearch(): Promise<void> {
  await index?.wipe();
}

/**
 * After a keyring or policy change: erases the index when search is off, or when any key whose
 * messages it holds is no longer usable here (revoked, deleted, no longer delivered).
 */
export async function reconcileSearch(keyring: Keyring): Promise<void> {
  if (!index) return;
  try {
    if (!searchEnabled()) return await index.wipe();
    const indexed = await index.indexedKeyIds();
    if (indexed.size === 0) return;
    const usable = new Set((await keyring.list()).filter((k) => k.status !== 'revoked').map((k) => k.id));
    if ([...indexed].some((id) => !usable.has(id))) await index.wipe();
  } catch (e) {
    console.warn('Veil: search index check failed', e);
  }
}
