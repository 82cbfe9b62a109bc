/**
 * What the background does for each protocol request. Callers are already checked by the
 * router; `site` is derived from the sender's URL, never taken from the request.
 */
import { randomBytes } from '@noble/ciphers/utils.js';
import { MessageTooLongError, toEnvelopeTexts } from '../crypto/chunks';
import { sealMessage } from '../crypto/envelope';
import { BundleError, createBundle, openBundle } from '../keys/bundle';
import { toInfo, validateScope } from '../keys/model';
import type { MessageType, Req, Res, VeilError } from '../messaging/protocol';
import type { ProtectedSite } from '../policy/policy';
import { decryptItem } from './decrypt';
import type { Keyring } from './keyring';
import { policy } from './policy-source';

export interface RequestContext {
  keyring: Keyring;
  /** The protected site the calling content script runs on (content callers only). */
  site?: ProtectedSite;
}

type Handler<K extends MessageType> = (req: Req<K>, ctx: RequestContext) => Promise<Res<K>>;

const MAX_TEXT_CHARS = 1_000_000;
const MAX_BATCH = 2_000;

const fail = (code: VeilError['code'], message: string) => ({ ok: false as const, error: { code, message } });

function checkString(v: unknown, name: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new RequestError(`${name} is missing or too long`);
  return v;
}

export class RequestError extends Error {}

export const handlers: { [K in MessageType]: Handler<K> } = {
  async 'site/status'(_req, { site }) {
    const p = policy();
    return { ok: true, protected: !!site, adapterId: site?.adapter, requireEncryption: p.requireEncryption, mode: p.mode, managed: p.managed };
  },

  async encrypt(req, { keyring, site }) {
    const conversationId = checkString(req.conversationId, 'conversationId', 512);
    const senderId = checkString(req.senderId, 'senderId', 256);
    if (typeof req.text !== 'string' || req.text.length > MAX_TEXT_CHARS) {
      return fail('too-long', `Messages are limited to ${MAX_TEXT_CHARS.toLocaleString('en')} characters.`);
    }
    const rec = await keyring.encryptionKey(site!.adapter, conversationId);
    if (!rec) {
      return fail('no-key', `No Veil key covers this conversation (${conversationId}), so the message was not sent. `
        + 'Import a key bundle in Veil\'s options, or ask your IT admin for one.');
    }
    const key = (await keyring.derivedFor(rec.id))!;
    const frame = sealMessage(key, req.text, { conversationId, senderId }, { sentAt: Date.now(), nonce: randomBytes(16) });
    try {
      const envelopes = toEnvelopeTexts(frame, Math.max(64, req.maxChars | 0), randomBytes(4), req.allowChunks);
      return { ok: true, envelopes, keyId: rec.id, fingerprint: keyring.fingerprintOf(rec) };
    } catch (e) {
      if (e instanceof MessageTooLongError) {
        return fail('too-long', `This message is too long for this chat once encrypted (${e.chars} characters; the chat `
          + `takes ${e.limit}${req.allowChunks ? ` per message and at most 255 parts` : ''}). Shorten it or split it.`);
      }
      throw e;
    }
  },

  async 'encrypt/preview'(req, { keyring, site }) {
    const rec = await keyring.encryptionKey(site!.adapter, checkString(req.conversationId, 'conversationId', 512));
    return { ok: true, key: rec && toInfo(rec) };
  },

  async decrypt(req, { keyring }) {
    const conversationId = checkString(req.conversationId, 'conversationId', 512);
    if (!Array.isArray(req.items) || req.items.length > MAX_BATCH) throw new RequestError(`items must be a list of at most ${MAX_BATCH}`);
    const items = [];
    for (const item of req.items) {
      if (typeof item?.id !== 'string' || !Array.isArray(item.texts) || item.texts.length === 0 || item.texts.length > 255
        || !item.texts.every((t) => typeof t === 'string' && t.length <= 4 * MAX_TEXT_CHARS) || typeof item.author !== 'string') {
        items.push({ id: String(item?.id), status: 'malformed' as const, reason: 'bad request item' });
        continue;
      }
      items.push(await decryptItem(keyring, conversationId, item));
    }
    return { ok: true, items };
  },

  async 'keys/list'(_req, { keyring }) {
    return { ok: true, keys: (await keyring.list()).map(toInfo) };
  },

  async 'keys/generate'(req, { keyring }) {
    const label = typeof req.label === 'string' ? req.label.trim().slice(0, 200) : '';
    const scope = validateScope(req.scope);
    return { ok: true, key: toInfo(await keyring.generate(label || 'Untitled key', scope)) };
  },

  async 'keys/import'(req, { keyring }) {
    try {
      const keys = await openBundle(checkString(req.fileText, 'fileText', 10_000_000), String(req.passphrase ?? ''));
      await keyring.importAll(keys);
      return { ok: true, imported: keys.map(toInfo) };
    } catch (e) {
      if (e instanceof BundleError) return fail('bundle', e.message);
      return fail('keyring', (e as Error).message);
    }
  },

  async 'keys/export'(req, { keyring }) {
    const all = await keyring.list();
    const chosen = all.filter((k) => req.ids?.includes(k.id));
    if (chosen.length === 0) return fail('bad-request', 'Choose at least one key to export.');
    try {
      return { ok: true, fileText: JSON.stringify(await createBundle(chosen, String(req.passphrase ?? '')), null, 2) };
    } catch (e) {
      return fail('bundle', (e as Error).message);
    }
  },

  async 'keys/set-status'(req, { keyring }) {
    if (!['active', 'retired', 'revoked'].includes(req.status)) throw new RequestError('unknown status');
    try {
      return { ok: true, key: toInfo(await keyring.setStatus(checkString(req.id, 'id', 8), req.status)) };
    } catch (e) {
      return fail('keyring', (e as Error).message);
    }
  },

  async 'policy/get'() {
    return { ok: true, policy: policy() };
  },
};
