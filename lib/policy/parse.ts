/**
 * Turns what managed storage holds into the policy in force and the policy's keys. Untrusted
 * input in the sense that admins make mistakes: the schema (ajv, compiled ahead of time) checks
 * shape and values, then the rules a schema cannot state (adapter ids, match patterns, key id
 * uniqueness, scopes naming a protected site). Any problem refuses the whole policy (the background
 * then keeps the last valid one, or fails closed); every problem is reported with the setting it concerns. Pure: no browser APIs.
 */
import { base64 } from '@scure/base';
import { validateCustomAdapterSpec } from '../adapters/custom';
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import type { KeyRecord } from '../keys/model';
import { isValidPattern } from './match-pattern';
import { DEFAULT_POLICY, type KeyServiceConfig, type Policy, type PolicyProblem, type ProtectedSite } from './policy';
import { KEY_SERVICE_DEFAULTS, MANAGED_DEFAULTS } from './schema';
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
  attachments?: 'encrypt' | 'block' | 'allow';
  maxAttachmentBytes?: number;
  localSearch?: boolean;
  previews?: 'label' | 'decrypt';
  localSearchMaxMessages?: number;
  keyService?: Partial<KeyServiceConfig> & Pick<KeyServiceConfig, 'url' | 'issuer' | 'clientId'>;
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
  if (/keyService\.(url|issuer)$/.test(path)) return 'must be an http(s) URL without query or fragment';
  if (/keyService\.\w+$/.test(path)) return 'must be one word without spaces';
  return 'has the wrong format';
}

export function semanticProblems(p: ManagedPolicyJson): PolicyProblem[] {
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
  if (p.keyService) {
    for (const name of ['url', 'issuer'] as const) {
      const problem = serviceUrlProblem(p.keyService[name]);
      if (problem) out.push({ path: `keyService.${name}`, message: problem });
    }
  }
  return out;
}

/**
 * Key releases and sign-in carry tokens and wrapped keys: only over TLS, except to this machine
 * (a local identity provider or service for tests and demos).
 */
function serviceUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not a URL`;
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    return `"${raw}" must use https:// (plain http only on 127.0.0.1 or localhost)`;
  return undefined;
}

/** The key service settings with their defaults filled in. */
function keyServiceConfig(k: NonNullable<ManagedPolicyJson['keyService']>): KeyServiceConfig {
  return {
    url: k.url.replace(/\/+$/, ''),
    issuer: k.issuer,
    clientId: k.clientId,
    groupsClaim: k.groupsClaim ?? KEY_SERVICE_DEFAULTS.groupsClaim,
    refreshMinutes: k.refreshMinutes ?? KEY_SERVICE_DEFAULTS.refreshMinutes,
    offlineGraceHours: k.offlineGraceHours ?? KEY_SERVICE_DEFAULTS.offlineGraceHours,
    kem: k.kem ?? KEY_SERVICE_DEFAULTS.kem,
  };
}

/** At most this many hosts are protected from an invalid policy's strings (registration stays small). */
const MAX_NAMED_HOSTS = 500;

/**
 * Host names and addresses in one string, whatever form an admin wrote them in: a match pattern,
 * a URL, `chat.corp.example` or `chat.corp.example:8443`, `*.corp.example`, `localhost`, `127.0.0.1`.
 * Deliberately generous: a word that only looks like a host (`div.msg`) costs nothing.
 */
const HOST_IN_TEXT =
  /(?:^|[^a-z0-9.*-])((?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]*[a-z0-9]|localhost)(?=$|[^a-z0-9.-])/gi;

/** Every string in `raw`, property names included, depth-first. */
function* strings(raw: unknown, depth = 0): Generator<string> {
  if (depth > 32) return;
  if (typeof raw === 'string') yield raw;
  else if (Array.isArray(raw)) for (const v of raw) yield* strings(v, depth + 1);
  else if (raw && typeof raw === 'object')
    for (const [k, v] of Object.entries(raw)) {
      yield k;
      yield* strings(v, depth + 1);
    }
}

/**
 * Match patterns for every host any string of an invalid policy names (under any key, spelt
 * right or not): each is protected on every scheme, port and path, so a typo in a pattern or a
 * misspelt setting never leaves the chat the admin meant unprotected.
 */
export function namedHostPatterns(raw: unknown): string[] {
  const hosts = new Set<string>();
  scan: for (const text of strings(raw)) {
    for (const m of text.matchAll(HOST_IN_TEXT)) {
      const host = m[1]!.toLowerCase().replace(/\.$/, '');
      if (/^\d+(\.\d+)?$/.test(host)) continue; // a version or a number, not an address
      hosts.add(host);
      if (hosts.size >= MAX_NAMED_HOSTS) break scan;
    }
  }
  return [...hosts].sort().map((h) => `*://${h}/*`);
}

/** True when any string of the policy says "isolated": an invalid policy never loosens isolation. */
export function mentionsIsolated(raw: unknown): boolean {
  for (const text of strings(raw)) if (/isolated/i.test(text)) return true;
  return false;
}

function isEmpty(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'object' && Object.keys(raw as object).length === 0);
}

/**
 * The policy in force when the managed one is refused and no valid one was ever seen: every host
 * the policy names is protected and sending there is blocked (`errors` set, no `fallback`),
 * isolated if the policy says "isolated" anywhere, strict settings, no policy keys.
 * (With a valid policy seen before, the background keeps enforcing that one instead.)
 */
export function failClosed(raw: unknown, errors: PolicyProblem[]): ParsedPolicy {
  const matches = namedHostPatterns(raw);
  return {
    policy: {
      managed: true,
      protectedSites: matches.length ? [{ adapter: 'invalid', matches }] : [],
      requireEncryption: true,
      flagUnencrypted: true,
      allowUserKeys: false,
      allowKeyExport: false,
      mode: mentionsIsolated(raw) ? 'isolated' : 'inline',
      attachments: 'block',
      localSearch: false,
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
      attachments: p.attachments ?? MANAGED_DEFAULTS.attachments,
      maxAttachmentBytes: p.maxAttachmentBytes ?? MANAGED_DEFAULTS.maxAttachmentBytes,
      localSearch: p.localSearch ?? MANAGED_DEFAULTS.localSearch,
      localSearchMaxMessages: p.localSearchMaxMessages ?? MANAGED_DEFAULTS.localSearchMaxMessages,
      previews: p.previews ?? MANAGED_DEFAULTS.previews,
      policyKeyIds: keys.map((k) => k.id),
      ...(p.keyService ? { keyService: keyServiceConfig(p.keyService) } : {}),
      errors: [],
    },
    keys,
  };
}
