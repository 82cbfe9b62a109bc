/**
 * Decrypting what a content script found on the page: envelope texts in, statuses out.
 * Each item is judged on its own; one bad item never fails the batch.
 */
import { bytesToHex, concatBytes } from '@noble/ciphers/utils.js';
import { findEnvelopes } from '../crypto/codec';
import { KIND_CHUNK, parseChunk } from '../crypto/chunks';
import { KIND_MESSAGE, openMessage, parseHeader, verifySignature } from '../crypto/envelope';
import type { DecryptedItem, DecryptItem } from '../messaging/protocol';
import { LockedError } from './keys/wrapping';
import type { Keyring } from './keyring';

type FrameOrError = { frame: Uint8Array } | { reason: string };

/** One envelope text, or a complete set of chunk texts, to one message frame. */
export function assembleFrame(texts: string[]): FrameOrError {
  const frames: Uint8Array[] = [];
  for (const t of texts) {
    const found = findEnvelopes(t);
    if (found.length !== 1) return { reason: 'not exactly one envelope' };
    const f = found[0]!;
    if (f.kind === 'malformed') return { reason: f.reason };
    frames.push(f.frame);
  }
  if (frames.length === 1 && frames[0]![0] === KIND_MESSAGE) return { frame: frames[0]! };
  const chunks = [];
  for (const f of frames) {
    if (f[0] !== KIND_CHUNK)
      return { reason: f[0] === KIND_MESSAGE ? 'message mixed with chunks' : 'unknown frame kind' };
    const c = parseChunk(f);
    if ('error' in c) return { reason: c.error };
    chunks.push(c);
  }
  const { group, count } = chunks[0]!;
  const slices: Uint8Array[] = new Array(count);
  for (const c of chunks) {
    if (c.group !== group || c.count !== count) return { reason: 'chunks of different messages' };
    slices[c.index] = c.slice;
  }
  if (chunks.length !== count || slices.includes(undefined as never)) {
    return { reason: `incomplete: ${chunks.length} of ${count} parts` };
  }
  return { frame: concatBytes(...slices) };
}

/** Checks a decrypted frame's signature against the directory of the site. */
async function senderCheck(
  keyring: Keyring,
  site: string,
  author: string,
  signature: { sig: Uint8Array; signed: Uint8Array } | undefined,
): Promise<DecryptedItem['signature']> {
  const people = (await keyring.directory()).get(site);
  const authorKey = people?.get(author);
  if (!signature) return authorKey ? { state: 'missing' } : undefined;
  if (authorKey && verifySignature(signature, authorKey)) return { state: 'verified' };
  if (!authorKey) return { state: 'unknown-signer' };
  // Not the author's key: say whose it is, if anyone's (an insider posing as someone else).
  for (const [userId, key] of people ?? []) {
    if (userId !== author && verifySignature(signature, key)) return { state: 'failed', signedBy: userId };
  }
  return { state: 'failed' };
}

export async function decryptItem(
  keyring: Keyring,
  conversationId: string,
  item: DecryptItem,
  site = '',
): Promise<DecryptedItem> {
  const assembled = assembleFrame(item.texts);
  if ('reason' in assembled) return { id: item.id, status: 'malformed', reason: assembled.reason };
  const header = parseHeader(assembled.frame);
  if ('error' in header) return { id: item.id, status: 'malformed', reason: header.error };
  const keyId = bytesToHex(header.keyId);
  const rec = await keyring.get(keyId);
  if (!rec) return { id: item.id, status: 'unknown-key', keyId };
  let key;
  try {
    key = await keyring.derivedFor(keyId);
  } catch (e) {
    if (e instanceof LockedError) return { id: item.id, status: 'locked', keyId, fingerprint: rec.fingerprint };
    throw e;
  }
  if (!key) return { id: item.id, status: 'unknown-key', keyId };
  const r = openMessage(key, assembled.frame, { conversationId, senderId: item.author });
  const keyFacts = { keyId, fingerprint: rec.fingerprint, keyStatus: rec.status };
  if (r.status === 'tampered') return { id: item.id, status: 'tampered', ...keyFacts };
  if (r.status === 'malformed') return { id: item.id, status: 'malformed', reason: r.reason, ...keyFacts };
  return {
    id: item.id,
    status: 'decrypted',
    text: r.text,
    sentAt: r.sentAt,
    messageId: bytesToHex(r.messageId),
    movedFromOtherConversation: r.movedFromOtherConversation,
    senderMismatch: r.senderMismatch,
    signature: await senderCheck(keyring, site, item.author, r.signature),
    ...keyFacts,
  };
}
