/**
 * Runs the content script only on protected sites: registered at run time from the policy, so
 * no Veil code runs on unrelated pages and a policy change takes effect without a release.
 */
import browser from 'webextension-polyfill';
import type { Policy } from '../policy/policy';

const SCRIPT_ID = 'veil-protected-sites';

export async function syncContentScripts(p: Policy): Promise<void> {
  const matches = [...new Set(p.protectedSites.flatMap((s) => s.matches))];
  const existing = await browser.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
  if (existing.length) await browser.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
  if (matches.length === 0) return;
  await browser.scripting.registerContentScripts([
    {
      id: SCRIPT_ID,
      matches,
      js: ['content-scripts/content.js'],
      runAt: 'document_start',
      allFrames: false,
    },
  ]);
}
