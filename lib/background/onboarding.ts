/**
 * First run: a fresh unmanaged install opens Veil's short welcome page (get a key, pick
 * the security indicator). A managed install opens nothing: its policy brings the keys and rules.
 * Chrome delivers enterprise policy 2-5 s after start-up, so an install first waits a few seconds
 * for a managed policy before deciding; the welcome page checks again when it opens.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { onPolicyChange, policy, policyReady } from './policy-source';

/** How long a new install waits for enterprise policy before treating itself as unmanaged. */
export const POLICY_GRACE_MS = 5_000;

export const WELCOME_PAGE = '/welcome.html';

function managedSoon(graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (policy().managed) return resolve(true);
    const timer = setTimeout(() => resolve(policy().managed), graceMs);
    onPolicyChange((p) => {
      if (!p.managed) return;
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function installOnboarding(graceMs = POLICY_GRACE_MS): void {
  browser.runtime.onInstalled.addListener((details: Runtime.OnInstalledDetailsType) => {
    if (details.reason !== 'install') return;
    void (async () => {
      await policyReady();
      if (await managedSoon(graceMs)) return;
      await browser.tabs.create({ url: browser.runtime.getURL(WELCOME_PAGE) });
    })().catch((e) => console.error('Veil: could not open the welcome page', e));
  });
}
