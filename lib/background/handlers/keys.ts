/** Requests from Veil's own pages that read or change the keyring. */
import { BundleError, createBundle, openBundle } from '../../keys/bundle';
import { toInfo, validateScope } from '../../keys/model';
import { checkString, fail, type Handlers, RequestError } from './common';

export const keyHandlers: Handlers<'keys/list' | 'keys/generate' | 'keys/import' | 'keys/export' | 'keys/set-status'> = {
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

};
