/**
 * The policy in force: what the enterprise decided (managed storage) or, on unmanaged installs,
 * the defaults below plus the chats the user chose to protect (lib/policy/user-sites.ts). Pure model; reading managed storage lives in the background
 * (lib/background/policy-source.ts), checking it in ./parse.ts. Holds no key secrets: a Policy
 * is shown to Veil's own pages as it is.
 */
import type { CustomAdapterSpec } from '../adapters/custom';
import { matchesPattern } from './match-pattern';

export interface ProtectedSite {
  /** A built-in adapter id, or 'custom' with `custom` declaring the adapter. */
  adapter: string;
  /** URL match patterns. */
  matches: string[];
  custom?: CustomAdapterSpec;
  /**
   * Policy's mode for this site: `isolated` enforces isolated mode here whatever the policy-wide
   * `mode` says. `inline` or unset defers to the policy-wide mode (lib/isolated/mode.ts).
   */
  mode?: 'inline' | 'isolated';
}

/** Where users get their keys when the enterprise runs Veil's key service (no secret here). */
export interface KeyServiceConfig {
  url: string;
  issuer: string;
  clientId: string;
  groupsClaim: string;
  refreshMinutes: number;
  offlineGraceHours: number;
  kem: 'x-wing' | 'x25519';
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
  /** Files attached in protected chats: encrypted (default), refused, or let through as they are. */
  attachments?: AttachmentPolicy;
  /** Largest file Veil encrypts, in bytes. */
  maxAttachmentBytes?: number;
  /** Index decrypted messages locally for the popup's search (default true; false erases the index). */
  localSearch?: boolean;
  /** The most messages the local search index holds. */
  localSearchMaxMessages?: number;
  /** Previews outside the message list: a label (default) or, inline, the decrypted text. */
  previews?: 'label' | 'decrypt';
  /** Ids of the keys this policy delivers (their secrets stay in the background). */
  policyKeyIds: string[];
  /** Set when keys come from Veil's key service after the user signs in. */
  keyService?: KeyServiceConfig;
  /**
   * Non-empty when the managed policy delivered last is invalid; what Veil enforces then is said
   * by `fallback`.
   */
  errors: PolicyProblem[];
  /**
   * Set with `errors`. `last-valid`: Veil keeps enforcing the last valid policy (this object holds
   * its sites and rules), so sending works as before. Unset: no valid policy was ever seen, Veil
   * fails closed: every host any string of the policy names is protected and sending there is blocked.
   */
  fallback?: 'last-valid';
}

/** Settings of unmanaged installs: a person, not IT, decides, so they may manage their own keys. */
export const UNMANAGED_DEFAULTS = {
  requireEncryption: true,
  flagUnencrypted: true,
  allowUserKeys: true,
  allowKeyExport: true,
  mode: 'inline',
  attachments: 'encrypt',
  maxAttachmentBytes: 256 * 1024 * 1024,
  localSearch: true,
  localSearchMaxMessages: 100_000,
  previews: 'label',
} as const;

export type AttachmentPolicy = 'encrypt' | 'block' | 'allow';

/**
 * Unmanaged installs protect nothing until the user says which chats to protect (options page):
 * a site Veil protects decrypts on request of its page, so protecting addresses nobody chose
 * (every local web app, say) would hand them a decrypt oracle.
 */
export const DEFAULT_POLICY: Policy = {
  managed: false,
  protectedSites: [],
  ...UNMANAGED_DEFAULTS,
  policyKeyIds: [],
  errors: [],
};

/** True when sending on protected sites is blocked because no valid policy can be enforced. */
export function sendsBlocked(p: Policy): boolean {
  return p.errors.length > 0 && p.fallback !== 'last-valid';
}

/**
 * The protected site a URL belongs to. Several entries may match (`https://chat.example/*` and
 * `https://chat.example/exec/*`): the most specific pattern wins, so a narrower entry's stricter
 * mode is never shadowed by a broader one listed first; on a tie the isolated entry wins.
 */
export function siteForUrl(policy: Policy, url: string): ProtectedSite | undefined {
  let best: { site: ProtectedSite; rank: number[] } | undefined;
  for (const site of policy.protectedSites) {
    for (const p of site.matches) {
      if (!matchesPattern(p, url)) continue;
      const rank = [...patternSpecificity(p), site.mode === 'isolated' ? 1 : 0];
      if (!best || compareRanks(rank, best.rank) > 0) best = { site, rank };
    }
  }
  return best?.site;
}

/**
 * How narrowly a match pattern names URLs, compared in order: an exact host over a wildcard one
 * (and a longer host over a shorter), a named port, a named scheme, then the path's literal
 * characters. `<all_urls>` is the least specific of all.
 */
export function patternSpecificity(pattern: string): number[] {
  const m = /^(\*|[a-z]+):\/\/([^/:]*)(?::(\d+|\*))?(\/.*)$/.exec(pattern);
  if (!m) return [0, 0, 0, 0, 0];
  const [, scheme, host, port, path] = m as unknown as [string, string, string, string | undefined, string];
  const hostRank = host === '*' ? 1 : host.startsWith('*.') ? 2 : 3;
  const literalHost = host.replace(/^\*\.?/, '').length;
  const literalPath = path.replace(/\*/g, '').length;
  return [hostRank, literalHost, port && port !== '*' ? 1 : 0, scheme === '*' ? 0 : 1, literalPath];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** The sentence users and admins see for an invalid policy. */
export function describeProblems(errors: PolicyProblem[]): string {
  const first = errors[0];
  if (!first) return '';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  return `${first.path ? `${first.path}: ` : ''}${first.message}${more}`;
}
