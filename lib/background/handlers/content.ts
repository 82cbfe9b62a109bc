/** Requests from content scripts on protected sites: site status, encrypt, decrypt. */
import { randomBytes } from '@noble/ciphers/utils.js';
import { MessageTooLongError, toEnvelopeTexts } from '../../crypto/chunks';
import { sealMessage } from '../../crypto/envelope';
import { toInfo } from '../../keys/model';
import { describeProblems, type Policy } from '../../policy/policy';
import { t } from '../../i18n';
import { LockedError } from '../keys/wrapping';
import { decryptItem } from '../decrypt';
import { policy } from '../policy-source';
import type { Req, Res } from '../../messaging/protocol';
import { modeFor } from '../isolated/site-mode';
import { checkString, fail, type Handlers, MAX_TEXT_CHARS, type RequestContext, RequestError } from './common';

const MAX_BATCH = 2_000;

export const contentHandlers: Handlers<'site/status' | 'encrypt' | 'encrypt/preview' | 'decrypt'> = {
  async 'site/status'(_req, { site }) {
    const p = policy();
    return {
      // The mode in force for this site: policy, or the user's stricter choice (isolated mode, issue #6).
      ok: true,
      protected: !!site,
      adapterId: site?.adapter,
      requireEncryption: p.requireEncryption,
      mode: await modeFor(site),
      managed: p.managed,
      flagUnencrypted: p.flagUnencrypted,
      customAdapter: site?.custom,
      ...(site && p.errors.length ? { policyError: policyErrorText(p) } : {}),
    };
  },

  async encrypt(req, ctx) {
    // Isolated mode: the page's content script never handles plaintext; only a secure composer
    // frame may have text encrypted (lib/background/handlers/isolated.ts).
    if ((await modeFor(ctx.site)) === 'isolated') return fail('forbidden', ISOLATED_REFUSAL);
    return encryptText(req, ctx);
  },

  async 'encrypt/preview'(req, { keyring, site }) {
    const rec = await keyring.encryptionKey(site!.adapter, checkString(req.conversationId, 'conversationId', 512));
    // Say "locked" before the user types, not only after a refused send (issue #8).
    const locked =
      !!rec &&
      (await keyring.derivedFor(rec.id).then(
        () => false,
        (e) => e instanceof LockedError,
      ));
    return { ok: true, key: rec && toInfo(rec), ...(locked ? { locked } : {}) };
  },

  async decrypt(req, { keyring, site }) {
    // Isolated mode: no plaintext for the page's side at all; reader frames decrypt one message each.
    if ((await modeFor(site)) === 'isolated') return fail('forbidden', ISOLATED_REFUSAL);
    const conversationId = checkString(req.conversationId, 'conversationId', 512);
    if (!Array.isArray(req.items) || req.items.length > MAX_BATCH)
      throw new RequestError(`items must be a list of at most ${MAX_BATCH}`);
    const items = [];
    for (const item of req.items) {
      if (
        typeof item?.id !== 'string' ||
        !Array.isArray(item.texts) ||
        item.texts.length === 0 ||
        item.texts.length > 255 ||
        !item.texts.every((t) => typeof t === 'string' && t.length <= 4 * MAX_TEXT_CHARS) ||
        typeof item.author !== 'string'
      ) {
        items.push({ id: String(item?.id), status: 'malformed' as const, reason: 'bad request item' });
        continue;
      }
      items.push(await decryptItem(keyring, conversationId, item, site?.adapter));
    }
    return { ok: true, items };
  },
};

const ISOLATED_REFUSAL = t('errIsolatedOnly');

/** What a protected page says while the enterprise policy is invalid (sending is blocked). */
function policyErrorText(p: Policy): string {
  return t('errPolicyInvalid', describeProblems(p.errors));
}

/** Encrypts for a protected site; shared by the inline path above and isolated mode's secure composer. */
export async function encryptText(req: Req<'encrypt'>, { keyring, site }: RequestContext): Promise<Res<'encrypt'>> {
  const conversationId = checkString(req.conversationId, 'conversationId', 512);
  const senderId = checkString(req.senderId, 'senderId', 256);
  if (typeof req.text !== 'string' || req.text.length > MAX_TEXT_CHARS) {
    return fail('too-long', t('errTooLongAbsolute', MAX_TEXT_CHARS.toLocaleString('en')));
  }
  // Fail closed on an invalid policy even if a content script missed its site/status answer.
  if (policy().errors.length) return fail('policy', policyErrorText(policy()));
  const rec = await keyring.encryptionKey(site!.adapter, conversationId);
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
  const frame = sealMessage(
    key,
    req.text,
    { conversationId, senderId },
    { sentAt: Date.now(), nonce: randomBytes(16), signingKey },
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
