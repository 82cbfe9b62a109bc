/**
 * Which mode a protected site runs in. Pure: no DOM, no browser APIs.
 *
 * Two voices decide, and the stricter wins:
 * - the enterprise policy enforces isolated mode, for every protected site (`mode: "isolated"`) or
 *   for one (`protectedSites[].mode: "isolated"`, lib/policy/policy.ts), and nobody in the browser
 *   can turn it off;
 * - the user (or an admin on an unmanaged install) may opt a site into isolated mode in Veil's
 *   options page. A user choice can only ever make a site stricter, never looser than policy.
 */
import type { Policy, ProtectedSite } from './policy';

export type SiteMode = Policy['mode'];

/** The key a per-site choice is stored under: the adapter id, or the custom adapter's name. */
export function siteKey(site: ProtectedSite): string {
  return site.adapter === 'custom' ? `custom:${site.custom?.name ?? ''}` : site.adapter;
}

export interface ModeDecision {
  mode: SiteMode;
  /** True when the enterprise policy decides (the options page shows the choice locked). */
  enforced: boolean;
}

/** True when the enterprise policy, globally or for this site, requires isolated mode. */
export function policyIsolates(policy: Pick<Policy, 'mode'>, site: ProtectedSite | undefined): boolean {
  return policy.mode === 'isolated' || site?.mode === 'isolated';
}

/** Isolated if the policy-wide mode, the site's policy mode or the user's choice says so. */
export function decideMode(
  policy: Pick<Policy, 'mode'>,
  site: ProtectedSite | undefined,
  userModes: Record<string, SiteMode>,
): ModeDecision {
  if (policyIsolates(policy, site)) return { mode: 'isolated', enforced: true };
  if (site && userModes[siteKey(site)] === 'isolated') return { mode: 'isolated', enforced: false };
  return { mode: 'inline', enforced: false };
}
