/**
 * The admin CLI (scripts/admin-cli.ts), run in-process: key file handling, clear errors with
 * non-zero exits, and policy files that parse as their targets do and carry a policy Veil accepts.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as plist from 'plist';
import { openBundle } from '../../lib/crypto/bundle';
import { REG_FORCELIST_SLOT } from '../../lib/policy/deploy';
import { CHROME_EXTENSION_ID, CHROME_PUBLIC_KEY, GECKO_ID } from '../../lib/policy/ids';
import { parseManagedPolicy } from '../../lib/policy/parse';
import { POLICY_SCHEMA } from '../../lib/policy/schema';
import { runAdmin } from '../../scripts/admin-cli';
import { policyAjv } from '../../scripts/admin-generate';

const PASS = 'admin passphrase for tests';
/** Tests that open or write a key bundle run scrypt (2^15, the CLI's minimum): sized for a loaded 2-core machine. */
const KDF_TIMEOUT = 60_000;
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

  it(
    'refuses to work without a passphrase, or with a wrong one',
    async () => {
      const none = await admin(['keys', 'generate', '--keys', join(dir, 'x.json'), '--label', 'x'], {});
      expect(none).toMatchObject({ code: 2, err: expect.stringContaining('VEIL_ADMIN_PASSPHRASE') });
      expect((await gen('First key')).code).toBe(0);
      const wrong = await admin(['keys', 'list', '--keys', keysFile], { VEIL_ADMIN_PASSPHRASE: 'not the passphrase' });
      expect(wrong).toMatchObject({ code: 1, err: expect.stringContaining('wrong passphrase') });
    },
    KDF_TIMEOUT,
  );
});

describe('veil-admin: keys', () => {
  it(
    'generates, rotates and revokes in a passphrase-protected key bundle',
    async () => {
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
    },
    KDF_TIMEOUT,
  );
});

/**
 * Strict reader for the subset of the .reg format the CLI writes (independent of the CLI's own
 * reader); throws on anything else. Deleted keys are listed in `deleted`, in file order.
 */
function parseReg(bytes: Buffer): Map<string, Map<string, string | number>> & { deleted: string[] } {
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xfe]);
  const lines = bytes.subarray(2).toString('utf16le').split('\r\n');
  expect(lines[0]).toBe('Windows Registry Editor Version 5.00');
  const keys = Object.assign(new Map<string, Map<string, string | number>>(), { deleted: [] as string[] });
  let current: Map<string, string | number> | undefined;
  for (const line of lines.slice(1)) {
    if (line === '' || line.startsWith(';')) continue;
    const deletion = /^\[-(HKEY_LOCAL_MACHINE\\[^\]]+)\]$/.exec(line);
    if (deletion) {
      expect(keys.has(deletion[1]!), 'a key is deleted before it is written, never after').toBe(false);
      keys.deleted.push(deletion[1]!);
      current = undefined;
      continue;
    }
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
  }, KDF_TIMEOUT);

  it(
    'the policy carries every key of the key file, the sites and the settings, and Veil accepts it',
    async () => {
      const parsed = parseManagedPolicy(policy);
      expect(parsed.policy.errors).toEqual([]);
      expect(parsed.policy).toMatchObject({ allowUserKeys: true, flagUnencrypted: false, requireEncryption: true });
      const keys = (await openBundle(readFileSync(keysFile, 'utf8'), PASS)).keys;
      expect(parsed.keys.map((k) => [k.id, k.status, Buffer.from(k.secret).toString('hex')]).sort()).toEqual(
        keys.map((k) => [k.id, k.status, Buffer.from(k.secret).toString('hex')]).sort(),
      );
      expect(policyAjv().compile(POLICY_SCHEMA)(policy)).toBe(true);
    },
    KDF_TIMEOUT,
  );

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

  it('the Windows .reg gives Chrome, Chromium and Edge the same policy, and only adds to theirs', () => {
    const reg = parseReg(readFileSync(join(out, 'windows', 'veil.reg')));
    const veilKeys: string[] = [];
    for (const vendor of ['Google\\Chrome', 'Chromium', 'Microsoft\\Edge']) {
      const base = `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${vendor}`;
      // Veil's own forcelist slot: an enterprise's slot 1 (and every other) stays as it is.
      expect([...reg.get(`${base}\\ExtensionInstallForcelist`)!]).toEqual([
        [REG_FORCELIST_SLOT, `${CHROME_EXTENSION_ID};https://it.example/veil/updates.xml`],
      ]);
      // ExtensionSettings is one value for all extensions: writing it would replace the enterprise's.
      expect(reg.has(base)).toBe(false);
      const own = `${base}\\3rdparty\\extensions\\${CHROME_EXTENSION_ID}\\policy`;
      veilKeys.push(own);
      expect(fromRegistry(reg.get(own)!)).toEqual(policy);
    }
    // The only key it deletes is Veil's own policy (a setting dropped since the last rollout goes).
    expect(reg.deleted).toEqual(veilKeys);
  });

  it('validate reads every emitted file as its browser would, .reg and .mobileconfig included', async () => {
    const files = [
      'chrome-linux/veil.json',
      'windows/veil.reg',
      'macos/veil.mobileconfig',
      'firefox/policies.json',
      `firefox/managed-storage/${GECKO_ID}.json`,
    ];
    for (const f of files) {
      const r = await admin(['validate', join(out, f)]);
      expect(r.code, `${f}: ${r.err}`).toBe(0);
      expect(r.out).toContain('valid (1 protected site(s)');
    }
    const reg = await admin(['validate', join(out, 'windows/veil.reg')]);
    expect(reg.out.split('\n').filter((l) => l.includes('valid ('))).toHaveLength(3); // Chrome, Chromium, Edge
    const mac = await admin(['validate', join(out, 'macos/veil.mobileconfig')]);
    expect(mac.out).toContain(`com.microsoft.Edge.extensions.${CHROME_EXTENSION_ID}`);
  });

  it('validate names what a browser would drop or refuse in a .reg or profile', async () => {
    const text = readFileSync(join(out, 'windows', 'veil.reg'))
      .subarray(2)
      .toString('utf16le');
    const write = (name: string, t: string) => {
      const f = join(dir, name);
      writeFileSync(f, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]));
      return f;
    };
    // A string where Chrome needs a DWORD is dropped by Chrome (the default applies): say so.
    const own = `[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Edge\\3rdparty\\extensions\\${CHROME_EXTENSION_ID}\\policy]`;
    const edited = text.replace(`${own}\r\n`, `${own}\r\n"allowKeyExport"="yes"\r\n"mode"="isolatd"\r\n`);
    const r = await admin(['validate', write('edited.reg', edited)]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Microsoft\\Edge');
    expect(r.err).toContain('allowKeyExport: is a string; Chrome needs a DWORD');
    expect(r.err).toContain('mode: must be one of "inline", "isolated"');
    expect(r.out).toContain('Google\\Chrome'); // the other browsers' copies are fine

    const garbled = await admin(['validate', write('garbled.reg', text.replace('"keys"=', 'keys='))]);
    expect(garbled).toMatchObject({ code: 1, err: expect.stringMatching(/line \d+: not a string or dword value/) });

    const profile = join(dir, 'broken.mobileconfig');
    writeFileSync(profile, readFileSync(join(out, 'macos', 'veil.mobileconfig'), 'utf8').replace('</dict>', ''));
    expect(await admin(['validate', profile])).toMatchObject({
      code: 1,
      err: expect.stringContaining('not a valid property list'),
    });
  });

  it('validate finds the Veil policy in each JSON file, and rejects a broken one with its path', async () => {
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

  it('key-service mode: every file it writes names the service and holds no key and no secret', async () => {
    const dest = join(dir, 'ks-policy');
    const r = await admin(
      [
        'policy',
        '--protect',
        'fixture-chat=https://chat.corp.example/*',
        '--key-service',
        'https://keys.corp.example',
        '--issuer',
        'https://idp.corp.example/realms/staff',
        '--client-id',
        'veil-extension',
        '--refresh-minutes',
        '10',
        '--kem',
        'x-wing',
        '--no-force-install',
        '--out',
        dest,
      ],
      {}, // no passphrase: no key file is read
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('no key secrets: keys come from the key service at https://keys.corp.example');
    const files = ['chrome-linux/veil.json', 'windows/veil.reg', 'macos/veil.mobileconfig', 'firefox/policies.json'];
    for (const f of files) {
      const text = readFileSync(join(dest, f)).toString(f.endsWith('.reg') ? 'utf16le' : 'utf8');
      expect(text, f).toContain('keys.corp.example');
      expect(text, f).not.toMatch(/secret/i);
      expect(text, f).not.toMatch(/"keys"\s*:/);
      expect((await admin(['validate', join(dest, f)])).code, f).toBe(0);
    }
    const chrome = JSON.parse(readFileSync(join(dest, 'chrome-linux/veil.json'), 'utf8'));
    const veil = chrome['3rdparty'].extensions[CHROME_EXTENSION_ID];
    expect(veil.keyService).toEqual({
      url: 'https://keys.corp.example',
      issuer: 'https://idp.corp.example/realms/staff',
      clientId: 'veil-extension',
      refreshMinutes: 10,
      kem: 'x-wing',
    });
    expect(parseManagedPolicy(veil).policy.errors).toEqual([]);
    // Its settings without the service are a usage error, not silently dropped.
    const stray = await admin([
      'policy',
      '--protect',
      'fixture-chat=https://x/*',
      '--issuer',
      'https://i',
      '--no-force-install',
      '--out',
      join(dir, 'x'),
    ]);
    expect([stray.code, stray.err]).toEqual([2, expect.stringContaining('--issuer belongs with --key-service URL')]);
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

  it('reports schema and semantic problems at once, so one round fixes the policy', async () => {
    const file = join(dir, 'many-problems.json');
    writeFileSync(
      file,
      JSON.stringify({
        protectedSites: [
          { adapter: 'slack', matches: ['chat.example.com'] }, // semantic: no such adapter, not a pattern
          { adapter: 'fixture-chat', matches: ['https://x.example/*'], mode: 'isolatd' }, // schema
        ],
        requireEncryption: 'yes', // schema
      }),
    );
    const r = await admin(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('requireEncryption: must be boolean');
    expect(r.err).toContain('protectedSites[1].mode: must be one of');
    expect(r.err).toContain('protectedSites[0].adapter: "slack" is not a Veil adapter');
    expect(r.err).toContain('protectedSites[0].matches[0]: "chat.example.com" is not a URL match pattern');
  });

  it('checks the CSS selectors of custom adapters before rollout', async () => {
    const custom = {
      name: 'Acme',
      selectors: {
        composer: ['textarea#msg', 'div[contenteditable'],
        message: ['li.msg >'],
        messageText: ['.body'],
        messageAuthor: ['.author:focus-visible'],
      },
      conversationId: { from: 'attribute', selector: '##room', attribute: 'data-room' },
      currentUser: { from: 'constant', value: 'me' },
      maxMessageChars: 4000,
    };
    const site = join(dir, 'acme.json');
    writeFileSync(site, JSON.stringify({ adapter: 'custom', matches: ['https://acme.example/*'], custom }));
    const r = await admin(['policy', '--custom-site', site, '--no-force-install', '--out', join(dir, 'acme-out')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'protectedSites[0].custom.selectors.composer[1]: invalid CSS selector "div[contenteditable"',
    );
    expect(r.err).toContain('protectedSites[0].custom.selectors.message[0]: invalid CSS selector "li.msg >"');
    expect(r.err).toContain('protectedSites[0].custom.conversationId.selector: invalid CSS selector "##room"');
    expect(r.err).not.toContain('textarea#msg');
    // A pseudo-class the checker does not know is not an error: browsers may know it.
    expect(r.err).toMatch(/warning: protectedSites\[0\]\.custom\.selectors\.messageAuthor\[0\]: could not check/);
    expect(() => statSync(join(dir, 'acme-out'))).toThrow();

    custom.selectors.composer = ['textarea#msg'];
    custom.selectors.message = ['li.msg'];
    custom.conversationId.selector = '#room';
    writeFileSync(site, JSON.stringify({ adapter: 'custom', matches: ['https://acme.example/*'], custom }));
    const ok = await admin(['policy', '--custom-site', site, '--no-force-install', '--out', join(dir, 'acme-out')]);
    expect(ok.code, ok.err).toBe(0);
  });

  it('the Chrome extension id policy names is the one Chrome derives from the manifest key', () => {
    const hex = createHash('sha256').update(Buffer.from(CHROME_PUBLIC_KEY, 'base64')).digest('hex').slice(0, 32);
    expect([...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('')).toBe(CHROME_EXTENSION_ID);
  });
});

describe('veil-admin: the ids policy names', () => {
  const CHROME = 'abcdefghijklmnopabcdefghijklmnop';
  const EDGE = 'ponmlkjihgfedcbaponmlkjihgfedcba';
  const FIREFOX = 'veil@corp.example';

  it('uses the ids of the packages the enterprise deploys, for each browser', async () => {
    const o = join(dir, 'ids');
    const r = await admin([
      'policy',
      '--protect',
      'fixture-chat=https://chat.example.com/*',
      '--chrome-id',
      CHROME,
      '--edge-id',
      EDGE,
      '--firefox-id',
      FIREFOX,
      '--chrome-update-url',
      'https://it.example/veil/updates.xml',
      '--edge-update-url',
      'https://edge.microsoft.com/extensionwebstorebase/v1/crx',
      '--firefox-install-url',
      'https://it.example/veil/veil.xpi',
      '--allow-user-keys',
      'true',
      '--out',
      o,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain('development id');
    const chrome = JSON.parse(readFileSync(join(o, 'chrome-linux', 'veil.json'), 'utf8'));
    expect(Object.keys(chrome['3rdparty'].extensions)).toEqual([CHROME]);
    expect(chrome.ExtensionInstallForcelist).toEqual([`${CHROME};https://it.example/veil/updates.xml`]);
    // Edge has its own store id and update URL, so its own file.
    const edge = JSON.parse(readFileSync(join(o, 'edge-linux', 'veil.json'), 'utf8'));
    expect(Object.keys(edge['3rdparty'].extensions)).toEqual([EDGE]);
    expect(edge.ExtensionSettings[EDGE]).toEqual({
      installation_mode: 'force_installed',
      update_url: 'https://edge.microsoft.com/extensionwebstorebase/v1/crx',
      toolbar_pin: 'force_pinned',
    });
    const reg = parseReg(readFileSync(join(o, 'windows', 'veil.reg')));
    expect(
      reg.has(`HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Edge\\3rdparty\\extensions\\${EDGE}\\policy`),
    ).toBe(true);
    expect(reg.has(`HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Chromium\\3rdparty\\extensions\\${CHROME}\\policy`)).toBe(
      true,
    );
    const mac = plist.parse(readFileSync(join(o, 'macos', 'veil.mobileconfig'), 'utf8')) as any;
    expect(mac.PayloadContent.map((p: any) => p.PayloadType)).toEqual(
      expect.arrayContaining([`com.google.Chrome.extensions.${CHROME}`, `com.microsoft.Edge.extensions.${EDGE}`]),
    );
    const firefox = JSON.parse(readFileSync(join(o, 'firefox', 'policies.json'), 'utf8'));
    expect(Object.keys(firefox.policies['3rdparty'].Extensions)).toEqual([FIREFOX]);
    expect(Object.keys(firefox.policies.ExtensionSettings)).toEqual([FIREFOX]);
    expect(statSync(join(o, 'firefox', 'managed-storage', `${FIREFOX}.json`)).isFile()).toBe(true);
    // validate finds the policy under those ids too.
    for (const f of ['chrome-linux/veil.json', 'edge-linux/veil.json', 'windows/veil.reg', 'firefox/policies.json'])
      expect((await admin(['validate', join(o, f)])).code).toBe(0);
  });

  it('falls back to the development ids only with a warning, and refuses malformed ids', async () => {
    const base = ['policy', '--protect', 'fixture-chat=https://x/*', '--no-force-install', '--allow-user-keys', 'true'];
    const r = await admin([...base, '--out', join(dir, 'dev-ids')]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`warning: no --chrome-id: using the development id ${CHROME_EXTENSION_ID}`);
    expect(r.err).toContain(`warning: no --firefox-id: using the development id ${GECKO_ID}`);
    expect((await admin([...base, '--chrome-id', 'not-an-id', '--out', join(dir, 'x')])).err).toContain(
      '--chrome-id "not-an-id" is not a Chrome extension id',
    );
    expect((await admin([...base, '--firefox-id', 'veil', '--out', join(dir, 'x')])).err).toContain(
      '--firefox-id "veil" is not a Firefox add-on id',
    );
  });

  it('chrome-id --pem prints the id of a CRX signed with that key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = join(dir, 'veil.pem');
    writeFileSync(pem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const hex = createHash('sha256').update(spki).digest('hex').slice(0, 32);
    const r = await admin(['chrome-id', '--pem', pem]);
    expect(r).toMatchObject({ code: 0, out: [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('') });
    expect((await admin(['chrome-id', '--pem', keysFile])).err).toContain('is not a PEM key');
  });
});
