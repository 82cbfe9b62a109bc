/**
 * Turns what managed storage holds into the policy in force and the policy's keys. Untrusted
 * input in the sense that admins make mistakes: the schema (ajv, compiled ahead of time) checks
 * shape and values, then the rules a schema cannot state (adapter ids, match patterns, key id
 * uniqueness, scopes naming a protected site). Any problem refuses the whole policy and Veil fails
 * closed; every problem is reported with the setting it concerns. Pure: no browser APIs.
 */
import { base64 } from '@scure/base';
import { validateCustomAdapterSpec } from '../adapters/custom';
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import type { KeyRecord } from '../keys/model';
import { isValidPattern } from './match-pattern';
import { DEFAULT_POLICY, type Policy, type PolicyProblem, type ProtectedSite } from './policy';
import { MANAGED_DEFAULTS } from './schema';
import { validate as generatedValidate } from './validate.generated';

export interface ParsedPolicy {
  policy: Policy;
  /** Keys the policy delivers, with source 'policy'; empty when the policy is invalid. */
  keys: KeyRecord[];
}

/** What a managed policy looks like once the schema accepted it. */
export interface ManagedPolicyJson {
  protectedSites: ProtectedSite[];
  keys?: {
    id: string;
    secret: string;
    label: string;
    scope: KeyRecord['scope'];
    status: KeyRecord['status'];
    createdAt: number;
  }[];
  requireEncryption?: boolean;
  flagUnencrypted?: boolean;
  allowUserKeys?: boolean;
  allowKeyExport?: boolean;
  mode?: 'inline' | 'isolated';
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** The ahead-of-time compiled schema check (ajv standalone); sets `errors` after a failed call. */
const validate = generatedValidate as unknown as ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/** `/protectedSites/0/adapter` -> `protectedSites[0].adapter` */
export function displayPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function fromAjv(e: AjvError): PolicyProblem {
  const path = displayPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return { path: join(path, String(e.params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return {
        path: join(path, String(e.params.additionalProperty)),
        message: 'is not a Veil policy setting (misspelt?)',
      };
    case 'enum':
      return {
        path,
        message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern':
      return { path, message: patternMessage(path) };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

function patternMessage(path: string): string {
  if (/\.id$/.test(path)) return 'must be 8 lowercase hex characters';
  if (/\.secret$/.test(path)) return 'must be a 32-byte key in base64 (44 characters ending in "=")';
  if (/\.label$/.test(path)) return 'must be one line of 1 to 200 characters';
  if (/\.site$/.test(path)) return 'must be an adapter id or "*"';
  if (/conversations\[\d+\]$/.test(path)) return 'must be 1 to 511 characters';
  return 'has the wrong format';
}

function semanticProblems(p: ManagedPolicyJson): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const builtin = new Set(BUILTIN_ADAPTERS.map((a) => a.id));
  p.protectedSites.forEach((s, i) => {
    const at = `protectedSites[${i}]`;
    if (s.adapter === 'custom') {
      if (s.custom === undefined) out.push({ path: `${at}.custom`, message: 'is required when adapter is "custom"' });
      else {
        const check = validateCustomAdapterSpec(s.custom);
        if (!check.ok) for (const m of check.errors) out.push({ path: `${at}.custom`, message: m });
      }
    } else if (!builtin.has(s.adapter)) {
      out.push({
        path: `${at}.adapter`,
        message: `"${s.adapter}" is not a Veil adapter; use one of ${[...builtin, 'custom'].map((a) => `"${a}"`).join(', ')}`,
      });
    } else if (s.custom !== undefined) {
      out.push({ path: `${at}.custom`, message: 'is only allowed with adapter "custom"' });
    }
    s.matches.forEach((m, j) => {
      if (!isValidPattern(m))
        out.push({
          path: `${at}.matches[${j}]`,
          message: `"${m}" is not a URL match pattern like "https://chat.example.com/*"`,
        });
    });
  });
  const sites = new Set(p.protectedSites.map((s) => s.adapter));
  const seen = new Map<string, number>();
  (p.keys ?? []).forEach((k, i) => {
    const first = seen.get(k.id);
    if (first !== undefined) out.push({ path: `keys[${i}].id`, message: `${k.id} is also the id of keys[${first}]` });
    else seen.set(k.id, i);
    if (k.scope.site !== '*' && !sites.has(k.scope.site)) {
      out.push({
        path: `keys[${i}].scope.site`,
        message: `"${k.scope.site}" is not the adapter of any protected site`,
      });
    }
  });
  return out;
}

/** Sites an invalid policy still protects: whatever match patterns it names, and the built-in chats. */
function failClosedSites(raw: Record<string, unknown>): ProtectedSite[] {
  const named: ProtectedSite[] = [];
  const list = Array.isArray(raw.protectedSites) ? raw.protectedSites : [];
  for (const s of list) {
    const matches = Array.isArray(s?.matches)
      ? s.matches.filter((m: unknown) => typeof m === 'string' && isValidPattern(m))
      : [];
    // A site the admin meant to isolate stays isolated: failing closed never loosens a site.
    if (matches.length)
      named.push({
        adapter: typeof s.adapter === 'string' ? s.adapter : 'invalid',
        matches,
        ...(s.mode === 'isolated' ? { mode: 'isolated' as const } : {}),
      });
  }
  return [...named, ...DEFAULT_POLICY.protectedSites];
}

function isEmpty(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'object' && Object.keys(raw as object).length === 0);
}

/** The policy in force when the managed one is refused: strict settings, no policy keys. */
export function failClosed(raw: unknown, errors: PolicyProblem[]): ParsedPolicy {
  const obj = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return {
    policy: {
      managed: true,
      protectedSites: failClosedSites(obj),
      requireEncryption: true,
      flagUnencrypted: true,
      allowUserKeys: false,
      allowKeyExport: false,
      mode: 'inline',
      policyKeyIds: [],
      errors,
    },
    keys: [],
  };
}

export function parseManagedPolicy(raw: unknown): ParsedPolicy {
  if (isEmpty(raw)) return { policy: DEFAULT_POLICY, keys: [] };
  let errors: PolicyProblem[];
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    errors = [{ path: '', message: 'the policy must be a JSON object' }];
  } else if (!validate(raw)) {
    errors = (validate.errors ?? []).map(fromAjv);
  } else {
    errors = semanticProblems(raw as ManagedPolicyJson);
  }
  if (errors.length) return failClosed(raw, errors);
  const p = raw as ManagedPolicyJson;
  const keys: KeyRecord[] = (p.keys ?? []).map((k) => ({
    id: k.id,
    secret: base64.decode(k.secret),
    label: k.label,
    scope: { site: k.scope.site, conversations: [...k.scope.conversations] },
    status: k.status,
    createdAt: k.createdAt,
    source: 'policy',
  }));
  return {
    policy: {
      managed: true,
      protectedSites: p.protectedSites.map((s) => ({
        adapter: s.adapter,
        matches: [...s.matches],
        ...(s.custom ? { custom: s.custom } : {}),
        ...(s.mode ? { mode: s.mode } : {}),
      })),
      requireEncryption: p.requireEncryption ?? MANAGED_DEFAULTS.requireEncryption,
      flagUnencrypted: p.flagUnencrypted ?? MANAGED_DEFAULTS.flagUnencrypted,
      allowUserKeys: p.allowUserKeys ?? MANAGED_DEFAULTS.allowUserKeys,
      allowKeyExport: p.allowKeyExport ?? MANAGED_DEFAULTS.allowKeyExport,
      mode: p.mode ?? MANAGED_DEFAULTS.mode,
      policyKeyIds: keys.map((k) => k.id),
      errors: [],
    },
    keys,
  };
}
