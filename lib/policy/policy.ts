/**
 * The policy in force: what the enterprise decided (managed storage) or, on unmanaged installs,
 * the defaults below. Pure model; reading managed storage lives in the background.
 */
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import { matchesPattern } from './match-pattern';

export interface ProtectedSite {
  adapter: string; // built-in adapter id
  matches: string[]; // URL match patterns
}

export interface Policy {
  managed: boolean;
  protectedSites: ProtectedSite[];
  /** Block sends that cannot be encrypted on protected sites (fail closed). */
  requireEncryption: boolean;
  mode: 'inline' | 'isolated';
}

/** Unmanaged installs protect every built-in chat on its usual URLs. */
export const DEFAULT_POLICY: Policy = {
  managed: false,
  protectedSites: BUILTIN_ADAPTERS.map((a) => ({ adapter: a.id, matches: a.defaultMatches })),
  requireEncryption: true,
  mode: 'inline',
};

export function siteForUrl(policy: Policy, url: string): ProtectedSite | undefined {
  return policy.protectedSites.find((s) => s.matches.some((p) => matchesPattern(p, url)));
}
