/**
 * What each per-message status says. One place, so every site and mode uses the same words.
 */
import type { DecryptedItem } from '../messaging/protocol';

export type MessageStatus =
  | 'decrypted' | 'unknown-key' | 'locked' | 'tampered' | 'malformed' | 'moved' | 'sender-mismatch' | 'replayed'
  | 'revoked-key' | 'unverified' | 'pending' | 'incomplete' | 'not-encrypted';

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
    case 'locked':
      return {
        status: 'locked', tone: 'warn', label: '🔒 Veil is locked',
        detail: `Encrypted with ${key}. Unlock Veil with your passphrase (Veil's options) to read it.`,
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
  const sig = r.signature;
  if (sig?.state === 'failed') {
    return { status: 'sender-mismatch', tone: 'bad', label: sig.signedBy ? `⚠ Signed by ${sig.signedBy}, not ${author}` : `⚠ Not signed by ${author}`,
      detail: `The signature does not match ${author}'s signing key${sig.signedBy ? `; it was made by ${sig.signedBy}` : ''} (${key}${sent}).` };
  }
  if (replayed) {
    return { status: 'replayed', tone: 'bad', label: '⚠ Replayed',
      detail: `This exact message was already shown earlier in this conversation (${key}${sent}).` };
  }
  if (r.keyStatus === 'revoked') {
    return { status: 'revoked-key', tone: 'warn', label: '🔓 Revoked key',
      detail: `Decrypted with a revoked key (${key}${sent}); anyone holding that key could have written it.` };
  }
  if (sig?.state === 'missing') {
    return { status: 'unverified', tone: 'warn', label: '🔒 Decrypted · unsigned',
      detail: `${author} normally signs messages, but this one is not signed: its sender is not verified (${key}${sent}).` };
  }
  if (sig?.state === 'verified') {
    return { status: 'decrypted', tone: 'ok', label: `🔒 Decrypted · ✓ ${author}`,
      detail: `End-to-end encrypted with ${key}; signed by ${author}, verified against the directory${sent}.` };
  }
  const unknownSigner = sig?.state === 'unknown-signer' ? ` Signed, but ${author} has no public key in your directory.` : '';
  return { status: 'decrypted', tone: 'ok', label: '🔒 Decrypted', detail: `End-to-end encrypted with ${key}${sent}.${unknownSigner}` };
}

/** A plaintext message in a protected chat (policy `flagUnencrypted`): a vendor that strips the marker shows up. */
export const NOT_ENCRYPTED_VIEW: StatusView = {
  status: 'not-encrypted', tone: 'warn', label: '⚠ Not encrypted',
  detail: 'This message was not encrypted with Veil: the chat service can read it, and its sender and content are not verified.',
};
