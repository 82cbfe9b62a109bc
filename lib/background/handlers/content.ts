/** Requests from content scripts on protected sites: site status, encrypt, decrypt. */
import { hexToBytes, randomBytes } from '@noble/ciphers/utils.js';
import { MessageTooLongError, toEnvelopeTexts } from '../../crypto/chunks';
import { type EditOf, sealMessage } from '../../crypto/envelope';
import { type KeyInfo, type KeyScope, toInfo } from '../../keys/model';
import { type ProtectedSite, sendsBlocked, UNMANAGED_DEFAULTS } from '../../policy/policy';
import { t } from '../../i18n';
import { LockedError } from '../keys/wrapping';
import { decryptFrame, type DecryptOptions, decryptItem, judgeReplays } from '../decrypt';
import { type BookPlace, judgeQuotes, quoteBook } from '../quote-book';
import { findEnvelopes } from '../../crypto/codec';
import { insertQuotes, MAX_QUOTES, type QuotedEnvelope } from '../../crypto/quotes';
import { replayLog } from '../replay-log';
import { indexDecrypted } from '../search/service';
import { builtinAdapter } from '../../adapters/registry';
import { policy } from '../policy-source';
import { keyServiceBlock } from '../keyservice';
import type { DecryptedItem, DecryptItem, Req, Res } from '../../messaging/protocol';
import { modeFor } from '../isolated/site-mode';
import { MAX_READER_CHARS } from '../isolated/capabilities';
import { checkString, fail, type Handlers, MAX_TEXT_CHARS, type RequestContext, RequestError } from './common';

const MAX_BATCH = 2_000;
/** Envelope text per decrypt request: a few maximal messages; the content script batches far less. */
const MAX_BATCH_CHARS = 4 * MAX_READER_CHARS;

/** Preview texts per request: a conversation list's worth. */
const MAX_PREVIEWS = 64;
const MAX_PREVIEW_CHARS = 20_000;

export const contentHandlers: Handlers<'site/status' | 'encrypt' | 'encrypt/preview' | 'decrypt' | 'decrypt/preview'> =
  {
    async 'site/status'(_req, { site }) {
      const p = policy();
      return {
        // The mode in force for this site: policy, or the user's stricter choice (isolated mode).
        ok: true,
        protected: !!site,
        adapterId: site?.adapter,
        requireEncryption: p.requireEncryption,
        mode: await modeFor(site),
        managed: p.managed,
        flagUnencrypted: p.flagUnencrypted,
        customAdapter: site?.custom,
        attachments: p.attachments ?? UNMANAGED_DEFAULTS.attachments,
        maxAttachmentBytes: p.maxAttachmentBytes ?? UNMANAGED_DEFAULTS.maxAttachmentBytes,
        previews: (await previewsFor(site)) ? 'decrypt' : 'label',
        ...(site && sendsBlocked(p) ? { policyError: policyErrorText() } : {}),
      };
    },

    async encrypt(req, ctx) {
      // Isolated mode: the page's content script never handles plaintext; only a secure composer
      // frame may have text encrypted (lib/background/handlers/isolated.ts).
      if ((await modeFor(ctx.site)) === 'isolated') return fail('forbidden', ISOLATED_REFUSAL);
      return encryptText(req, ctx, { decrypt: { isolatedKey: await keysOfIsolatedChats() }, place: 'inline' });
    },

    async 'encrypt/preview'(req, { keyring, site }) {
      const rec = await keyring.encryptionKey(site!.adapter, checkString(req.conversationId, 'conversationId', 512));
      // Say "sign in" or "unreachable since…" before the user types, with the fix.
      const block = await keyServiceBlock(rec);
      if (block) return fail(block.code, block.message);
      // Say "locked" before the user types, not only after a refused send.
      const locked =
        !!rec &&
        (await keyring.derivedFor(rec.id).then(
          () => false,
          (e) => e instanceof LockedError,
        ));
      return { ok: true, key: rec && toInfo(rec), ...(locked ? { locked } : {}) };
    },

    async decrypt(req, { keyring, site, frame }) {
      // Isolated mode: no plaintext for the page's side at all; reader frames decrypt one message each.
      if ((await modeFor(site)) === 'isolated') return fail('forbidden', ISOLATED_REFUSAL);
      const conversationId = checkString(req.conversationId, 'conversationId', 512);
      if (!Array.isArray(req.items) || req.items.length > MAX_BATCH)
        throw new RequestError(`items must be a list of at most ${MAX_BATCH}`);
      const items: DecryptedItem[] = [];
      const pairs: { item: DecryptItem; result: DecryptedItem }[] = [];
      const isolatedKey = await keysOfIsolatedChats();
      let budget = MAX_BATCH_CHARS; // one request cannot make the worker hold (and scan) without end
      for (const item of req.items) {
        const chars = Array.isArray(item?.texts)
          ? item.texts.reduce((n: number, t: unknown) => n + (typeof t === 'string' ? t.length : 0), 0)
          : 0;
        budget -= chars;
        if (
          typeof item?.id !== 'string' ||
          !Array.isArray(item.texts) ||
          item.texts.length === 0 ||
          item.texts.length > 255 ||
          !item.texts.every((t) => typeof t === 'string') ||
          chars > MAX_READER_CHARS ||
          budget < 0 ||
          typeof item.author !== 'string' ||
          (item.hostId !== undefined && typeof item.hostId !== 'string')
        ) {
          items.push({ id: String(item?.id), status: 'malformed' as const, reason: 'bad request item' });
          continue;
        }
        const result = await decryptItem(keyring, conversationId, item, site!.adapter, { isolatedKey });
        items.push(result);
        pairs.push({ item, result });
      }
      await judgeReplays(replayLog, conversationId, pairs, stableHostIds(site)); // marks `items` in place
      judgeQuotes(quoteBook, `inline:${site!.adapter}`, conversationId, pairs);
      indexDecrypted(site!.adapter, conversationId, frame?.tabUrl ?? frame?.url, pairs); // local search
      return { ok: true, items };
    },

    async 'decrypt/preview'(req, { keyring, site }) {
      if (!(await previewsFor(site))) return fail('forbidden', 'previews are labelled on this site (policy)');
      const conversationId = checkString(req.conversationId, 'conversationId', 512);
      if (!Array.isArray(req.texts) || req.texts.length > MAX_PREVIEWS)
        throw new RequestError(`texts must be a list of at most ${MAX_PREVIEWS}`);
      const isolatedKey = await keysOfIsolatedChats();
      const texts: (string | null)[] = [];
      for (const text of req.texts) {
        if (typeof text !== 'string' || text.length > MAX_PREVIEW_CHARS) {
          texts.push(null);
          continue;
        }
        // Not witnessed by the replay log nor indexed: a preview is the same message shown again,
        // under no author. Only a message of this very conversation opens.
        const r = await decryptItem(keyring, conversationId, { id: 'p', texts: [text], author: '' }, site!.adapter, {
          isolatedKey,
        });
        texts.push(r.status === 'decrypted' && !r.movedFromOtherConversation ? (r.text ?? '') : null);
      }
      return { ok: true, texts };
    },
  };

/** Decrypted previews: where policy asks for them, on a protected site in inline mode only. */
async function previewsFor(site: ProtectedSite | undefined): Promise<boolean> {
  return !!site && policy().previews === 'decrypt' && (await modeFor(site)) !== 'isolated';
}

const ISOLATED_REFUSAL = t('errIsolatedOnly');

/**
 * Keys that any isolated chat uses (scope on its adapter, or on every site): their messages are
 * shown only in secure frames, so an inline page never gets them decrypted, even when the vendor
 * copies their envelopes over.
 */
export async function keysOfIsolatedChats(): Promise<(key: KeyInfo) => boolean> {
  const isolated = new Set<string>();
  for (const s of policy().protectedSites) if ((await modeFor(s)) === 'isolated') isolated.add(s.adapter);
  return (key) => isolated.size > 0 && (key.scope.site === '*' || isolated.has(key.scope.site));
}

/** Whether the chat's own message ids survive a reload (custom chats: not known, so not assumed). */
export function stableHostIds(site: ProtectedSite | undefined): boolean {
  return !!site && site.adapter !== 'custom' && !!builtinAdapter(site.adapter)?.messageIdsStable;
}

/**
 * What a protected page says while no valid enterprise policy can be enforced (sending is blocked).
 * It lands in the vendor's page, so it names no host, adapter or setting: those stay in the popup.
 */
function policyErrorText(): string {
  return t('errPolicyInvalid');
}

/**
 * Envelopes in the text being sent that open here, in this conversation, as whole messages under a
 * key for the same audience as the one encrypting (the same scope: rotated keys included), not
 * revoked: what a quote-reply quotes. Others (unknown or narrower key, other conversation, chunks)
 * stay as they are, so quoting never carries words to readers they were not sealed for. The author
 * is the one this browser saw the original from, if it did.
 */
async function quotedEnvelopes(
  keyring: RequestContext['keyring'],
  encrypting: KeyInfo,
  place: BookPlace,
  conversationId: string,
  text: string,
  opts: DecryptOptions,
): Promise<QuotedEnvelope[]> {
  const out: QuotedEnvelope[] = [];
  const site = place.slice(place.indexOf(':') + 1);
  for (const found of findEnvelopes(text)) {
    if (found.kind !== 'envelope' || out.length >= MAX_QUOTES) continue;
    const r = await decryptFrame(keyring, conversationId, { id: 'quote', author: '' }, found.frame, site, opts);
    if (r.status !== 'decrypted' || r.movedFromOtherConversation || !r.messageId || r.keyStatus === 'revoked') continue;
    const quotedKey = r.keyId === encrypting.id ? encrypting : await keyring.get(r.keyId!);
    if (!quotedKey || !sameScope(quotedKey.scope, encrypting.scope)) continue;
    const author = quoteBook.original(place, conversationId, r.messageId)?.author ?? '';
    out.push({
      start: found.start,
      end: found.end,
      messageId: hexToBytes(r.messageId),
      plaintext: r.text ?? '',
      author,
    });
  }
  return out;
}

function sameScope(a: KeyScope, b: KeyScope): boolean {
  const norm = (s: KeyScope) => JSON.stringify([s.site, [...s.conversations].sort()]);
  return norm(a) === norm(b);
}

/** The edit target as sealMessage takes it; null when the page sent something malformed. */
function editTargetOf(v: unknown): EditOf | undefined | null {
  if (v === undefined) return undefined;
  const e = v as { messageId?: unknown; hostId?: unknown };
  if (typeof e !== 'object' || e === null || typeof e.messageId !== 'string' || typeof e.hostId !== 'string')
    return null;
  if (!/^[0-9a-f]{32}$/.test(e.messageId) || new TextEncoder().encode(e.hostId).length > 255) return null;
  return { messageId: hexToBytes(e.messageId), hostId: e.hostId };
}

/**
 * Encrypts for a protected site; shared by the inline path above and isolated mode's secure composer.
 * `quoting`: which keys may open a quoted envelope here (the inline path excludes isolated chats'
 * keys) and in which mode the quoted messages were shown.
 */
export async function encryptText(
  req: Req<'encrypt'>,
  { keyring, site }: RequestContext,
  quoting: { decrypt?: DecryptOptions; place: 'inline' | 'isolated' },
): Promise<Res<'encrypt'>> {
  const conversationId = checkString(req.conversationId, 'conversationId', 512);
  const senderId = checkString(req.senderId, 'senderId', 256);
  if (typeof req.text !== 'string' || req.text.length > MAX_TEXT_CHARS) {
    return fail('too-long', t('errTooLongAbsolute', MAX_TEXT_CHARS.toLocaleString('en')));
  }
  // Fail closed on an invalid policy even if a content script missed its site/status answer.
  if (sendsBlocked(policy())) return fail('policy', policyErrorText());
  // A send is the user's doing (the content script sends only on trusted input; a secure composer
  // only on its own button): the auto-lock timer restarts. Decrypts never restart it.
  keyring.noteUserAction();
  const rec = await keyring.encryptionKey(site!.adapter, conversationId);
  // Fail closed without a valid key set from the key service (never signed in, past the grace period).
  const block = await keyServiceBlock(rec);
  if (block) return fail(block.code, block.message);
  if (!rec) {
    const p = policy();
    return fail('no-key', t(p.managed ? 'errNoKeyManaged' : 'errNoKey', conversationId));
  }
  let key;
  let signingKey: Uint8Array | undefined;
  try {
    key = (await keyring.derivedFor(rec.id))!;
    signingKey = await keyring.signingKeyFor(site!.adapter, senderId);
  } catch (e) {
    if (e instanceof LockedError) return fail('locked', t('errNothingSentSuffix', t('errLocked')));
    throw e;
  }
  const editOf = editTargetOf(req.editOf);
  if (editOf === null) return fail('bad-request', 'editOf must name a message id (32 hex digits) and a host id');
  // A quote-reply holds the quoted message's envelope (the chat quotes what it has): it travels as
  // its plaintext inside the new envelope, with a sealed reference the receiver checks.
  const quoted = await quotedEnvelopes(keyring, rec, `${quoting.place}:${site!.adapter}`, conversationId, req.text, {
    ...quoting.decrypt,
  });
  const { text, refs } = quoted.length ? insertQuotes(req.text, quoted) : { text: req.text, refs: [] };
  const frame = sealMessage(
    key,
    text,
    { conversationId, senderId },
    { sentAt: Date.now(), nonce: randomBytes(16), signingKey, editOf, quotes: refs },
  );
  try {
    const envelopes = toEnvelopeTexts(frame, Math.max(64, req.maxChars | 0), randomBytes(4), req.allowChunks);
    return { ok: true, envelopes, keyId: rec.id, fingerprint: rec.fingerprint };
  } catch (e) {
    if (e instanceof MessageTooLongError) {
      return fail('too-long', t(req.allowChunks ? 'errTooLongChunks' : 'errTooLong', e.chars, e.limit));
    }
    throw e;
  }
}
