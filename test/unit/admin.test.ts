/**
 * The admin CLI (scripts/admin-cli.ts), run in-process: key file handling, clear errors with
 * non-zero exits, and policy files that parse as their targets do and carry a policy Veil accepts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as plist from 'plist';
import { openBundle } from '../../lib/crypto/bundle';
import { CHROME_EXTENSION_ID, CHROME_PUBLIC_KEY, GECKO_ID } from '../../lib/policy/ids';
import { parseManagedPolicy } from '../../lib/policy/parse';
import { POLICY_SCHEMA } from '../../lib/policy/schema';
import { runAdmin } from '../../scripts/admin-cli';
import { policyAjv } from '../../scripts/admin-generate';

const PASS = 'admin passphrase for tests';
let dir: string;
let keysFile: string;

async function admin(argv: string[], env: Record<string, string | undefined> = { VEIL_ADMIN_PASSPHRASE: PASS }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const gen = (label: string, ...more: string[]) =>
  admin([
    'keys',
    'generate',
    '--keys',
    keysFile,
    '--label',
    label,
    '--site',
    'fixture-chat',
    '--scrypt-log-n',
    '15',
    ...more,
  ]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'veil-admin-'));
  keysFile = join(dir, 'keys.json');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('veil-admin: arguments', () => {
  it.each([
    [[], 2, 'no command given'],
    [['frobnicate'], 2, 'unknown command "frobnicate"'],
    [['keys', 'generate', '--keys', 'k.json', '--bogus'], 2, "Unknown option '--bogus'"],
    [['keys', 'generate', '--label', 'x'], 2, '--keys is required'],
    [['keys', 'explode', '--keys', 'k.json'], 2, 'unknown keys command "explode"'],
    [
      ['keys', 'generate', '--keys', 'k.json', '--label', 'x', '--site', 'slack'],
      2,
      '--site "slack" is not an adapter',
    ],
    [
      ['keys', 'generate', '--keys', 'k.json', '--label', 'x', '--scrypt-log-n', '9'],
      2,
      '--scrypt-log-n must be an integer from 15 to 20',
    ],
    [['policy', '--out', 'o', '--protect', 'fixture-chat=https://x/*'], 2, 'say where browsers install Veil from'],
    [['policy', '--out', 'o', '--no-force-install'], 2, 'protect at least one site'],
    [['policy', '--out', 'o', '--no-force-install', '--protect', 'fixture-chat'], 2, 'must look like ADAPTER=PATTERN'],
    [
      ['policy', '--out', 'o', '--no-force-install', '--protect', 'fixture-chat=chat.example.com'],
      2,
      'is not a URL match pattern',
    ],
    [
      ['policy', '--out', 'o', '--no-force-install', '--protect', 'fixture-chat=https://x/*', '--mode', 'isolatd'],
      2,
      '--mode must be inline or isolated',
    ],
    [
      [
        'policy',
        '--out',
        'o',
        '--no-force-install',
        '--protect',
        'fixture-chat=https://x/*',
        '--require-encryption',
        'yes',
      ],
      2,
      'must be true or false',
    ],
    [['validate'], 2, 'validate needs a FILE'],
    [['validate', '/nonexistent/policy.json'], 1, 'cannot read policy file /nonexistent/policy.json: ENOENT'],
  ])('%j exits %i: %s', async (argv, code, message) => {
    const r = await admin(argv as string[]);
    expect(r.code).toBe(code);
    expect(r.err).toContain(message);
  });

  it('refuses to work without a passphrase, or with a wrong one', async () => {
    const none = await admin(['keys', 'generate', '--keys', join(dir, 'x.json'), '--label', 'x'], {});
    expect(none).toMatchObject({ code: 2, err: expect.stringContaining('VEIL_ADMIN_PASSPHRASE') });
    expect((await gen('First key')).code).toBe(0);
    const wrong = await admin(['keys', 'list', '--keys', keysFile], { VEIL_ADMIN_PASSPHRASE: 'not the passphrase' });
    expect(wrong).toMatchObject({ code: 1, err: expect.stringContaining('wrong passphrase') });
  });
});

describe('veil-admin: keys', () => {
  it('generates, rotates and revokes in a passphrase-protected key bundle', async () => {
    const first = (await admin(['keys', 'list', '--keys', keysFile])).out;
    const id = /^([0-9a-f]{8})/.exec(first)![1]!;
    expect((await gen('Second key', '--conversations', 'dm-a-b,ch-*')).out).toMatch(/fixture-chat: dm-a-b,ch-\*/);
    const rotated = await admin(['keys', 'rotate', '--keys', keysFile, '--id', id, '--scrypt-log-n', '15']);
    expect(rotated.code).toBe(0);
    const newId = /new +([0-9a-f]{8})/.exec(rotated.out)![1]!;
    expect((await admin(['keys', 'rotate', '--keys', keysFile, '--id', id])).err).toContain(`key ${id} is retired`);
    expect((await admin(['keys', 'revoke', '--keys', keysFile, '--id', 'ffffffff'])).err).toContain(
      'has no key ffffffff',
    );

    // The file is a standard bundle, readable by Veil's importer, and private to its owner.
    const keys = (await openBundle(readFileSync(keysFile, 'utf8'), PASS)).keys;
    expect(keys.map((k) => [k.id, k.status])).toEqual(
      expect.arrayContaining([
        [id, 'retired'],
        [newId, 'active'],
      ]),
    );
    const old = keys.find((k) => k.id === id)!;
    const fresh = keys.find((k) => k.id === newId)!;
    expect(fresh.scope).toEqual(old.scope);
    expect(fresh.createdAt).toBeGreaterThan(old.createdAt);
    expect(statSync(keysFile).mode & 0o077).toBe(0);
    expect((await admin(['keys', 'revoke', '--keys', keysFile, '--id', newId, '--scrypt-log-n', '15'])).code).toBe(0);
  });
});

/** Strict reader for the subset of the .reg format the CLI writes; throws on anything else. */
function parseReg(bytes: Buffer): Map<string, Map<string, string | number>> {
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xfe]);
  const lines = bytes.subarray(2).toString('utf16le').split('\r\n');
  expect(lines[0]).toBe('Windows Registry Editor Version 5.00');
  const keys = new Map<string, Map<string, string | number>>();
  let current: Map<string, string | number> | undefined;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const section = /^\[(HKEY_LOCAL_MACHINE\\[^\]]+)\]$/.exec(line);
    if (section) {
      keys.set(section[1]!, (current = new Map()));
      continue;
    }
    const value = /^"((?:[^"\\]|\\.)*)"=(?:dword:([0-9a-f]{8})|"((?:[^"\\]|\\.)*)")$/.exec(line);
    if (!value || !current) throw new Error(`not a .reg line: ${line}`);
    const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
    current.set(unescape(value[1]!), value[2] !== undefined ? parseInt(value[2], 16) : unescape(value[3]!));
  }
  return keys;
}

/** What Chrome makes of registry values for Veil's schema: dword -> boolean, JSON strings -> lists/objects. */
function fromRegistry(values: Map<string, string | number>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of values) {
    const type = (POLICY_SCHEMA.properties as Record<string, { type: string }>)[name]!.type;
    out[name] = type === 'boolean' ? v === 1 : type === 'array' || type === 'object' ? JSON.parse(v as string) : v;
  }
  return out;
}

describe('veil-admin: policy files', () => {
  let out: string;
  let policy: Record<string, unknown>;

  beforeAll(async () => {
    out = join(dir, 'out');
    const settings = join(dir, 'settings.json');
    writeFileSync(settings, JSON.stringify({ flagUnencrypted: false }));
    const r = await admin([
      'policy',
      '--keys',
      keysFile,
      '--protect',
      'fixture-chat=https://chat.example.com/*,https://*.chat.example.com/*',
      '--settings',
      settings,
      '--allow-user-keys',
      'true',
      '--chrome-update-url',
      'https://it.example/veil/updates.xml',
      '--firefox-install-url',
      'https://it.example/veil/veil.xpi',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    policy = JSON.parse(readFileSync(join(out, 'chrome-linux', 'veil.json'), 'utf8'))['3rdparty'].extensions[
      CHROME_EXTENSION_ID
    ];
  });

  it('the policy carries every key of the key file, the sites and the settings, and Veil accepts it', async () => {
    const parsed = parseManagedPolicy(policy);
    expect(parsed.policy.errors).toEqual([]);
    expect(parsed.policy).toMatchObject({ allowUserKeys: true, flagUnencrypted: false, requireEncryption: true });
    const keys = (await openBundle(readFileSync(keysFile, 'utf8'), PASS)).keys;
    expect(parsed.keys.map((k) => [k.id, k.status, Buffer.from(k.secret).toString('hex')]).sort()).toEqual(
      keys.map((k) => [k.id, k.status, Buffer.from(k.secret).toString('hex')]).sort(),
    );
    expect(policyAjv().compile(POLICY_SCHEMA)(policy)).toBe(true);
  });

  it('Chrome/Linux JSON force-installs Veil and configures it', () => {
    const doc = JSON.parse(readFileSync(join(out, 'chrome-linux', 'veil.json'), 'utf8'));
    expect(doc.ExtensionInstallForcelist).toEqual([`${CHROME_EXTENSION_ID};https://it.example/veil/updates.xml`]);
    expect(doc.ExtensionSettings[CHROME_EXTENSION_ID]).toMatchObject({
      installation_mode: 'force_installed',
      update_url: 'https://it.example/veil/updates.xml',
    });
  });

  it('Firefox policies.json force-installs Veil and its 3rdparty part is a valid Veil policy', () => {
    const doc = JSON.parse(readFileSync(join(out, 'firefox', 'policies.json'), 'utf8'));
    expect(doc.policies.ExtensionSettings[GECKO_ID]).toEqual({
      installation_mode: 'force_installed',
      install_url: 'https://it.example/veil/veil.xpi',
    });
    const third = doc.policies['3rdparty'].Extensions[GECKO_ID];
    expect(third).toEqual(policy);
    expect(policyAjv().compile(POLICY_SCHEMA)(third)).toBe(true);
    const storage = JSON.parse(readFileSync(join(out, 'firefox', 'managed-storage', `${GECKO_ID}.json`), 'utf8'));
    expect(storage).toMatchObject({ name: GECKO_ID, type: 'storage', data: policy });
  });

  it('the macOS profile is a plist with install and settings payloads for Chrome and Edge', () => {
    const doc = plist.parse(readFileSync(join(out, 'macos', 'veil.mobileconfig'), 'utf8')) as any;
    expect(doc).toMatchObject({ PayloadType: 'Configuration', PayloadIdentifier: 'com.veil.policy' });
    const byType = new Map<string, any>(doc.PayloadContent.map((p: any) => [p.PayloadType, p]));
    for (const browser of ['com.google.Chrome', 'com.microsoft.Edge']) {
      expect(byType.get(browser).ExtensionInstallForcelist).toEqual([
        `${CHROME_EXTENSION_ID};https://it.example/veil/updates.xml`,
      ]);
      const settings = Object.fromEntries(
        Object.entries(byType.get(`${browser}.extensions.${CHROME_EXTENSION_ID}`)).filter(
          ([k]) => !k.startsWith('Payload'),
        ),
      );
      expect(settings).toEqual(policy);
    }
    const uuids = [doc.PayloadUUID, ...doc.PayloadContent.map((p: any) => p.PayloadUUID)];
    expect(new Set(uuids).size).toBe(uuids.length);
  });

  it('the Windows .reg parses and gives Chrome, Chromium and Edge the same policy', () => {
    const reg = parseReg(readFileSync(join(out, 'windows', 'veil.reg')));
    for (const vendor of ['Google\\Chrome', 'Chromium', 'Microsoft\\Edge']) {
      const base = `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${vendor}`;
      expect(reg.get(`${base}\\ExtensionInstallForcelist`)?.get('1')).toBe(
        `${CHROME_EXTENSION_ID};https://it.example/veil/updates.xml`,
      );
      expect(JSON.parse(reg.get(base)!.get('ExtensionSettings') as string)[CHROME_EXTENSION_ID].installation_mode).toBe(
        'force_installed',
      );
      const values = reg.get(`${base}\\3rdparty\\extensions\\${CHROME_EXTENSION_ID}\\policy`)!;
      expect(fromRegistry(values)).toEqual(policy);
    }
  });

  it('validate finds the Veil policy in each emitted file, and rejects a broken one with its path', async () => {
    for (const f of ['chrome-linux/veil.json', 'firefox/policies.json', `firefox/managed-storage/${GECKO_ID}.json`]) {
      expect((await admin(['validate', join(out, f)])).code).toBe(0);
    }
    const broken = join(dir, 'broken.json');
    writeFileSync(
      broken,
      JSON.stringify({ policies: { '3rdparty': { Extensions: { [GECKO_ID]: { ...policy, mode: 'isolatd' } } } } }),
    );
    const r = await admin(['validate', broken]);
    expect(r).toMatchObject({ code: 1, err: expect.stringContaining('mode: must be one of "inline", "isolated"') });
  });

  it('--settings may isolate one protected site; a wrong per-site mode is refused with its path', async () => {
    const settings = join(dir, 'site-mode.json');
    writeFileSync(
      settings,
      JSON.stringify({
        protectedSites: [{ adapter: 'fixture-chat', matches: ['https://secret.example.com/*'], mode: 'isolated' }],
      }),
    );
    const r = await admin([
      'policy',
      '--settings',
      settings,
      '--protect',
      'fixture-chat=https://chat.example.com/*',
      '--no-force-install',
      '--out',
      join(dir, 'site-mode'),
    ]);
    expect(r.code, r.err).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'site-mode', 'chrome-linux', 'veil.json'), 'utf8'))['3rdparty']
      .extensions[CHROME_EXTENSION_ID];
    expect(written.protectedSites).toEqual([
      { adapter: 'fixture-chat', matches: ['https://secret.example.com/*'], mode: 'isolated' },
      { adapter: 'fixture-chat', matches: ['https://chat.example.com/*'] },
    ]);
    expect(parseManagedPolicy(written).policy).toMatchObject({
      errors: [],
      mode: 'inline',
      protectedSites: written.protectedSites,
    });
    expect((await admin(['validate', join(dir, 'site-mode', 'chrome-linux', 'veil.json')])).code).toBe(0);

    writeFileSync(
      settings,
      JSON.stringify({
        protectedSites: [{ adapter: 'fixture-chat', matches: ['https://secret.example.com/*'], mode: 'isolatd' }],
      }),
    );
    const bad = await admin([
      'policy',
      '--settings',
      settings,
      '--no-force-install',
      '--out',
      join(dir, 'site-mode-bad'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('protectedSites[0].mode: must be one of "inline", "isolated"');
    expect(() => statSync(join(dir, 'site-mode-bad'))).toThrow();
  });

  it('refuses to write a policy Veil would reject', async () => {
    const site = join(dir, 'site.json');
    writeFileSync(
      site,
      JSON.stringify({ adapter: 'custom', matches: ['https://acme.example/*'], custom: { name: 'Acme' } }),
    );
    const r = await admin(['policy', '--custom-site', site, '--no-force-install', '--out', join(dir, 'never')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('protectedSites[0].custom.selectors: is required');
    expect(() => statSync(join(dir, 'never'))).toThrow();
  });

  it('the Chrome extension id policy names is the one Chrome derives from the manifest key', () => {
    const hex = createHash('sha256').update(Buffer.from(CHROME_PUBLIC_KEY, 'base64')).digest('hex').slice(0, 32);
    expect([...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('')).toBe(CHROME_EXTENSION_ID);
  });
});
