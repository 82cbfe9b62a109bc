/**
 * Decrypting what a content script found on the page: envelope texts in, statuses out.
 * Each item is judged on its own; one bad item never fails the batch.
 */
import { bytesToHex } from '@noble/ciphers/utils.js';
import { assembleFrame } from '../crypto/assemble';
import { openMessage, parseHeader, verifySignature } from '../crypto/envelope';
import { quoteConsistent } from '../crypto/quotes';
import type { DecryptedItem, DecryptItem } from '../messaging/protocol';
import { type KeyInfo, scopeSpecificity } from '../keys/model';
import { LockedError } from './keys/wrapping';
import type { Keyring } from './keyring';
import type { ReplayLog, Sighting, Verdict } from './replay-log';

/** Where it always was, for its callers: now shared with the admin's archive tool. */
export { assembleFrame };

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

function ownCheck(
  signature: { sig: Uint8Array; signed: Uint8Array } | undefined,
  publicKey: Uint8Array,
): DecryptedItem['signature'] {
  if (!signature) return { state: 'missing' };
  return { state: verifySignature(signature, publicKey) ? 'verified' : 'failed' };
}

export interface DecryptOptions {
  /**
   * Judge the signature against this public key only (the user's own identity: is this message
   * one the user signed?), not against the directory's key for the claimed author.
   */
  signerKey?: Uint8Array;
  /**
   * True for a key whose messages must not be decrypted here although its scope fits: the inline
   * path refuses keys that any isolated chat uses, so envelopes copied out of an isolated chat
   * into an inline page stay sealed.
   */
  isolatedKey?: (key: KeyInfo) => boolean | Promise<boolean>;
}

/**
 * `site` is the adapter id of the page asking. A key decrypts only where its scope says it may
 * encrypt (site and conversation): the page chooses where an envelope appears, so a key scoped to
 * one conversation must not become a decrypt oracle for every protected page.
 */
export async function decryptItem(
  keyring: Keyring,
  conversationId: string,
  item: DecryptItem,
  site: string,
  opts: DecryptOptions = {},
): Promise<DecryptedItem> {
  const assembled = assembleFrame(item.texts);
  if ('reason' in assembled) return { id: item.id, status: 'malformed', reason: assembled.reason };
  return decryptFrame(keyring, conversationId, item, assembled.frame, site, opts);
}

/** decryptItem once the texts are one frame: for a caller that already decoded it (the archive tool). */
export async function decryptFrame(
  keyring: Keyring,
  conversationId: string,
  item: Pick<DecryptItem, 'id' | 'author' | 'hostId'>,
  frame: Uint8Array,
  site: string,
  opts: DecryptOptions = {},
): Promise<DecryptedItem> {
  const header = parseHeader(frame);
  if ('error' in header) return { id: item.id, status: 'malformed', reason: header.error };
  const keyId = bytesToHex(header.keyId);
  const rec = await keyring.get(keyId);
  if (!rec) return { id: item.id, status: 'unknown-key', keyId };
  const outOfScope = { id: item.id, status: 'out-of-scope' as const, keyId, fingerprint: rec.fingerprint };
  if (scopeSpecificity(rec.scope, site, conversationId) < 0) return outOfScope;
  if (await opts.isolatedKey?.(rec)) return { ...outOfScope, isolatedKey: true };
  let key;
  try {
    key = await keyring.derivedFor(keyId);
  } catch (e) {
    if (e instanceof LockedError) return { id: item.id, status: 'locked', keyId, fingerprint: rec.fingerprint };
    throw e;
  }
  if (!key) return { id: item.id, status: 'unknown-key', keyId };
  const r = openMessage(key, frame, { conversationId, senderId: item.author });
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
    signature: opts.signerKey
      ? ownCheck(r.signature, opts.signerKey)
      : await senderCheck(keyring, site, item.author, r.signature),
    ...keyFacts,
    // Quotes are judged against the originals by judgeQuotes; a quote whose span in the text is not
    // what its digest covers is the sender's own inconsistency, a mismatch wherever it is shown.
    ...(r.quotes
      ? {
          quote: r.quotes.every((ref) => quoteConsistent(r.text, ref)) ? ('unseen' as const) : ('mismatch' as const),
          quotedMessages: r.quotes.map((ref) => ({
            messageId: bytesToHex(ref.messageId),
            digest: bytesToHex(ref.digest),
            author: ref.author,
          })),
        }
      : {}),
    // An edit names the message it replaces: shown anywhere else, the vendor moved it there.
    ...(r.editOf
      ? {
          editOf: { messageId: bytesToHex(r.editOf.messageId), hostId: r.editOf.hostId },
          graftedEdit: r.editOf.hostId !== (item.hostId ?? ''),
        }
      : {}),
  };
}

/**
 * Judges decrypted messages against the replay log (lib/background/replay-log.ts): marks those
 * first shown as another message (`replayed`) or sealed long before they first appeared
 * (`staleOnArrival`). `stableHostIds`: the chat's message ids survive reloads (adapter).
 */
export async function judgeReplays(
  log: ReplayLog,
  conversationId: string,
  pairs: { item: DecryptItem; result: DecryptedItem }[],
  stableHostIds: boolean,
): Promise<void> {
  const { decrypted, sightings } = replaySightings(conversationId, pairs, stableHostIds);
  try {
    applyReplayVerdicts(decrypted, await log.witness(sightings));
  } catch (e) {
    // The log is a second line (the page's own check per load still runs); a broken database must
    // not hide every message.
    console.warn('Veil: replay log unavailable', e);
  }
}

/** What the replay log is asked about a batch: its decrypted messages, one sighting each. */
export function replaySightings(
  conversationId: string,
  pairs: { item: DecryptItem; result: DecryptedItem }[],
  stableHostIds: boolean,
): { decrypted: { result: DecryptedItem }[]; sightings: Sighting[] } {
  const decrypted = pairs.filter((p) => p.result.status === 'decrypted' && p.result.messageId && p.result.keyId);
  const sightings = decrypted.map(({ item, result }) => ({
    keyId: result.keyId!,
    messageId: result.messageId!,
    conversationId,
    author: item.author,
    hostId: stableHostIds && typeof item.hostId === 'string' ? item.hostId.slice(0, 256) : undefined,
    sentAt: result.sentAt ?? 0,
  }));
  return { decrypted, sightings };
}

/** The log's verdicts, in the order of replaySightings, marked on the answers. */
export function applyReplayVerdicts(decrypted: { result: DecryptedItem }[], verdicts: Verdict[]): void {
  decrypted.forEach(({ result }, i) => {
    if (verdicts[i]!.replayed) result.replayed = true;
    if (verdicts[i]!.stale) result.staleOnArrival = true;
  });
}
