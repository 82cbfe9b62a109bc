/**
 * What each per-message status says. One place, so every site and mode uses the same words.
 */
import type { DecryptedItem } from '../messaging/protocol';

export type MessageStatus =
  | 'decrypted' | 'unknown-key' | 'tampered' | 'malformed' | 'moved' | 'sender-mismatch' | 'replayed'
  | 'revoked-key' | 'pending' | 'incomplete';

export interface StatusView {
  status: MessageStatus;
  tone: 'ok' | 'warn' | 'bad' | 'muted';
  label: string;
  detail: string;
}

export function viewOf(r: DecryptedItem, author: string, replayed: boolean): StatusView {
  const key = r.keyId ? `key ${r.keyId}${r.fingerprint ? ` (${r.fingerprint})` : ''}` : '';
  switch (r.status) {
    case 'unknown-key':
      return {
        status: 'unknown-key', tone: 'warn', label: `🔑 Unknown key ${r.keyId}`,
        detail: `Encrypted with key ${r.keyId}, which is not in your keyring. Ask your IT admin for key ${r.keyId}.`,
      };
    case 'tampered':
      return {
        status: 'tampered', tone: 'bad', label: '⚠ Tampered',
        detail: `This message was altered after it was sent (${key}); its content cannot be trusted and is not shown.`,
      };
    case 'malformed':
      return {
        status: 'malformed', tone: 'bad', label: '⚠ Malformed',
        detail: `This looks like a Veil message but cannot be read: ${r.reason ?? 'invalid'}.`,
      };
    case 'decrypted':
      break;
  }
  const sent = r.sentAt ? ` · sent ${new Date(r.sentAt).toLocaleString()}` : '';
  if (r.movedFromOtherConversation) {
    return { status: 'moved', tone: 'bad', label: '⚠ From another conversation',
      detail: `Authentic, but written in a different conversation and posted here (${key}${sent}).` };
  }
  if (r.senderMismatch) {
    return { status: 'sender-mismatch', tone: 'bad', label: `⚠ Not written by ${author}`,
      detail: `Authentic, but its sender is not ${author}: someone re-posted another person's message (${key}${sent}).` };
  }
  if (replayed) {
    return { status: 'replayed', tone: 'bad', label: '⚠ Replayed',
      detail: `This exact message was already shown earlier in this conversation (${key}${sent}).` };
  }
  if (r.keyStatus === 'revoked') {
    return { status: 'revoked-key', tone: 'warn', label: '🔓 Revoked key',
      detail: `Decrypted with a revoked key (${key}${sent}); anyone holding that key could have written it.` };
  }
  return { status: 'decrypted', tone: 'ok', label: '🔒 Decrypted', detail: `End-to-end encrypted with ${key}${sent}.` };
}
