/**
 * One Chromium per user with the built extension loaded, the way an employee's browser runs it.
 * Each user gets a fresh profile and HOME under a temp folder; close() removes both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page, type WebWorker } from 'puppeteer';

export const OUTPUT_DIR = resolve(process.env.VEIL_OUT_DIR ?? '.output');
export const CHROME_EXTENSION_DIR = resolve(OUTPUT_DIR, 'chrome-mv3');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--lang=en-US',
];

export interface User {
  name: string;
  browser: Browser;
  extensionId: string;
  profileDir: string;
  worker(): Promise<WebWorker>;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchUser(name: string, opts: { extension?: boolean; headless?: boolean } = {}): Promise<User> {
  const root = mkdtempSync(join(tmpdir(), `veil-${name}-`));
  const profileDir = join(root, 'profile');
  const withExtension = opts.extension ?? true;
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: opts.headless ?? true,
    pipe: true,
    userDataDir: profileDir,
    enableExtensions: withExtension ? [CHROME_EXTENSION_DIR] : false,
    args: [...FLAGS, '--window-size=1100,800'],
    defaultViewport: { width: 1100, height: 800 },
    env: { ...process.env, HOME: root },
  });
  let extensionId = '';
  const worker = async () => {
    const target = await browser.waitForTarget(
      (t) => t.type() === 'service_worker' && t.url().startsWith('chrome-extension://'), { timeout: 20_000 });
    return (await target.worker())!;
  };
  if (withExtension) {
    const w = await worker();
    extensionId = new URL(w.url()).host;
    // Wait until the background registered the content script for protected sites.
    await waitFor(async () => (await w.evaluate(async () =>
      (await (globalThis as any).chrome.scripting.getRegisteredContentScripts()).length)) > 0, 'content script registration');
  }
  return {
    name, browser, extensionId, profileDir, worker,
    newPage: () => browser.newPage(),
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
