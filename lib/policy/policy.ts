/**
 * The policy in force: what the enterprise decided (managed storage) or, on unmanaged installs,
 * the defaults below. Pure model; reading managed storage lives in the background
 * (lib/background/policy-source.ts), checking it in ./parse.ts. Holds no key secrets: a Policy
 * is shown to Veil's own pages as it is.
 */
import type { CustomAdapterSpec } from '../adapters/custom';
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import { matchesPattern } from './match-pattern';

export interface ProtectedSite {
  /** A built-in adapter id, or 'custom' with `custom` declaring the adapter. */
  adapter: string;
  /** URL match patterns. */
  matches: string[];
  custom?: CustomAdapterSpec;
  /**
   * Policy's mode for this site: `isolated` enforces isolated mode here whatever the policy-wide
   * `mode` says (issue #6). `inline` or unset defers to the policy-wide mode (lib/isolated/mode.ts).
   */
  mode?: 'inline' | 'isolated';
}

/** One reason a managed policy was refused, with the setting it concerns. */
export interface PolicyProblem {
  /** The setting, e.g. `protectedSites[0].adapter` ("" for the policy as a whole). */
  path: string;
  message: string;
}

export interface Policy {
  /** True when an enterprise policy is present (valid or not). */
  managed: boolean;
  protectedSites: ProtectedSite[];
  /** Block sends that cannot be encrypted on protected sites (fail closed). */
  requireEncryption: boolean;
  /** Mark incoming messages in protected chats that are not encrypted. */
  flagUnencrypted: boolean;
  /** Users may generate and import their own keys. */
  allowUserKeys: boolean;
  /** Users may export keys that came with the policy. */
  allowKeyExport: boolean;
  mode: 'inline' | 'isolated';
  /** Ids of the keys this policy delivers (their secrets stay in the background). */
  policyKeyIds: string[];
  /**
   * Non-empty when the managed policy is invalid. Veil then fails closed: every site the policy
   * seems to name, and every built-in chat, stays protected and sending there is blocked.
   */
  errors: PolicyProblem[];
}

/** Settings of unmanaged installs: a person, not IT, decides, so they may manage their own keys. */
export const UNMANAGED_DEFAULTS = {
  requireEncryption: true,
  flagUnencrypted: true,
  allowUserKeys: true,
  allowKeyExport: true,
  mode: 'inline',
} as const;

/** Unmanaged installs protect every built-in chat on its usual URLs. */
export const DEFAULT_POLICY: Policy = {
  managed: false,
  protectedSites: BUILTIN_ADAPTERS.map((a) => ({ adapter: a.id, matches: a.defaultMatches })),
  ...UNMANAGED_DEFAULTS,
  policyKeyIds: [],
  errors: [],
};

export function siteForUrl(policy: Policy, url: string): ProtectedSite | undefined {
  return policy.protectedSites.find((s) => s.matches.some((p) => matchesPattern(p, url)));
}

/** The sentence users and admins see for an invalid policy. */
export function describeProblems(errors: PolicyProblem[]): string {
  const first = errors[0];
  if (!first) return '';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  return `${first.path ? `${first.path}: ` : ''}${first.message}${more}`;
}

/** What a protected page says while the enterprise policy is invalid (sending is blocked). */
export function policyErrorText(p: Policy): string {
  return (
    `Your organisation's Veil policy is invalid (${describeProblems(p.errors)}), so Veil blocks sending here ` +
    "until IT fixes it. Details: Veil's toolbar button."
  );
}
