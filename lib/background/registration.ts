/**
 * Runs the content script only on protected sites: registered at run time from the policy, so
 * no Veil code runs on unrelated pages and a policy change takes effect without a release.
 */
import browser from 'webextension-polyfill';
import { CONTENT_SCRIPT_MARK } from '../messaging/protocol';
import { type Policy, siteForUrl } from '../policy/policy';

const CONTENT_SCRIPT = 'content-scripts/content.js';
/** In the page's own world: desktop notifications show a label instead of envelopes (lib/main-world/). */
const NOTIFICATION_LABELS = 'notification-labels.js';
const SCRIPTS = [
  { id: 'veil-protected-sites', js: [CONTENT_SCRIPT], world: 'ISOLATED' as const },
  { id: 'veil-notification-labels', js: [NOTIFICATION_LABELS], world: 'MAIN' as const },
];

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
  const ids = SCRIPTS.map((s) => s.id);
  const existing = await browser.scripting.getRegisteredContentScripts({ ids });
  if (matches.length === 0) {
    if (existing.length) await browser.scripting.unregisterContentScripts({ ids: existing.map((e) => e.id) });
    return;
  }
  for (const script of SCRIPTS) {
    const have = existing.find((e) => e.id === script.id);
    if (have) {
      if (JSON.stringify([...(have.matches ?? [])].sort()) === JSON.stringify(matches)) continue;
      // Updated in place, not unregistered and registered again: Firefox ESR can end up with a
      // registration that is listed but never injects when the same id is re-registered quickly.
      await browser.scripting.updateContentScripts([{ id: script.id, matches }]);
      continue;
    }
    const registering = browser.scripting.registerContentScripts([
      { id: script.id, matches, js: script.js, world: script.world, runAt: 'document_start', allFrames: false },
    ]);
    // The notification labels are a courtesy: a browser refusing a page-world script must not
    // keep the content script (registered first) from protecting the chat.
    if (script.world === 'MAIN') await registering.catch((e) => console.warn('Veil: notification labels:', e));
    else await registering;
  }
}

/**
 * Runs the content script in open tabs of protected sites that do not have it. A registration
 * does not reach pages that loaded before it took effect: tabs Chrome restores at start-up load
 * before the browser applies registered scripts, and a page opened before a policy named its site.
 * A tab whose document already runs Veil does not get the content script again: this runs on every
 * load event of a tab (and on every same-document navigation of a single-page chat), and
 * evaluating the whole content script again for nothing took the page's main thread while it loaded.
 */
export async function protectOpenTabs(p: Policy, tabId?: number): Promise<void> {
  const tabs = tabId === undefined ? await browser.tabs.query({}) : [await browser.tabs.get(tabId)];
  await Promise.all(
    tabs.map(async (tab) => {
      if (tab.id === undefined || !tab.url || !siteForUrl(p, tab.url)) return;
      // The page-world script is small and installs once per document too; it goes in whatever the
      // probe says (a tab can load between the two registrations and get only the content script).
      const scripts = (await runsVeil(tab.id)) ? SCRIPTS.filter((s) => s.world === 'MAIN') : SCRIPTS;
      for (const script of scripts)
        await browser.scripting
          .executeScript({
            target: { tabId: tab.id, frameIds: [0] },
            files: script.js,
            world: script.world,
            injectImmediately: true,
          })
          .catch(() => undefined); // a tab that is closing or not a web page: nothing to protect
    }),
  );
}

/**
 * Whether the tab's top document already runs Veil's content script, asked in Veil's own world
 * (the page cannot set the mark there). No answer counts as no: injecting again is safe, since
 * the content script runs once per document however often it is injected.
 */
async function runsVeil(tabId: number): Promise<boolean> {
  const answers = await browser.scripting
    .executeScript({
      target: { tabId, frameIds: [0] },
      world: 'ISOLATED',
      injectImmediately: true,
      func: (mark: string) => (globalThis as unknown as Record<symbol, unknown>)[Symbol.for(mark)] === true,
      args: [CONTENT_SCRIPT_MARK],
    })
    .catch(() => []);
  return answers[0]?.result === true;
}
