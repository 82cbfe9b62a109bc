/** Requests from Veil's own pages that read or change the keyring. */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/ciphers/utils.js';
import { BundleError, createBundle, openBundle } from '../../crypto/bundle';
import { validateScope } from '../../keys/model';
import { LockedError } from '../keys/wrapping';
import { t } from '../../i18n';
import { policy } from '../policy-source';
import { checkString, fail, type Handlers, type RequestContext, RequestError } from './common';

/** Enterprise policy `allowUserKeys: false`: only the policy's keys may exist. */
function userKeysRefused() {
  return policy().allowUserKeys ? undefined : fail('policy', t('errNoUserKeys'));
}

type KeyMessages =
  | 'keys/list'
  | 'keys/generate'
  | 'keys/import'
  | 'keys/import-preview'
  | 'keys/export'
  | 'keys/set-status'
  | 'keys/rotate'
  | 'keys/unlock'
  | 'keys/lock'
  | 'keys/set-passphrase'
  | 'keys/create-identity';

const digestOf = (text: string) => bytesToHex(sha256(utf8ToBytes(text)));

/** A bundle problem in the user's language; the technical detail (English) stays in parentheses. */
function bundleErrorText(e: BundleError): string {
  switch (e.code) {
    case 'bad-passphrase':
      return t('errBundleBadPassphrase');
    case 'not-a-bundle':
      return t('errBundleNotBundle');
    case 'unsupported':
      return t('errBundleUnsupported', e.message);
    default:
      return t('errBundleInvalid', e.message.replace(/^key bundle is invalid: /, ''));
  }
}

/** Turns keyring exceptions (locked, conflicts, unknown ids) into errors fit to show in place. */
async function guarded<T>(work: () => Promise<T>) {
  try {
    return await work();
  } catch (e) {
    if (e instanceof RequestError) throw e;
    if (e instanceof BundleError) return fail('bundle', bundleErrorText(e));
    if (e instanceof LockedError) return fail('locked', t('errLocked'));
    return fail('keyring', (e as Error).message);
  }
}

const handlers: Handlers<KeyMessages> = {
  async 'keys/list'(_req, { keyring }) {
    return {
      ok: true,
      keys: await keyring.list(),
      lock: await keyring.lockState(),
      identities: await keyring.identities(),
      directory: await keyring.store.directory(),
    };
  },

  async 'keys/create-identity'(req, { keyring }) {
    const site = checkString(req.site, 'site', 100);
    const userId = checkString(req.userId, 'userId', 256).trim();
    return guarded(async () => ({ ok: true as const, publicKey: await keyring.createIdentity(site, userId) }));
  },

  async 'keys/generate'(req, { keyring }) {
    const label = typeof req.label === 'string' ? req.label.trim().slice(0, 200) : '';
    const scope = validateScope(req.scope);
    const refused = userKeysRefused();
    if (refused) return refused;
    return guarded(async () => ({
      ok: true as const,
      key: await keyring.generate(label || t('optUntitledKey'), scope),
    }));
  },

  async 'keys/rotate'(req, { keyring }) {
    const id = checkString(req.id, 'id', 8);
    // Rotation creates a user key, so a policy that forbids user keys forbids it too.
    const refused = userKeysRefused();
    if (refused) return refused;
    return guarded(async () => ({ ok: true as const, key: await keyring.rotate(id) }));
  },

  async 'keys/import-preview'(req, { keyring }) {
    const fileText = checkString(req.fileText, 'fileText', 10_000_000);
    const refused = userKeysRefused();
    if (refused) return refused;
    return guarded(async () => {
      const contents = await openBundle(fileText, String(req.passphrase ?? ''));
      return { ok: true as const, plan: await keyring.planImport(contents.keys, contents, digestOf(fileText)) };
    });
  },

  async 'keys/import'(req, { keyring }) {
    const fileText = checkString(req.fileText, 'fileText', 10_000_000);
    const refused = userKeysRefused();
    if (refused) return refused;
    return guarded(async () => {
      const contents = await openBundle(fileText, String(req.passphrase ?? ''));
      // A bundle that takes over encrypting for an existing scope, gives the user a signing
      // identity or changes who is verified goes in only as the user reviewed it (options page).
      const plan = await keyring.planImport(contents.keys, contents, digestOf(fileText));
      if (plan.needsConfirmation && req.confirm !== plan.digest) {
        return fail('confirm', t(req.confirm ? 'errImportChanged' : 'errImportNeedsConfirm'));
      }
      await keyring.importAll(contents.keys, { ...contents, replaceDirectory: plan.needsConfirmation });
      const imported = (await keyring.list()).filter((k) => contents.keys.some((n) => n.id === k.id));
      return {
        ok: true as const,
        imported,
        identities: contents.identities.length,
        directory: contents.directory.length,
      };
    });
  },

  async 'keys/export'(req, { keyring }) {
    if (!Array.isArray(req.ids) || req.ids.length === 0) return fail('bad-request', t('errChooseKeys'));
    if (String(req.passphrase ?? '').length < 8) return fail('bad-request', t('errPassphraseShort'));
    return guarded(async () => {
      const chosen = await keyring.exportable(req.ids);
      if (chosen.length === 0) return fail('bad-request', t('errNotExportable'));
      return {
        ok: true as const,
        fileText: JSON.stringify(await createBundle(chosen, String(req.passphrase ?? '')), null, 2),
      };
    });
  },

  async 'keys/set-status'(req, { keyring }) {
    if (!['active', 'retired', 'revoked'].includes(req.status)) throw new RequestError('unknown status');
    const id = checkString(req.id, 'id', 8);
    return guarded(async () => ({ ok: true as const, key: await keyring.setStatus(id, req.status) }));
  },

  async 'keys/unlock'(req, { keyring }) {
    return guarded(async () => {
      await keyring.unlock(String(req.passphrase ?? ''));
      return { ok: true as const };
    });
  },

  async 'keys/lock'(_req, { keyring }) {
    await keyring.lock();
    return { ok: true };
  },

  async 'keys/set-passphrase'(req, { keyring }) {
    return guarded(async () => {
      await keyring.setPassphrase(req.passphrase ? String(req.passphrase) : undefined);
      return { ok: true as const };
    });
  },
};

/**
 * Every keyring request comes from Veil's own pages, so it is the user at work: each one restarts
 * the auto-lock timer (locking aside). Decrypts, which the chat's page triggers, never do.
 */
export const keyHandlers = Object.fromEntries(
  Object.entries(handlers).map(([type, handle]) => [
    type,
    type === 'keys/lock'
      ? handle
      : (req: never, ctx: RequestContext) => {
          ctx.keyring.noteUserAction();
          return (handle as (r: never, c: RequestContext) => unknown)(req, ctx);
        },
  ]),
) as Handlers<KeyMessages>;
