/** Requests from Veil's own pages (popup, options) about the policy in force. Never returns secrets. */
import { t } from '../../i18n';
import { siteForUrl } from '../../policy/policy';
import { addUserSite, checkUserSite, MAX_USER_SITES, removeUserSite } from '../../policy/user-sites';
import { policy, setUserSites, userSiteList } from '../policy-source';
import { checkString, fail, type Handlers } from './common';

const SITE_REFUSALS = {
  adapter: 'errSiteAdapter',
  pattern: 'errSitePattern',
  broad: 'errSiteTooBroad',
} as const;

export const policyHandlers: Handlers<'policy/get' | 'policy/tab' | 'sites/add' | 'sites/remove'> = {
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

  // The user decides which chats an unmanaged install protects; an enterprise policy decides for them.
  async 'sites/add'(req) {
    if (policy().managed) return fail('forbidden', t('errSitesManaged'));
    const check = checkUserSite(req.adapter, req.address);
    if (!check.ok) return fail('bad-request', t(SITE_REFUSALS[check.reason]));
    if (userSiteList().length >= MAX_USER_SITES) return fail('bad-request', t('errSitesFull', MAX_USER_SITES));
    await setUserSites(addUserSite(userSiteList(), check.site));
    return { ok: true, sites: userSiteList() };
  },

  async 'sites/remove'(req) {
    if (policy().managed) return fail('forbidden', t('errSitesManaged'));
    const adapter = checkString(req.adapter, 'adapter', 64);
    await setUserSites(removeUserSite(userSiteList(), adapter, checkString(req.pattern, 'pattern', 2048)));
    return { ok: true, sites: userSiteList() };
  },
};
