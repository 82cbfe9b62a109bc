/**
 * Veil message frames v1: XChaCha20-Poly1305 (@noble/ciphers) with an authenticated header and an
 * inner payload that binds each message to its context. Spec: docs/wire-format.md.
 *
 *   frame  = kind(1)=0x01 | keyId(4) | nonce(16) | AEAD(encKey, nonce16 || 0^8, inner, aad)
 *   aad    = "VEIL1" | kind | keyId | nonce            (the whole header is authenticated)
 *   inner  = sentAt(4, unix seconds, BE) | convTag(4) | senderTag(4) | flags(1) | [sig(64)] | [edit] | [quotes] | UTF-8 text
 *   edit   = originalMessageId(16) | len8 | hostId (UTF-8, the chat's id of the edited message)
 *   flags  = bit 0: signed. The Ed25519 signature (sender's own key, RFC 8032) covers
 *            "veil/v1/sig" | header | inner without sig | len16|conversationId | len16|senderId,
 *            so it binds the full context, not only the truncated tags.
 *            bit 1: an edit; `edit` names the message it replaces, sealed with the text.
 *            bit 2: quotes; `quotes` names the messages the text quotes (lib/crypto/quotes.ts).
 *
 * The 16-byte random nonce is also the message id. XChaCha20 feeds the first 16 nonce bytes to
 * HChaCha20, so each message gets its own subkey; the last 8 bytes are fixed (docs/decisions/
 * 0001-wire-format.md explains the trade: 11 fewer characters per message, 2^-64 collision odds
 * after 2^32 messages under one key).
 * Tags are keyed (HMAC-SHA256 under a per-key binding key, truncated): the vendor knows the
 * conversation and sender ids, but without the key it cannot find other ids with the same tag.
 * Pure: no DOM, no browser APIs.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, utf8ToBytes } from '@noble/ciphers/utils.js';
import { decodeQuotes, encodeQuotes, type QuoteRef } from './quotes';

export const KIND_MESSAGE = 0x01;
export const KEY_ID_LEN = 4;
export const NONCE_LEN = 16;
export const TAG_LEN = 4;
const HEADER_LEN = 1 + KEY_ID_LEN + NONCE_LEN;
const INNER_FIXED = 4 + TAG_LEN + TAG_LEN + 1;
const AEAD_TAG = 16;
const AAD_PREFIX = utf8ToBytes('VEIL1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Raw key material as held by the background only. */
export interface SecretKey {
  id: Uint8Array; // 4 bytes, random, unique in a keyring
  secret: Uint8Array; // 32 bytes
}

export interface MessageContext {
  conversationId: string;
  senderId: string;
}

/** Per-key derived keys, computed once per key (HKDF is the slow part of a small message). */
export interface DerivedKey {
  id: Uint8Array;
  enc: Uint8Array;
  bind: Uint8Array;
  tags: Map<string, Uint8Array>;
  /**
   * Opens with `enc` instead of @noble/ciphers' xchacha20poly1305, exactly as it would: a platform
   * AEAD for bulk decryption outside the browser (scripts/archive-aead.ts). Throws when not authentic.
   */
  open?: (nonce24: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array;
}

export function deriveKey(key: SecretKey): DerivedKey {
  if (key.id.length !== KEY_ID_LEN || key.secret.length !== 32) throw new Error('bad key shape');
  const info = (label: string) => concatBytes(utf8ToBytes(`veil/v1/${label}/`), key.id);
  return {
    id: key.id,
    enc: hkdf(sha256, key.secret, undefined, info('aead'), 32),
    bind: hkdf(sha256, key.secret, undefined, info('bind'), 32),
    tags: new Map(),
  };
}

/** Keyed 4-byte tag of a context value; cached because a batch repeats the same few values. */
export function contextTag(key: DerivedKey, label: 'c' | 's', value: string): Uint8Array {
  const cacheKey = label + value;
  let tag = key.tags.get(cacheKey);
  if (!tag) {
    tag = hmac(sha256, key.bind, utf8ToBytes(`${label}\u0000${value}`)).subarray(0, TAG_LEN);
    if (key.tags.size > 4096) key.tags.clear();
    key.tags.set(cacheKey, tag);
  }
  return tag;
}

function fullNonce(nonce16: Uint8Array): Uint8Array {
  const n = new Uint8Array(24);
  n.set(nonce16);
  return n;
}

export interface SealOptions {
  sentAt: number; // ms since epoch
  nonce: Uint8Array; // 16 random bytes: callers pass randomBytes(16); vectors pass fixed ones
  /** The sender's Ed25519 secret key (32-byte seed): makes a signed envelope. */
  signingKey?: Uint8Array;
  /** Makes an edit: the new text of the message with this id, shown by the chat under this host id. */
  editOf?: EditOf;
  /** The messages the text quotes, and where (lib/crypto/quotes.ts insertQuotes). */
  quotes?: QuoteRef[];
}

/** What an edit replaces: the original's message id (its nonce) and the chat's id for it ('' if none). */
export interface EditOf {
  messageId: Uint8Array;
  hostId: string;
}

const FLAG_SIGNED = 0x01;
const FLAG_EDIT = 0x02;
const FLAG_QUOTES = 0x04;
const KNOWN_FLAGS = FLAG_SIGNED | FLAG_EDIT | FLAG_QUOTES;
const MAX_HOST_ID_BYTES = 255;

function editField(edit: EditOf): Uint8Array {
  if (edit.messageId.length !== NONCE_LEN) throw new Error('editOf.messageId must be 16 bytes');
  const host = utf8ToBytes(edit.hostId);
  if (host.length > MAX_HOST_ID_BYTES) throw new Error('editOf.hostId is longer than 255 bytes');
  return concatBytes(edit.messageId, Uint8Array.of(host.length), host);
}
const SIG_LEN = 64;
const SIG_DOMAIN = utf8ToBytes('veil/v1/sig');

function lenPrefixed(value: string): Uint8Array {
  const b = utf8ToBytes(value);
  const out = new Uint8Array(2 + b.length);
  new DataView(out.buffer).setUint16(0, Math.min(b.length, 0xffff));
  out.set(b.subarray(0, 0xffff), 2);
  return out;
}

/** What an Ed25519 signature in a frame covers. */
export function signedBytes(header: Uint8Array, innerWithoutSig: Uint8Array, ctx: MessageContext): Uint8Array {
  return concatBytes(SIG_DOMAIN, header, innerWithoutSig, lenPrefixed(ctx.conversationId), lenPrefixed(ctx.senderId));
}

export function sealMessage(key: DerivedKey, text: string, ctx: MessageContext, opts: SealOptions): Uint8Array {
  if (opts.nonce.length !== NONCE_LEN) throw new Error('nonce must be 16 bytes');
  const header = new Uint8Array(HEADER_LEN);
  header[0] = KIND_MESSAGE;
  header.set(key.id, 1);
  header.set(opts.nonce, 1 + KEY_ID_LEN);
  // Edit and quote fields go in front of the text: all are what the signature and the AEAD cover.
  const quotes = opts.quotes?.length ? opts.quotes : undefined;
  const body =
    opts.editOf || quotes
      ? concatBytes(
          opts.editOf ? editField(opts.editOf) : new Uint8Array(0),
          quotes ? encodeQuotes(quotes) : new Uint8Array(0),
          utf8ToBytes(text),
        )
      : utf8ToBytes(text);
  let inner = new Uint8Array(INNER_FIXED + body.length);
  new DataView(inner.buffer).setUint32(0, Math.floor(opts.sentAt / 1000));
  inner.set(contextTag(key, 'c', ctx.conversationId), 4);
  inner.set(contextTag(key, 's', ctx.senderId), 4 + TAG_LEN);
  inner[INNER_FIXED - 1] =
    (opts.signingKey ? FLAG_SIGNED : 0) | (opts.editOf ? FLAG_EDIT : 0) | (quotes ? FLAG_QUOTES : 0);
  inner.set(body, INNER_FIXED);
  if (opts.signingKey) {
    const sig = ed25519.sign(signedBytes(header, inner, ctx), opts.signingKey);
    inner = concatBytes(inner.subarray(0, INNER_FIXED), sig, body);
  }
  const aead = xchacha20poly1305(key.enc, fullNonce(opts.nonce), concatBytes(AAD_PREFIX, header));
  return concatBytes(header, aead.encrypt(inner));
}

/** What a frame says about itself before any key is involved. */
export interface FrameHeader {
  keyId: Uint8Array;
  nonce: Uint8Array;
}

export function parseHeader(frame: Uint8Array): FrameHeader | { error: string } {
  if (frame.length < 1) return { error: 'empty' };
  if (frame[0] !== KIND_MESSAGE) return { error: `unknown frame kind ${frame[0]}` };
  if (frame.length < HEADER_LEN + INNER_FIXED + AEAD_TAG) return { error: 'too short' };
  return { keyId: frame.subarray(1, 1 + KEY_ID_LEN), nonce: frame.subarray(1 + KEY_ID_LEN, HEADER_LEN) };
}

export type OpenResult =
  | {
      status: 'decrypted';
      text: string;
      sentAt: number;
      messageId: Uint8Array;
      /** Context mismatches: the frame is authentic but was moved or re-attributed. */
      movedFromOtherConversation: boolean;
      senderMismatch: boolean;
      /** Present on signed frames: verify with `verifySignature` against the claimed sender's key. */
      signature?: { sig: Uint8Array; signed: Uint8Array };
      /** Present on edits: the message this text replaces (the receiver checks it is shown there). */
      editOf?: EditOf;
      /** Present when the text quotes messages: the receiver checks them (lib/crypto/quotes.ts). */
      quotes?: QuoteRef[];
    }
  | { status: 'tampered' }
  | { status: 'malformed'; reason: string };

/** Opens a frame whose key the caller looked up by `parseHeader(frame).keyId`. */
export function openMessage(key: DerivedKey, frame: Uint8Array, ctx: MessageContext): OpenResult {
  const header = parseHeader(frame);
  if ('error' in header) return { status: 'malformed', reason: header.error };
  if (!equalBytes(header.keyId, key.id)) throw new Error('key id mismatch: caller bug');
  let inner: Uint8Array;
  try {
    const aad = concatBytes(AAD_PREFIX, frame.subarray(0, HEADER_LEN));
    const nonce = fullNonce(header.nonce);
    const sealed = frame.subarray(HEADER_LEN);
    // Own property only: nothing inherited (a polluted prototype) may stand in for the AEAD.
    const open = Object.hasOwn(key, 'open') ? key.open : undefined;
    inner = open ? open(nonce, aad, sealed) : xchacha20poly1305(key.enc, nonce, aad).decrypt(sealed);
  } catch {
    return { status: 'tampered' };
  }
  const flags = inner[INNER_FIXED - 1]!;
  if (flags & ~KNOWN_FLAGS) return { status: 'malformed', reason: 'unknown flags (newer Veil?)' };
  const isSigned = (flags & FLAG_SIGNED) !== 0;
  if (isSigned && inner.length < INNER_FIXED + SIG_LEN) return { status: 'malformed', reason: 'signature missing' };
  const bodyStart = isSigned ? INNER_FIXED + SIG_LEN : INNER_FIXED;
  let textStart = bodyStart;
  let editOf: EditOf | undefined;
  let quotes: QuoteRef[] | undefined;
  let text: string;
  try {
    if (flags & FLAG_EDIT) {
      const hostLen = inner[bodyStart + NONCE_LEN];
      if (hostLen === undefined || inner.length < bodyStart + NONCE_LEN + 1 + hostLen)
        return { status: 'malformed', reason: 'edit field cut short' };
      textStart = bodyStart + NONCE_LEN + 1 + hostLen;
      editOf = {
        messageId: inner.slice(bodyStart, bodyStart + NONCE_LEN),
        hostId: utf8.decode(inner.subarray(bodyStart + NONCE_LEN + 1, textStart)),
      };
    }
    if (flags & FLAG_QUOTES) {
      const q = decodeQuotes(inner, textStart);
      if ('error' in q) return { status: 'malformed', reason: q.error };
      quotes = q.refs;
      textStart = q.end;
    }
    text = utf8.decode(inner.subarray(textStart));
  } catch {
    // Authentic but not UTF-8: only a buggy or hostile key holder produces this.
    return { status: 'malformed', reason: 'invalid UTF-8 in authentic message' };
  }
  const sentAt = new DataView(inner.buffer, inner.byteOffset).getUint32(0) * 1000;
  return {
    status: 'decrypted',
    text,
    sentAt,
    messageId: header.nonce.slice(),
    movedFromOtherConversation: !equalBytes(inner.subarray(4, 8), contextTag(key, 'c', ctx.conversationId)),
    senderMismatch: !equalBytes(inner.subarray(8, 12), contextTag(key, 's', ctx.senderId)),
    signature: isSigned
      ? {
          sig: inner.slice(INNER_FIXED, bodyStart),
          signed: signedBytes(
            frame.subarray(0, HEADER_LEN),
            concatBytes(inner.subarray(0, INNER_FIXED), inner.subarray(bodyStart)),
            ctx,
          ),
        }
      : undefined,
    ...(editOf ? { editOf } : {}),
    ...(quotes ? { quotes } : {}),
  };
}

/** True when `publicKey` made the frame's signature (over the context the receiver sees). */
export function verifySignature(signature: { sig: Uint8Array; signed: Uint8Array }, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature.sig, signature.signed, publicKey);
  } catch {
    return false;
  }
}
