/**
 * The diagnostics file an employee downloads for IT: what Veil runs as and where, the
 * policy in force with its problems, the protected sites, each key's id, fingerprint, status and
 * scope, the lock state, and the content scripts the browser has registered. Built only from what
 * the background already shows Veil's own pages, and copied field by field (an allow-list), so no
 * key secret, passphrase, signing key or message can end up in it even if an input carried one.
 */
import type { KeyInfo } from '../keys/model';
import type { Policy } from '../policy/policy';
import { siteKey } from '../policy/site-mode';

export interface DiagnosticsInput {
  version: string;
  userAgent: string;
  language: string;
  policy?: Policy;
  policyError?: string;
  keys?: KeyInfo[];
  lock?: 'none' | 'locked' | 'unlocked';
  identities?: { site: string; userId: string }[];
  directorySize?: number;
  contentScripts?: { id: string; matches?: string[]; js?: string[]; runAt?: string }[];
  sites?: { key: string; name: string; mode: string; enforced: boolean }[];
  now?: number;
}

export const DIAGNOSTICS_FORMAT = 'veil-diagnostics/1';

export function buildDiagnostics(i: DiagnosticsInput): Record<string, unknown> {
  const p = i.policy;
  return {
    format: DIAGNOSTICS_FORMAT,
    createdAt: new Date(i.now ?? Date.now()).toISOString(),
    veil: { version: i.version },
    browser: { userAgent: i.userAgent, language: i.language },
    policy: p
      ? {
          managed: p.managed,
          valid: p.errors.length === 0,
          errors: p.errors.map((e) => ({ path: e.path, message: e.message })),
          requireEncryption: p.requireEncryption,
          flagUnencrypted: p.flagUnencrypted,
          allowUserKeys: p.allowUserKeys,
          allowKeyExport: p.allowKeyExport,
          mode: p.mode,
          policyKeyIds: [...p.policyKeyIds],
        }
      : { unreadable: i.policyError ?? 'unknown' },
    protectedSites: (p?.protectedSites ?? []).map((s) => ({
      adapter: s.adapter,
      ...(s.custom?.name ? { name: s.custom.name } : {}),
      matches: [...s.matches],
      mode: i.sites?.find((m) => m.key === siteKey(s))?.mode ?? p?.mode,
    })),
    siteModes: (i.sites ?? []).map((s) => ({ site: s.key, name: s.name, mode: s.mode, enforced: s.enforced })),
    keys: (i.keys ?? []).map((k) => ({
      id: k.id,
      label: k.label,
      fingerprint: k.fingerprint,
      status: k.status,
      source: k.source,
      scope: { site: k.scope.site, conversations: [...k.scope.conversations] },
      createdAt: new Date(k.createdAt).toISOString(),
    })),
    lock: i.lock ?? 'unknown',
    signingIdentities: (i.identities ?? []).map((d) => ({ site: d.site, userId: d.userId })),
    directoryEntries: i.directorySize ?? 0,
    contentScripts: (i.contentScripts ?? []).map((c) => ({
      id: c.id,
      matches: [...(c.matches ?? [])],
      js: [...(c.js ?? [])],
      runAt: c.runAt,
    })),
  };
}
