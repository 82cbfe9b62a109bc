/**
 * The policy schema and its checks (lib/policy/*): what a managed policy becomes, every way it can
 * be wrong (with the exact setting named), fail-closed behaviour, and the Chrome copy of the schema.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64 } from '@scure/base';
import { DEFAULT_POLICY, describeProblems, sendsBlocked, siteForUrl } from '../../lib/policy/policy';
import { isValidPattern } from '../../lib/policy/match-pattern';
import { displayPath, namedHostPatterns, parseManagedPolicy } from '../../lib/policy/parse';
import { chromeManagedSchema, POLICY_SCHEMA } from '../../lib/policy/schema';

const secret = () => randomBytes(32).toString('base64');
const key = (over: Record<string, unknown> = {}) => ({
  id: 'a1b2c3d4',
  secret: secret(),
  label: 'Team',
  scope: { site: 'fixture-chat', conversations: ['*'] },
  status: 'active',
  createdAt: 1_700_000_000_000,
  ...over,
});
const valid = () => ({
  protectedSites: [{ adapter: 'fixture-chat', matches: ['https://chat.example.com/*'] }],
  keys: [key()],
});
const problems = (raw: unknown) => parseManagedPolicy(raw).policy.errors;
const acme = () => ({
  name: 'Acme',
  selectors: { composer: ['textarea'], message: ['.msg'], messageText: ['.body'] },
  authorAttribute: 'data-author',
  conversationId: { from: 'url', pattern: 'room/([^/]+)' },
  currentUser: { from: 'constant' } as Record<string, string>,
  maxMessageChars: 2000,
});

describe('managed policy', () => {
  it('no policy (Chrome gives {}, Firefox none) means the unmanaged defaults', () => {
    for (const raw of [undefined, null, {}])
      expect(parseManagedPolicy(raw)).toEqual({ policy: DEFAULT_POLICY, keys: [] });
    expect(DEFAULT_POLICY).toMatchObject({ managed: false, requireEncryption: true, allowUserKeys: true, errors: [] });
    // Nothing is protected until the user (options page) or a policy says so: no local web app
    // becomes a page that can ask Veil to decrypt.
    expect(DEFAULT_POLICY.protectedSites).toEqual([]);
    expect(siteForUrl(DEFAULT_POLICY, 'http://127.0.0.1:8080/')).toBeUndefined();
    expect(siteForUrl(DEFAULT_POLICY, 'http://localhost:3000/')).toBeUndefined();
  });

  it('a valid policy: its sites only, managed defaults, keys with source "policy"', () => {
    const raw = valid();
    const { policy, keys } = parseManagedPolicy(raw);
    expect(policy).toMatchObject({
      managed: true,
      errors: [],
      requireEncryption: true,
      flagUnencrypted: true,
      allowUserKeys: false,
      allowKeyExport: false,
      mode: 'inline',
      policyKeyIds: ['a1b2c3d4'],
      protectedSites: raw.protectedSites,
    });
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      id: 'a1b2c3d4',
      source: 'policy',
      status: 'active',
      scope: { site: 'fixture-chat' },
    });
    expect(base64.encode(keys[0]!.secret)).toBe(raw.keys[0]!.secret);
    // The built-in defaults no longer apply: only the admin's URLs are protected.
    expect(siteForUrl(policy, 'https://chat.example.com/room/1')?.adapter).toBe('fixture-chat');
    expect(siteForUrl(policy, 'http://127.0.0.1:8080/')).toBeUndefined();
    // Nothing secret in the policy object that extension pages receive.
    expect(JSON.stringify(policy)).not.toContain(raw.keys[0]!.secret);
  });

  it('explicit settings override the managed defaults', () => {
    const { policy } = parseManagedPolicy({
      ...valid(),
      requireEncryption: false,
      flagUnencrypted: false,
      allowUserKeys: true,
      allowKeyExport: true,
      mode: 'isolated',
    });
    expect(policy).toMatchObject({
      requireEncryption: false,
      flagUnencrypted: false,
      allowUserKeys: true,
      allowKeyExport: true,
      mode: 'isolated',
    });
  });

  it('a per-site mode: carried into that site only, the policy-wide mode stays as set', () => {
    const raw = {
      ...valid(),
      protectedSites: [
        { adapter: 'fixture-chat', matches: ['https://chat.example.com/*'], mode: 'isolated' },
        { adapter: 'fixture-chat', matches: ['https://old.example.com/*'], mode: 'inline' },
        { adapter: 'fixture-chat', matches: ['https://other.example.com/*'] },
      ],
    };
    const { policy } = parseManagedPolicy(raw);
    expect(policy.errors).toEqual([]);
    expect(policy.mode).toBe('inline');
    expect(policy.protectedSites).toEqual(raw.protectedSites);
    expect(siteForUrl(policy, 'https://chat.example.com/room/1')?.mode).toBe('isolated');
    expect(siteForUrl(policy, 'https://old.example.com/room/1')?.mode).toBe('inline');
    expect(siteForUrl(policy, 'https://other.example.com/room/1')).not.toHaveProperty('mode');
    const custom = {
      adapter: 'custom',
      matches: ['https://acme.example/*'],
      custom: { ...acme(), currentUser: { from: 'constant', value: 'me' } },
      mode: 'isolated',
    };
    expect(parseManagedPolicy({ protectedSites: [custom] }).policy.protectedSites[0]).toEqual(custom);
  });

  it('an invalid per-site mode is reported at exactly protectedSites[0].mode', () => {
    const errs = problems({
      protectedSites: [{ adapter: 'fixture-chat', matches: ['https://chat.example.com/*'], mode: 'Isolated' }],
    });
    expect(errs).toEqual([{ path: 'protectedSites[0].mode', message: 'must be one of "inline", "isolated"' }]);
    expect(
      problems({ protectedSites: [{ adapter: 'fixture-chat', matches: ['https://chat.example.com/*'], mode: true }] }),
    ).toContainEqual({ path: 'protectedSites[0].mode', message: 'must be string' });
  });

  it.each([
    [
      'a misspelt setting (Firefox passes unknown keys on)',
      { ...valid(), requireEncrytion: true },
      'requireEncrytion',
      'not a Veil policy setting',
    ],
    ['a mode typo', { ...valid(), mode: 'isolatd' }, 'mode', 'must be one of "inline", "isolated"'],
    [
      'a per-site mode typo',
      { ...valid(), protectedSites: [{ adapter: 'fixture-chat', matches: ['https://x.example/*'], mode: 'isolatd' }] },
      'protectedSites[0].mode',
      'must be one of "inline", "isolated"',
    ],
    ['a wrong type', { ...valid(), requireEncryption: 'yes' }, 'requireEncryption', 'must be boolean'],
    ['no protectedSites', { keys: [key()] }, 'protectedSites', 'is required'],
    [
      'a site without matches',
      { protectedSites: [{ adapter: 'fixture-chat' }] },
      'protectedSites[0].matches',
      'is required',
    ],
    [
      'an unknown adapter',
      { protectedSites: [{ adapter: 'slack', matches: ['https://x.example/*'] }] },
      'protectedSites[0].adapter',
      '"slack" is not a Veil adapter',
    ],
    [
      'a bad match pattern',
      { protectedSites: [{ adapter: 'fixture-chat', matches: ['chat.example.com'] }] },
      'protectedSites[0].matches[0]',
      'not a URL match pattern',
    ],
    [
      'custom without its declaration',
      { protectedSites: [{ adapter: 'custom', matches: ['https://x.example/*'] }] },
      'protectedSites[0].custom',
      'is required',
    ],
    [
      'a declaration on a built-in',
      {
        protectedSites: [
          {
            adapter: 'fixture-chat',
            matches: ['https://x.example/*'],
            custom: { ...acme(), currentUser: { from: 'constant', value: 'me' } },
          },
        ],
      },
      'protectedSites[0].custom',
      'only allowed with adapter "custom"',
    ],
    [
      'an incomplete declaration',
      { protectedSites: [{ adapter: 'custom', matches: ['https://x.example/*'], custom: { name: 'x' } }] },
      'protectedSites[0].custom.maxMessageChars',
      'is required',
    ],
    [
      'a short secret',
      { ...valid(), keys: [key({ secret: base64.encode(randomBytes(16)) })] },
      'keys[0].secret',
      '32-byte key',
    ],
    ['an upper-case key id', { ...valid(), keys: [key({ id: 'A1B2C3D4' })] }, 'keys[0].id', '8 lowercase hex'],
    ['a duplicate key id', { ...valid(), keys: [key(), key()] }, 'keys[1].id', 'also the id of keys[0]'],
    [
      'a scope naming no protected site',
      { ...valid(), keys: [key({ scope: { site: 'other', conversations: ['*'] } })] },
      'keys[0].scope.site',
      'not the adapter of any protected site',
    ],
    ['an unknown key status', { ...valid(), keys: [key({ status: 'paused' })] }, 'keys[0].status', 'must be one of'],
    [
      'no conversations',
      { ...valid(), keys: [key({ scope: { site: '*', conversations: [] } })] },
      'keys[0].scope.conversations',
      'must NOT have fewer than 1 items',
    ],
    ['not an object', ['protectedSites'], '', 'must be a JSON object'],
  ])('names the setting for %s', (_what, raw, path, message) => {
    const errs = problems(raw);
    const hit = errs.find((e) => e.path === path);
    expect(hit, JSON.stringify(errs)).toBeDefined();
    expect(hit!.message).toContain(message);
  });

  it('a declared custom adapter is checked in full by the adapter module', () => {
    const raw = { protectedSites: [{ adapter: 'custom', matches: ['https://acme.example/*'], custom: acme() }] };
    const errs = problems(raw);
    expect(errs).toContainEqual({
      path: 'protectedSites[0].custom',
      message: 'currentUser: from "constant" needs "value"',
    });
    raw.protectedSites[0]!.custom.currentUser.value = 'me';
    expect(problems(raw)).toEqual([]);
  });

  it('reports every problem at once', () => {
    const errs = problems({ protectedSites: [{ adapter: 'fixture-chat', matches: ['nope'] }], mode: 'x', extra: 1 });
    expect(errs.map((e) => e.path).sort()).toEqual(['extra', 'mode']);
    expect(describeProblems(errs)).toMatch(/^(extra|mode): .* \(and 1 more problem\)$/);
  });

  it('an invalid policy fails closed: every host it names stays protected, strictly, with no policy keys', () => {
    const { policy, keys } = parseManagedPolicy({
      protectedSites: [{ adapter: 'fixture-chatt', matches: ['https://chat.example.com/*', 'junk'] }],
      keys: [key()],
      requireEncryption: false,
      allowUserKeys: true,
    });
    expect(policy.errors.length).toBeGreaterThan(0);
    expect(policy.fallback).toBeUndefined();
    expect(sendsBlocked(policy)).toBe(true);
    expect(keys).toEqual([]);
    expect(policy).toMatchObject({
      managed: true,
      requireEncryption: true,
      allowUserKeys: false,
      allowKeyExport: false,
      policyKeyIds: [],
    });
    expect(siteForUrl(policy, 'https://chat.example.com/x')).toBeDefined();
    // Built-in defaults are no longer protected by an invalid policy that does not name them.
    expect(siteForUrl(policy, 'http://127.0.0.1:5000/')).toBeUndefined();
  });

  it('a pattern typo or a misspelt key still protects the host it names, on every scheme, port and path', () => {
    const cases: [unknown, string][] = [
      [
        { protectedSites: [{ adapter: 'fixture-chat', matches: ['https://chat.corp.example'] }] },
        'https://chat.corp.example/room/1',
      ],
      [
        { protectedSite: [{ adapter: 'fixture-chat', matches: ['https://chat.corp.example/*'] }] },
        'https://chat.corp.example/',
      ],
      [
        { protectedSites: [{ adapter: 'fixture-chat', match: ['chat.corp.example:8443'] }] },
        'https://chat.corp.example:8443/a',
      ],
      [{ sites: 'see http://10.1.2.3:8080/chat' }, 'http://10.1.2.3:8080/chat?x=1'],
      [{ protectedSites: [{ adapter: 'fixture-chat', matches: ['*.corp.example'] }] }, 'http://eu.corp.example/'],
      [
        { protectedSites: [{ adapter: 'fixture-chat', matches: ['http://localhost'] }], extra: 1 },
        'http://localhost:3000/',
      ],
    ];
    for (const [raw, url] of cases) {
      const { policy } = parseManagedPolicy(raw);
      expect(policy.errors.length, JSON.stringify(raw)).toBeGreaterThan(0);
      expect(siteForUrl(policy, url), `${JSON.stringify(raw)} -> ${url}`).toBeDefined();
      expect(sendsBlocked(policy)).toBe(true);
    }
    expect(siteForUrl(parseManagedPolicy(cases[0]![0]).policy, 'https://other.example/')).toBeUndefined();
  });

  it('an invalid policy that says "isolated" anywhere isolates everything it protects', () => {
    for (const raw of [
      { mode: 'isolated', protectedSites: [{ adapter: 'fixture-chatt', matches: ['https://chat.example.com/*'] }] },
      { protectedSites: [{ adapter: 'x', matches: ['https://chat.example.com/*'], mood: 'Isolated' }] },
      { Mode: 'isolated', protectedSites: 'https://chat.example.com' },
    ]) {
      const { policy } = parseManagedPolicy(raw);
      expect(policy.errors.length).toBeGreaterThan(0);
      expect(policy.mode).toBe('isolated');
    }
    const inline = parseManagedPolicy({ protectedSites: [{ adapter: 'x', matches: ['https://chat.example.com/*'] }] });
    expect(inline.policy.mode).toBe('inline');
  });

  it('host scanning finds hosts only, and keeps the list bounded', () => {
    expect(namedHostPatterns({ label: 'Sales team 2025', v: '1.2', n: 3, secret: secret() })).toEqual([]);
    expect(namedHostPatterns('https://Chat.Example.com/x and ws://b.example:1/')).toEqual([
      '*://b.example/*',
      '*://chat.example.com/*',
    ]);
    const many = Array.from({ length: 2000 }, (_, i) => `h${i}.example`);
    expect(namedHostPatterns(many).length).toBeLessThanOrEqual(500);
    for (const p of namedHostPatterns(many)) expect(isValidPattern(p)).toBe(true);
  });

  it('displays JSON pointers as settings paths', () => {
    expect(displayPath('/protectedSites/0/matches/2')).toBe('protectedSites[0].matches[2]');
    expect(displayPath('')).toBe('');
    expect(displayPath('/a~1b/c')).toBe('a/b.c');
  });
});

describe('Chrome managed_schema', () => {
  const allowed = new Set(['type', 'title', 'description', 'properties', 'items', 'sensitiveValue']);
  const walk = (node: any, path: string, visit: (n: any, p: string) => void) => {
    visit(node, path);
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`, visit);
    if (node.items) walk(node.items, `${path}[]`, visit);
  };

  it('uses only keywords Chromium accepts, one type per schema, top-level object', () => {
    const schema = chromeManagedSchema() as any;
    expect(schema.type).toBe('object');
    walk(schema, '$', (n, p) => {
      for (const k of Object.keys(n)) expect(allowed.has(k), `${p}.${k}`).toBe(true);
      expect(typeof n.type, p).toBe('string');
      if (n.type === 'array') expect(n.items, p).toBeDefined();
    });
  });

  it('declares every property of the Veil schema (Chromium silently drops undeclared ones)', () => {
    const paths = (s: unknown) => {
      const out: string[] = [];
      walk(s, '$', (_n, p) => out.push(p));
      return out.sort();
    };
    expect(paths(chromeManagedSchema())).toEqual(paths(POLICY_SCHEMA));
    expect(paths(POLICY_SCHEMA)).toContain('$.protectedSites[].custom.selectors.composer');
    expect((chromeManagedSchema() as any).properties.keys.items.properties.secret.sensitiveValue).toBe(true);
    // The per-site mode reaches Chrome as a plain string (its enum is Veil's to check and report).
    expect((chromeManagedSchema() as any).properties.protectedSites.items.properties.mode).toEqual({
      type: 'string',
      description: POLICY_SCHEMA.properties.protectedSites.items.properties.mode.description,
    });
  });
});
