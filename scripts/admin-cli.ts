/**
 * veil-admin: what an enterprise admin runs to create keys and deployable policy files.
 * `npm run admin -- <command> ...` (scripts/admin.ts is the entry; this file is the logic, callable
 * in-process by tests). The admin's keys live in one file, a standard passphrase-protected Veil key
 * bundle (docs/key-bundle.md): safe at rest, and importable as is in Veil's options page, e.g. to read
 * an archive. Usage errors exit 2, failures exit 1, both with a message on stderr.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { base64 } from '@scure/base';
import { BUILTIN_ADAPTERS } from '../lib/adapters/registry';
import { BundleError, type BundleContents, createBundle, DEFAULT_KDF, openBundle } from '../lib/crypto/bundle';
import { fingerprint, type KeyRecord } from '../lib/keys/model';
import { deployFiles } from '../lib/policy/deploy';
import {
  CHROME_EXTENSION_ID,
  CHROME_ID_PATTERN,
  chromeIdFromSha256,
  GECKO_ID,
  GECKO_ID_PATTERN,
} from '../lib/policy/ids';
import { isValidPattern } from '../lib/policy/match-pattern';
import { type ManagedPolicyJson, parseManagedPolicy } from '../lib/policy/parse';
import type { PolicyProblem, ProtectedSite } from '../lib/policy/policy';
import { checkPolicy } from './admin-check';
import { policiesInFile, ReadError } from './admin-read';
import { ARCHIVE_USAGE, runArchive } from './archive-cli';
import { KEYSERVICE_USAGE, runKeyserviceAdmin } from '../keyservice/admin';

export interface AdminIo {
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
}

export const USAGE = `veil-admin: Veil keys and enterprise policy files

  npm run admin -- keys generate --keys FILE --label TEXT [--site ADAPTER|*] [--conversations P1,P2]
  npm run admin -- keys rotate   --keys FILE --id KEYID
  npm run admin -- keys revoke   --keys FILE --id KEYID
  npm run admin -- keys list     --keys FILE
  npm run admin -- policy --keys FILE --protect ADAPTER=PATTERN[,PATTERN] [--protect ...] [--custom-site FILE ...]
        [--settings FILE] [--require-encryption true|false] [--flag-unencrypted true|false]
        [--allow-user-keys true|false] [--allow-key-export true|false] [--mode inline|isolated]
        [--key-service URL --issuer URL --client-id ID [--groups-claim NAME] [--refresh-minutes N]
         [--offline-grace-hours N] [--kem x-wing|x25519]]   (keys from Veil's key service: no --keys needed)
        [--chrome-id ID] [--edge-id ID] [--firefox-id ID] [--edge-update-url URL]
        (--chrome-update-url URL and/or --firefox-install-url URL | --no-force-install) --out DIR
  npm run admin -- validate FILE [--chrome-id ID] [--firefox-id ID]
        (any file \`policy\` writes: Chrome policy JSON, .reg, .mobileconfig, Firefox policies.json or
        managed-storage manifest; or a bare Veil policy)
  npm run admin -- chrome-id --pem FILE   (the extension id of a CRX signed with this private key)
${ARCHIVE_USAGE}
${KEYSERVICE_USAGE}

--settings FILE is a JSON policy fragment; its protectedSites come before the --protect ones, and
per-site settings go there, e.g. {"protectedSites": [{"adapter": "fixture-chat", "matches": [...],
"mode": "isolated"}]} to enforce isolated mode on that chat only (docs/policy.md).

--chrome-id, --edge-id and --firefox-id are the ids browsers install Veil under: a self-hosted CRX has
the id of its signing key (\`chrome-id --pem\`), the Chrome Web Store and Edge Add-ons assign their own,
Firefox the add-on id it was signed with. Without them the development ids are used, with a warning
(docs/deploy.md). --edge-id defaults to --chrome-id, --edge-update-url to --chrome-update-url.

The keys FILE is a passphrase-protected Veil key bundle. Passphrase: --passphrase-file FILE or the
VEIL_ADMIN_PASSPHRASE environment variable (never a command-line argument: shells keep history).
Policy files made with --keys contain the keys in the clear (docs/decisions/0004-policy-keys.md): deploy
them only through channels users cannot write to. With --key-service they hold no secret
(docs/key-service.md).`;

class UsageError extends Error {}
class AdminError extends Error {}

type Flags = Record<string, string | boolean | string[] | undefined>;

function parse(argv: string[]): { positionals: string[]; flags: Flags } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        keys: { type: 'string' },
        label: { type: 'string' },
        site: { type: 'string' },
        conversations: { type: 'string' },
        id: { type: 'string' },
        'passphrase-file': { type: 'string' },
        'scrypt-log-n': { type: 'string' },
        protect: { type: 'string', multiple: true },
        'custom-site': { type: 'string', multiple: true },
        settings: { type: 'string' },
        'require-encryption': { type: 'string' },
        'flag-unencrypted': { type: 'string' },
        'allow-user-keys': { type: 'string' },
        'allow-key-export': { type: 'string' },
        mode: { type: 'string' },
        'chrome-update-url': { type: 'string' },
        'edge-update-url': { type: 'string' },
        'chrome-id': { type: 'string' },
        'edge-id': { type: 'string' },
        'firefox-id': { type: 'string' },
        pem: { type: 'string' },
        'firefox-install-url': { type: 'string' },
        'no-force-install': { type: 'boolean' },
        'key-service': { type: 'string' },
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'groups-claim': { type: 'string' },
        'refresh-minutes': { type: 'string' },
        'offline-grace-hours': { type: 'string' },
        kem: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    return { positionals, flags: values as Flags };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function need(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || !v.trim()) throw new UsageError(`--${name} is required`);
  return v;
}

function bool(flags: Flags, name: string): boolean | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`--${name} must be true or false, not "${v}"`);
}

function passphrase(flags: Flags, io: AdminIo): string {
  const file = flags['passphrase-file'];
  const p =
    typeof file === 'string' ? readText(file, 'passphrase file').replace(/\r?\n$/, '') : io.env.VEIL_ADMIN_PASSPHRASE;
  if (!p) throw new UsageError('no passphrase: set VEIL_ADMIN_PASSPHRASE or pass --passphrase-file FILE');
  if (p.length < 8) throw new UsageError('the passphrase needs at least 8 characters');
  return p;
}

function kdf(flags: Flags): { N: number; r: number; p: number } {
  const v = flags['scrypt-log-n'];
  if (v === undefined) return DEFAULT_KDF;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 15 || n > 20) throw new UsageError('--scrypt-log-n must be an integer from 15 to 20');
  return { N: 2 ** n, r: 8, p: 1 };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new AdminError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readJson(file: string, what: string): unknown {
  const text = readText(file, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AdminError(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Writes via a temporary file and rename, so a crash never leaves half a key file; owner-only. */
function writeSecret(file: string, content: string | Uint8Array): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Other contents of the admin's bundle (signing identities, directory): carried through rewrites untouched. */
let carried: Omit<BundleContents, 'keys'> | undefined;

async function loadKeys(file: string, pass: string): Promise<KeyRecord[]> {
  try {
    const { keys, ...rest } = await openBundle(readText(file, 'keys file'), pass);
    carried = rest;
    return keys;
  } catch (e) {
    if (e instanceof BundleError) throw new AdminError(`${file}: ${e.message}`);
    throw e;
  }
}

async function saveKeys(file: string, keys: KeyRecord[], pass: string, flags: Flags): Promise<void> {
  writeSecret(file, `${JSON.stringify(await createBundle(keys, pass, { kdf: kdf(flags), ...carried }), null, 2)}\n`);
}

function newId(taken: Set<string>): string {
  let id: string;
  do id = randomBytes(4).toString('hex');
  while (taken.has(id));
  return id;
}

function describe(k: KeyRecord): string {
  return `${k.id}  ${k.status.padEnd(7)}  ${fingerprint(k.id, k.secret)}  ${k.scope.site}: ${k.scope.conversations.join(',')}  "${k.label}"`;
}

function knownSite(site: string): string {
  if (site !== '*' && site !== 'custom' && !BUILTIN_ADAPTERS.some((a) => a.id === site)) {
    throw new UsageError(
      `--site "${site}" is not an adapter; use * or one of ${[...BUILTIN_ADAPTERS.map((a) => a.id), 'custom'].join(', ')}`,
    );
  }
  return site;
}

async function keysCommand(sub: string | undefined, flags: Flags, io: AdminIo): Promise<void> {
  const file = need(flags, 'keys');
  if (sub === 'generate') {
    const label = need(flags, 'label');
    if (label.length > 200 || /\n/.test(label))
      throw new UsageError('--label must be one line of at most 200 characters');
    const site = knownSite(typeof flags.site === 'string' ? flags.site : '*');
    const conversations = (typeof flags.conversations === 'string' ? flags.conversations : '*')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (conversations.length === 0) throw new UsageError('--conversations needs at least one id or pattern');
    const pass = passphrase(flags, io);
    const keys = existsSync(file) ? await loadKeys(file, pass) : [];
    const rec: KeyRecord = {
      id: newId(new Set(keys.map((k) => k.id))),
      secret: new Uint8Array(randomBytes(32)),
      label,
      scope: { site, conversations },
      status: 'active',
      createdAt: Date.now(),
      source: 'generated',
    };
    await saveKeys(file, [...keys, rec], pass, flags);
    io.out(`generated ${describe(rec)}`);
    io.out(`${file} now holds ${keys.length + 1} key(s)`);
    return;
  }
  if (sub === 'rotate' || sub === 'revoke') {
    const id = need(flags, 'id');
    const pass = passphrase(flags, io);
    const keys = await loadKeys(file, pass);
    const old = keys.find((k) => k.id === id);
    if (!old) throw new AdminError(`${file} has no key ${id} (it has ${keys.map((k) => k.id).join(', ')})`);
    if (sub === 'revoke') {
      if (old.status === 'revoked') throw new AdminError(`key ${id} is already revoked`);
      old.status = 'revoked';
      await saveKeys(file, keys, pass, flags);
      io.out(`revoked ${describe(old)}`);
      io.out('Emit and deploy the policy again: users then see its messages flagged and never encrypt with it.');
      return;
    }
    if (old.status !== 'active') throw new AdminError(`key ${id} is ${old.status}; only an active key can be rotated`);
    const rec: KeyRecord = {
      ...old,
      id: newId(new Set(keys.map((k) => k.id))),
      secret: new Uint8Array(randomBytes(32)),
      status: 'active',
      createdAt: Math.max(Date.now(), old.createdAt + 1),
      source: 'generated',
    };
    old.status = 'retired';
    await saveKeys(file, [...keys, rec], pass, flags);
    io.out(`retired ${describe(old)}`);
    io.out(`new     ${describe(rec)}`);
    io.out('Emit and deploy the policy again; the retired key stays in it so history still decrypts.');
    return;
  }
  if (sub === 'list') {
    for (const k of await loadKeys(file, passphrase(flags, io))) io.out(describe(k));
    return;
  }
  throw new UsageError(`unknown keys command "${sub ?? ''}"; use generate, rotate, revoke or list`);
}

function protectedSites(flags: Flags, base: ProtectedSite[]): ProtectedSite[] {
  const sites = [...base];
  for (const spec of (flags.protect as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--protect "${spec}" must look like ADAPTER=PATTERN[,PATTERN]`);
    const adapter = spec.slice(0, eq);
    const matches = spec
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (adapter === 'custom')
      throw new UsageError('declare custom adapters with --custom-site FILE (adapter, matches and custom)');
    if (!BUILTIN_ADAPTERS.some((a) => a.id === adapter)) {
      throw new UsageError(
        `--protect: "${adapter}" is not a built-in adapter (${BUILTIN_ADAPTERS.map((a) => a.id).join(', ')})`,
      );
    }
    for (const m of matches)
      if (!isValidPattern(m))
        throw new UsageError(`--protect: "${m}" is not a URL match pattern like https://chat.example.com/*`);
    if (matches.length === 0) throw new UsageError(`--protect "${spec}" names no URL pattern`);
    sites.push({ adapter, matches });
  }
  for (const file of (flags['custom-site'] as string[] | undefined) ?? [])
    sites.push(readJson(file, 'custom site') as ProtectedSite);
  return sites;
}

function printProblems(io: AdminIo, problems: PolicyProblem[]): void {
  for (const p of problems) io.err(`  ${p.path || '(policy)'}: ${p.message}`);
}

async function policyCommand(flags: Flags, io: AdminIo): Promise<void> {
  const out = need(flags, 'out');
  const chromeUpdateUrl = flags['chrome-update-url'] as string | undefined;
  const edgeUpdateUrl = (flags['edge-update-url'] as string | undefined) ?? chromeUpdateUrl;
  const firefoxInstallUrl = flags['firefox-install-url'] as string | undefined;
  if (flags['no-force-install'] && (chromeUpdateUrl || edgeUpdateUrl || firefoxInstallUrl)) {
    throw new UsageError('--no-force-install contradicts --chrome-update-url/--edge-update-url/--firefox-install-url');
  }
  if (!flags['no-force-install'] && !chromeUpdateUrl && !edgeUpdateUrl && !firefoxInstallUrl) {
    throw new UsageError(
      'say where browsers install Veil from: --chrome-update-url URL and/or --firefox-install-url URL (or --no-force-install)',
    );
  }
  for (const [name, url] of [
    ['chrome-update-url', chromeUpdateUrl],
    ['edge-update-url', edgeUpdateUrl],
    ['firefox-install-url', firefoxInstallUrl],
  ] as const) {
    if (url !== undefined && !/^(https?|file):\/\/\S+$/.test(url))
      throw new UsageError(`--${name} must be an http(s) or file URL`);
  }
  const ids = extensionIds(flags, io);
  const settings =
    typeof flags.settings === 'string' ? (readJson(flags.settings, 'settings file') as Partial<ManagedPolicyJson>) : {};
  if (!settings || typeof settings !== 'object' || Array.isArray(settings))
    throw new AdminError('the settings file must hold a JSON object');
  const sites = protectedSites(flags, Array.isArray(settings.protectedSites) ? settings.protectedSites : []);
  if (sites.length === 0)
    throw new UsageError(
      'protect at least one site: --protect ADAPTER=PATTERN, --custom-site FILE or protectedSites in --settings',
    );
  const keys = typeof flags.keys === 'string' ? await loadKeys(flags.keys, passphrase(flags, io)) : [];
  const keyService = keyServiceSetting(flags);
  const mode = flags.mode;
  if (mode !== undefined && mode !== 'inline' && mode !== 'isolated')
    throw new UsageError(`--mode must be inline or isolated, not "${mode}"`);
  const policy: ManagedPolicyJson = {
    ...settings,
    protectedSites: sites,
    ...(keys.length
      ? {
          keys: keys.map((k) => ({
            id: k.id,
            secret: base64.encode(k.secret),
            label: k.label,
            scope: k.scope,
            status: k.status,
            createdAt: k.createdAt,
          })),
        }
      : {}),
    ...(keyService ? { keyService } : {}),
  };
  const overrides: [keyof ManagedPolicyJson, boolean | undefined][] = [
    ['requireEncryption', bool(flags, 'require-encryption')],
    ['flagUnencrypted', bool(flags, 'flag-unencrypted')],
    ['allowUserKeys', bool(flags, 'allow-user-keys')],
    ['allowKeyExport', bool(flags, 'allow-key-export')],
  ];
  for (const [k, v] of overrides) if (v !== undefined) (policy as unknown as Record<string, unknown>)[k] = v;
  if (mode) policy.mode = mode as ManagedPolicyJson['mode'];
  // The extension's own check and more: never hand an admin a file Veil would refuse.
  const check = checkPolicy(policy);
  printWarnings(io, check.warnings);
  if (check.errors.length) {
    io.err('veil-admin: the resulting policy is invalid, nothing was written:');
    printProblems(io, check.errors);
    throw new AdminError('invalid policy');
  }
  if (!keys.some((k) => k.status === 'active') && !policy.allowUserKeys && !policy.keyService) {
    io.err('warning: no active key and users may not add their own: protected sites will refuse every send');
  }
  const files = deployFiles(policy, { ...ids, chromeUpdateUrl, edgeUpdateUrl, firefoxInstallUrl }, randomUUID);
  for (const f of files) {
    writeSecret(join(out, f.path), f.content);
    io.out(`wrote ${join(out, f.path)}\n      -> ${f.installTo}`);
  }
  io.out(
    keys.length
      ? `${keys.length} key(s), ${sites.length} protected site(s). These files contain key secrets: keep them out of users' reach until deployed.`
      : `${sites.length} protected site(s), no key secrets${policy.keyService ? `: keys come from the key service at ${policy.keyService.url}` : ''}.`,
  );
}

/** `--key-service URL --issuer URL --client-id ID [...]`: keys from Veil's key service, nothing secret in policy. */
function keyServiceSetting(flags: Flags): ManagedPolicyJson['keyService'] | undefined {
  const names = ['issuer', 'client-id', 'groups-claim', 'refresh-minutes', 'offline-grace-hours', 'kem'];
  if (typeof flags['key-service'] !== 'string') {
    const stray = names.find((n) => flags[n] !== undefined);
    if (stray) throw new UsageError(`--${stray} belongs with --key-service URL`);
    return undefined;
  }
  const num = (name: string) => {
    const v = flags[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, not "${v}"`);
    return n;
  };
  const refreshMinutes = num('refresh-minutes');
  const offlineGraceHours = num('offline-grace-hours');
  return {
    url: flags['key-service'],
    issuer: need(flags, 'issuer'),
    clientId: need(flags, 'client-id'),
    ...(typeof flags['groups-claim'] === 'string' ? { groupsClaim: flags['groups-claim'] } : {}),
    ...(refreshMinutes !== undefined ? { refreshMinutes } : {}),
    ...(offlineGraceHours !== undefined ? { offlineGraceHours } : {}),
    ...(typeof flags.kem === 'string' ? { kem: flags.kem as 'x-wing' | 'x25519' } : {}),
  };
}

function printWarnings(io: AdminIo, warnings: PolicyProblem[]): void {
  for (const w of warnings) io.err(`warning: ${w.path}: ${w.message}`);
}

/** The ids policy names; the development ids (which no deployed package has) only with a warning. */
function extensionIds(flags: Flags, io: AdminIo): { chromeId: string; edgeId: string; geckoId: string } {
  const given = (name: string, pattern: RegExp, what: string): string | undefined => {
    const v = flags[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !pattern.test(v)) throw new UsageError(`--${name} "${v}" is not ${what}`);
    return v;
  };
  const chromeId = given('chrome-id', CHROME_ID_PATTERN, 'a Chrome extension id (32 letters a-p)');
  const edgeId = given('edge-id', CHROME_ID_PATTERN, 'an Edge extension id (32 letters a-p)');
  const geckoId = given('firefox-id', GECKO_ID_PATTERN, 'a Firefox add-on id (name@domain or {GUID})');
  const dev = (flag: string, id: string) =>
    io.err(
      `warning: no --${flag}: using the development id ${id}. A package you sign or publish has another id; ` +
        'name it, or browsers will not apply this policy to Veil (docs/deploy.md).',
    );
  if (!chromeId) dev('chrome-id', CHROME_EXTENSION_ID);
  if (!geckoId) dev('firefox-id', GECKO_ID);
  return {
    chromeId: chromeId ?? CHROME_EXTENSION_ID,
    edgeId: edgeId ?? chromeId ?? CHROME_EXTENSION_ID,
    geckoId: geckoId ?? GECKO_ID,
  };
}

/** The id Chrome gives a CRX signed with this key: the first 128 bits of SHA-256 of its public key, as a-p. */
function chromeIdCommand(flags: Flags, io: AdminIo): void {
  const file = need(flags, 'pem');
  let der: Buffer;
  try {
    der = createPublicKey(readText(file, 'key file')).export({ type: 'spki', format: 'der' });
  } catch (e) {
    if (e instanceof AdminError) throw e;
    throw new AdminError(`${file} is not a PEM key: ${(e as Error).message}`);
  }
  io.out(chromeIdFromSha256(createHash('sha256').update(der).digest('hex')));
}

function validateCommand(file: string | undefined, flags: Flags, io: AdminIo): void {
  if (!file) throw new UsageError('validate needs a FILE');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new AdminError(
      `cannot read policy file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const wanted = (name: string, dev: string) => [...(typeof flags[name] === 'string' ? [flags[name]] : []), dev];
  let found;
  try {
    found = policiesInFile(bytes, {
      chrome: wanted('chrome-id', CHROME_EXTENSION_ID),
      firefox: wanted('firefox-id', GECKO_ID),
    });
  } catch (e) {
    if (e instanceof ReadError) throw new AdminError(`${file}: ${e.message}`);
    throw e;
  }
  if (found.length === 0) throw new AdminError(`${file}: this file configures no Veil policy`);
  let invalid = false;
  for (const { where, policy, problems } of found) {
    const check = checkPolicy(policy);
    const errors = [...problems, ...check.errors];
    printWarnings(io, check.warnings);
    if (errors.length) {
      invalid = true;
      io.err(`${file} (${where}) is invalid:`);
      printProblems(io, errors);
      continue;
    }
    const parsed = parseManagedPolicy(policy);
    io.out(
      `${file} (${where}): valid (${parsed.policy.protectedSites.length} protected site(s), ${parsed.keys.length} key(s))`,
    );
  }
  if (invalid) throw new AdminError('invalid policy');
}

export async function runAdmin(argv: string[], io: AdminIo): Promise<number> {
  carried = undefined;
  // Its own options and exit codes (scripts/archive-cli.ts).
  if (argv[0] === 'archive') return runArchive(argv.slice(1), io);
  if (argv[0] === 'keyservice') return runKeyserviceAdmin(argv.slice(1), io);
  try {
    const { positionals, flags } = parse(argv);
    const [cmd, sub, ...rest] = positionals;
    if (flags.help || cmd === 'help') {
      io.out(USAGE);
      return 0;
    }
    if (!cmd) throw new UsageError('no command given');
    if (cmd === 'keys') {
      if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
      await keysCommand(sub, flags, io);
    } else if (cmd === 'policy') {
      if (sub !== undefined) throw new UsageError(`unexpected argument "${sub}"`);
      await policyCommand(flags, io);
    } else if (cmd === 'validate') {
      if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
      validateCommand(sub, flags, io);
    } else if (cmd === 'chrome-id') {
      if (sub !== undefined) throw new UsageError(`unexpected argument "${sub}"`);
      chromeIdCommand(flags, io);
    } else {
      throw new UsageError(`unknown command "${cmd}"`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`veil-admin: ${e.message}`);
      io.err('Run `npm run admin -- --help` for usage.');
      return 2;
    }
    if (e instanceof AdminError) {
      if (e.message !== 'invalid policy') io.err(`veil-admin: ${e.message}`);
      return 1;
    }
    io.err(`veil-admin: unexpected failure: ${(e as Error)?.stack ?? e}`);
    return 1;
  }
}
