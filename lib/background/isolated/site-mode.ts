/** The mode in force for a protected site, as the background decides it (policy + user choice). */
import { policy } from '../policy-source';
import type { ProtectedSite } from '../../policy/policy';
import { decideMode, policyIsolates, type ModeDecision, type SiteMode } from '../../policy/site-mode';
import { isolatedSettings } from './settings';

export async function modeDecision(site: ProtectedSite | undefined): Promise<ModeDecision> {
  const p = policy();
  // Policy (global or this site's entry) decides alone when it isolates; no user choice needed.
  if (policyIsolates(p, site) || !site) return decideMode(p, site, {});
  try {
    return decideMode(p, site, (await isolatedSettings.get()).siteModes);
  } catch (e) {
    // The user's choice cannot be read: assume they chose isolation (stricter) rather than drop it.
    console.error('Veil: could not read the isolated mode settings; treating the site as isolated', e);
    return { mode: 'isolated', enforced: false };
  }
}

export async function modeFor(site: ProtectedSite | undefined): Promise<SiteMode> {
  return (await modeDecision(site)).mode;
}
