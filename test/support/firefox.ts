/**
 * One Firefox ESR per user with the built Firefox extension, the way an employee's browser runs it.
 * Each user gets a fresh HOME and profile under a temp folder; close() removes it.
 *
 * Enterprise policy arrives as enterprises deliver it: `/etc/firefox/policies/policies.json` with
 * `3rdparty.Extensions.<gecko id>` (Veil's settings, read through storage.managed) and, optionally,
 * `ExtensionSettings` force-installing the built XPI. That path is machine-wide, so each browser runs
 * in a private mount namespace with a temp folder bound onto it (root only, as for Chromium in
 * ./browser.ts): no other browser sees the file. The per-user managed-storage manifest
 * (`$HOME/.mozilla/managed-storage/<gecko id>.json`, no root needed) is the other route.
 *
 * Firefox refuses WebDriver navigation to moz-extension:// pages unless the browser is started with
 * system access for the remote agent (`extensionPages`, used by the search test); tests otherwise
 * drive chat pages, and policy decides which chats Veil protects.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { base64 } from '@scure/base';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import type { KeyRecord } from '../../lib/keys/model';
import { GECKO_ID } from '../../lib/policy/ids';
import type { ManagedPolicyJson } from '../../lib/policy/parse';
import { OUTPUT_DIR, waitFor } from './browser';

export const FIREFOX_EXTENSION_DIR = resolve(OUTPUT_DIR, 'firefox-mv2');
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
/** Where Firefox on Linux reads enterprise policy (its SysConfD), machine-wide. */
const SYSTEM_POLICY_DIR = '/etc/firefox/policies';

export interface FirefoxUser {
  name: string;
  browser: Browser;
  /** The moz-extension:// origin, fixed per user by pref so pages can be recognised. */
  extensionOrigin: string;
  /** Veil's internal uuid in this profile (the host of `extensionOrigin`). */
  extensionUuid: string;
  profileDir: string;
  newPage(): Promise<Page>;
  /**
   * Installs the same build again over the running one, as an update does: the background page
   * starts afresh and content scripts already in pages lose their extension. (Firefox's MV2
   * background page is persistent: nothing else stops it; there is no service worker to kill.)
   */
  reinstall(): Promise<void>;
  close(): Promise<void>;
}

export interface FirefoxLaunchOptions {
  /** Veil's policy (what admins put under `3rdparty.Extensions.<gecko id>` in policies.json). */
  policy?: unknown;
  /** A whole policies.json `policies` object, e.g. with ExtensionSettings (overrides `policy`). */
  policies?: Record<string, unknown>;
  /** Veil's policy through the per-user managed-storage manifest under $HOME instead. */
  managedStorage?: unknown;
  /**
   * `temporary` (default): installed over WebDriver BiDi as a temporary add-on. `policy`: left to
   * the `policies` given (ExtensionSettings force-install); the launch waits for it to run.
   */
  install?: 'temporary' | 'policy';
  prefs?: Record<string, unknown>;
  /** The test opens Veil's own pages (popup, options) in tabs: see openExtensionPage. */
  extensionPages?: boolean;
  /**
   * An X display (test/support/xvfb.ts) to run on, not headless: headless Firefox's clipboard
   * carries text only, so pasting an image needs a real one.
   */
  display?: string;
}

/** Preferences that make Firefox save every download into `dir` at once, without a dialog. */
export function firefoxDownloadPrefs(dir: string): Record<string, unknown> {
  return {
    'browser.download.folderList': 2,
    'browser.download.dir': dir,
    'browser.download.useDownloadDir': true,
    'browser.download.always_ask_before_handling_new_types': false,
    'browser.download.alwaysOpenPanel': false,
    'browser.download.start_downloads_in_tmp_dir': false,
  };
}

/** A file Firefox saved into `dir`, once complete (it writes `<name>.part` until then). */
export async function firefoxDownload(dir: string, name: string, timeoutMs = 30_000): Promise<Buffer> {
  const path = join(dir, name);
  await waitFor(
    () => existsSync(path) && !existsSync(`${path}.part`) && readdirSync(dir).every((f) => !f.endsWith('.part')),
    `download of ${name}`,
    timeoutMs,
  );
  return readFileSync(path);
}

/** Veil's managed policy protecting `matches` (fixture chat) with `keys`, as the admin CLI writes it. */
export function veilPolicy(
  keys: KeyRecord[],
  matches: string,
  extra: Partial<Omit<ManagedPolicyJson, 'keys'>> = {},
): ManagedPolicyJson {
  return {
    protectedSites: [{ adapter: 'fixture-chat', matches: [matches] }],
    keys: keys.map((k) => ({
      id: k.id,
      secret: base64.encode(k.secret),
      label: k.label,
      scope: k.scope,
      status: k.status,
      createdAt: k.createdAt,
    })),
    ...extra,
  } as ManagedPolicyJson;
}

/** The built Firefox extension packed as an XPI (a zip of the build folder), at `file`. */
export function packXpi(file: string): string {
  rmSync(file, { force: true });
  execFileSync('zip', ['-q', '-r', '-X', file, '.'], { cwd: FIREFOX_EXTENSION_DIR });
  return file;
}

/** A launcher script that starts Firefox with `policyDir` seen at /etc/firefox/policies (root only). */
function policyLauncher(root: string, policies: unknown): string {
  const policyDir = join(root, 'policies');
  mkdirSync(policyDir, { recursive: true });
  writeFileSync(join(policyDir, 'policies.json'), JSON.stringify({ policies }));
  mkdirSync(SYSTEM_POLICY_DIR, { recursive: true }); // an empty mount point: no policy for anyone
  const executable = join(root, 'firefox-with-policy.sh');
  writeFileSync(
    executable,
    `#!/bin/sh
exec unshare --mount --propagation private /bin/sh -c 'mount --bind "$0" ${SYSTEM_POLICY_DIR} && exec "$@"' \
  '${policyDir}' '${FIREFOX}' "$@"
`,
  );
  chmodSync(executable, 0o755);
  return executable;
}

export async function launchFirefoxUser(name: string, opts: FirefoxLaunchOptions = {}): Promise<FirefoxUser> {
  if (!existsSync(join(FIREFOX_EXTENSION_DIR, 'manifest.json'))) {
    throw new Error(
      `no Firefox build in ${FIREFOX_EXTENSION_DIR}: run \`wxt build -b firefox\` (with the same VEIL_OUT_DIR)`,
    );
  }
  const root = mkdtempSync(join(tmpdir(), `veil-ff-${name}-`));
  if (opts.managedStorage !== undefined) {
    mkdirSync(join(root, '.mozilla', 'managed-storage'), { recursive: true });
    writeFileSync(join(root, '.mozilla', 'managed-storage', `${GECKO_ID}.json`), JSON.stringify(opts.managedStorage));
  }
  const policies =
    opts.policies ??
    (opts.policy === undefined ? undefined : { '3rdparty': { Extensions: { [GECKO_ID]: opts.policy } } });
  const uuid = crypto.randomUUID();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: policies === undefined ? FIREFOX : policyLauncher(root, policies),
    headless: !opts.display,
    // Lets WebDriver BiDi open moz-extension:// pages (refused by default since Firefox 153).
    args: opts.extensionPages ? ['--remote-allow-system-access'] : [],
    userDataDir: join(root, 'profile'),
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: uuid }),
      'intl.accept_languages': 'en-US',
      ...opts.prefs,
      ...(process.env.VEIL_FF_DEBUG
        ? { 'devtools.console.stdout.chrome': true, 'devtools.console.stdout.content': true }
        : {}),
    },
    defaultViewport: { width: 1100, height: 800 },
    env: { ...process.env, HOME: root, ...(opts.display ? { DISPLAY: opts.display } : {}) },
    dumpio: !!process.env.VEIL_FF_DEBUG, // VEIL_FF_DEBUG=1: browser and extension console on stdout
  });
  const extensionOrigin = `moz-extension://${uuid}`;
  const install = async () => {
    if (opts.install !== 'policy') await browser.installExtension(FIREFOX_EXTENSION_DIR);
  };
  try {
    await install();
  } catch (e) {
    await browser.close().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    name,
    browser,
    extensionOrigin,
    extensionUuid: uuid,
    profileDir: join(root, 'profile'),
    newPage: () => browser.newPage(),
    reinstall: install,
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `url` (a protected chat) once Veil protects it: policy reaches the background a moment after
 * start, and its content script then runs on pages loaded from there on, so reload until it shows.
 */
export async function openProtected(user: { newPage(): Promise<Page> }, url: string): Promise<Page> {
  const page = await user.newPage();
  // Over WebDriver BiDi, with several Firefox tabs loading at once, a navigation's load event has
  // been seen never to arrive (30 s, then a timeout, with the page itself fine): wait for the
  // document only, and load it once more if even that does not come.
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 20_000 }).catch(async (e: Error) => {
    if (e.name !== 'TimeoutError') throw e;
    console.warn(`[test] navigation to ${url} timed out; loading it again`);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 20_000 });
  });
  // Each reload waits longer before the next: on a busy machine (several tabs loading a large
  // editor at once) a fixed short wait reloaded every page before Veil could show, again and again.
  let patience = 500;
  await waitFor(
    async () => {
      if (await page.$('.veil-composer-status')) return true;
      await new Promise((r) => setTimeout(r, patience));
      if (await page.$('.veil-composer-status')) return true;
      patience = Math.min(patience * 2, 8_000);
      await page.reload({ waitUntil: 'domcontentloaded', timeout: 20_000 }).catch(() => undefined);
      return false;
    },
    `Veil on ${url}`,
    30_000,
  );
  return page;
}

/**
 * Opens one of Veil's own pages (e.g. `popup.html`) in a tab, as a user can by typing its address
 * (the user must be launched with `extensionPages`). Firefox loads a moz-extension:// page but never
 * reports the navigation done over WebDriver BiDi (puppeteer#14314), so the navigation is not
 * awaited: the page is waited for by what it shows.
 */
export async function openExtensionPage(user: FirefoxUser, file: string, ready: string): Promise<Page> {
  const page = await user.newPage();
  const url = `${user.extensionOrigin}/${file}`;
  void page.goto(url, { timeout: 60_000 }).catch(() => undefined);
  const shows = () => page.evaluate((sel) => location.href + (document.querySelector(sel) ? ' ready' : ''), ready);
  const soon = () => new Promise<string>((r) => setTimeout(() => r(''), 2_000));
  await waitFor(
    async () => (await Promise.race([shows().catch(() => ''), soon()])) === `${url} ready`,
    `${file} open in Firefox`,
    30_000,
  );
  return page;
}

export { waitFor };
