/**
 * One Firefox ESR per user with the built Firefox extension installed, the way an employee's
 * browser runs it. Each user gets a fresh HOME under a temp folder, so an enterprise policy can be
 * delivered the way Firefox reads it without root: `$HOME/.mozilla/managed-storage/<gecko id>.json`
 * (the same data Firefox's `3rdparty` policy gives `storage.managed`). close() removes the folder.
 * Firefox refuses page.goto() to moz-extension:// pages, so Firefox tests drive chat pages only.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { GECKO_ID } from '../../lib/policy/ids';
import { OUTPUT_DIR, waitFor } from './browser';

export const FIREFOX_EXTENSION_DIR = resolve(OUTPUT_DIR, 'firefox-mv2');
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export interface FirefoxUser {
  name: string;
  browser: Browser;
  /** The moz-extension:// origin, fixed per user by pref so pages can be recognised. */
  extensionOrigin: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchFirefoxUser(name: string, opts: { managedStorage?: unknown } = {}): Promise<FirefoxUser> {
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
  const uuid = crypto.randomUUID();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: join(root, 'profile'),
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: uuid }),
      'intl.accept_languages': 'en-US',
      ...(process.env.VEIL_FF_DEBUG
        ? { 'devtools.console.stdout.chrome': true, 'devtools.console.stdout.content': true }
        : {}),
    },
    defaultViewport: { width: 1100, height: 800 },
    env: { ...process.env, HOME: root },
    dumpio: !!process.env.VEIL_FF_DEBUG, // VEIL_FF_DEBUG=1: browser and extension console on stdout
  });
  const extensionOrigin = `moz-extension://${uuid}`;
  try {
    await browser.installExtension(FIREFOX_EXTENSION_DIR);
  } catch (e) {
    await browser.close().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const user: FirefoxUser = {
    name,
    browser,
    extensionOrigin,
    newPage: () => browser.newPage(),
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return user;
}

export { waitFor };
