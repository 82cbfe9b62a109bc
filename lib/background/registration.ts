/**
 * Runs the content script only on protected sites: registered at run time from the policy, so
 * no Veil code runs on unrelated pages and a policy change takes effect without a release.
 */
import browser from 'webextension-polyfill';
import { type Policy, siteForUrl } from '../policy/policy';

const SCRIPT_ID = 'veil-protected-sites';
const CONTENT_SCRIPT = 'content-scripts/content.js';

let queue: Promise<void> = Promise.resolve();

/**
 * Firefox match patterns cannot name a port (a pattern with one never matches), so there the
 * script is registered for the host on every port. The content script still asks the background,
 * which matches ports exactly (lib/policy/match-pattern.ts), and stands down on other ports.
 */
function forThisBrowser(pattern: string): string {
  if (!browser.runtime.getURL('/').startsWith('moz-extension:')) return pattern;
  return pattern.replace(/^([^:]+:\/\/[^/:]*):(\d+|\*)\//, '$1/');
}

/**
 * Start-up, install and every policy change each ask for a sync, often at once; interleaved
 * unregister/register calls would fail with "duplicate script id", so they run one after another.
 */
export function syncContentScripts(p: Policy): Promise<void> {
  const run = queue.then(() => sync(p));
  queue = run.catch(() => undefined);
  return run;
}

async function sync(p: Policy): Promise<void> {
  const matches = [...new Set(p.protectedSites.flatMap((s) => s.matches).map(forThisBrowser))].sort();
  const [existing] = await browser.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
  if (matches.length === 0) {
    if (existing) await browser.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
    return;
  }
  if (existing) {
    if (JSON.stringify([...(existing.matches ?? [])].sort()) === JSON.stringify(matches)) return;
    // Updated in place, not unregistered and registered again: Firefox ESR can end up with a
    // registration that is listed but never injects when the same id is re-registered quickly.
    await browser.scripting.updateContentScripts([{ id: SCRIPT_ID, matches }]);
    return;
  }
  await browser.scripting.registerContentScripts([
    {
      id: SCRIPT_ID,
      matches,
      js: [CONTENT_SCRIPT],
      runAt: 'document_start',
      allFrames: false,
    },
  ]);
}

/**
 * Runs the content script in open tabs of protected sites that do not have it. A registration
 * does not reach pages that loaded before it took effect: tabs Chrome restores at start-up load
 * before the browser applies registered scripts, and a page opened before a policy named its site.
 * The content script runs once per document whatever the number of injections
 * (lib/page/content-main.ts).
 */
export async function protectOpenTabs(p: Policy, tabId?: number): Promise<void> {
  const tabs = tabId === undefined ? await browser.tabs.query({}) : [await browser.tabs.get(tabId)];
  await Promise.all(
    tabs.map(async (tab) => {
      if (tab.id === undefined || !tab.url || !siteForUrl(p, tab.url)) return;
      await browser.scripting
        .executeScript({ target: { tabId: tab.id, frameIds: [0] }, files: [CONTENT_SCRIPT], injectImmediately: true })
        .catch(() => undefined); // a tab that is closing or not a web page: nothing to protect
    }),
  );
}
