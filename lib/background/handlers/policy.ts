/** Requests from Veil's own pages (popup, options) about the policy in force. Never returns secrets. */
import { siteForUrl } from '../../policy/policy';
import { policy } from '../policy-source';
import { checkString, type Handlers } from './common';

export const policyHandlers: Handlers<'policy/get' | 'policy/tab'> = {
  async 'policy/get'() {
    return { ok: true, policy: policy() };
  },

  async 'policy/tab'(req, { keyring }) {
    const p = policy();
    const site = siteForUrl(p, checkString(req.url, 'url', 8192));
    const keys = site
      ? (await keyring.list()).filter((k) => k.scope.site === '*' || k.scope.site === site.adapter).reverse()
      : [];
    return { ok: true, policy: p, site, keys };
  },
};
