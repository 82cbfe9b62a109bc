/**
 * Local search, for Veil's own pages only (the router refuses these from chat pages and secure
 * frames): the vendor's page must never query what this browser has decrypted.
 */
import browser from 'webextension-polyfill';
import { t } from '../../i18n';
import type { ShowMessageNotice } from '../../messaging/protocol';
import { siteForUrl } from '../../policy/policy';
import { policy } from '../policy-source';
import { searchEnabled, searchIndex, wipeSearch } from '../search/service';
import { checkString, fail, type Handlers, RequestError } from './common';

const MAX_QUERY = 500;

async function showInTab(tabId: number, messageId: string): Promise<void> {
  const notice: ShowMessageNotice = { veilShow: 1, messageId };
  for (let i = 0; i < 40; i++) {
    const answer = await browser.tabs.sendMessage(tabId, notice, { frameId: 0 }).catch(() => undefined);
    if ((answer as { taken?: boolean } | undefined)?.taken) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const searchHandlers: Handlers<'search/query' | 'search/open' | 'search/clear'> = {
  async 'search/query'(req) {
    const index = searchIndex();
    if (!index || !searchEnabled()) return { ok: true, enabled: false, messages: 0, results: [] };
    if (typeof req.query !== 'string') throw new RequestError('query is missing');
    const site = req.url ? siteForUrl(policy(), checkString(req.url, 'url', 8192))?.adapter : undefined;
    const query = req.query.slice(0, MAX_QUERY);
    const results = query.trim() ? await index.search(query, { site }) : [];
    return { ok: true, enabled: true, messages: await index.count(), ...(site ? { site } : {}), results };
  },

  async 'search/open'(req) {
    const id = Number(req.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new RequestError('bad result id');
    const m = await searchIndex()?.message(id);
    if (!m?.url) return fail('bad-request', t('searchGone'));
    // Only back to a chat Veil protects now: the index is no reason to open an address.
    if (!siteForUrl(policy(), m.url)) return fail('not-protected', t('searchNotProtected'));
    const tabs = await browser.tabs.query({});
    let tab = tabs.find((x) => x.url === m.url);
    if (tab?.id !== undefined) {
      await browser.tabs.update(tab.id, { active: true });
      if (tab.windowId !== undefined) await browser.windows.update(tab.windowId, { focused: true });
    } else {
      tab = await browser.tabs.create({ url: m.url });
    }
    // The page brings the message into view (or says it is not loaded); a new tab's content script
    // listens only once the page has loaded.
    if (tab.id !== undefined) void showInTab(tab.id, m.messageId);
    return { ok: true };
  },

  async 'search/clear'() {
    await wipeSearch();
    return { ok: true };
  },
};
