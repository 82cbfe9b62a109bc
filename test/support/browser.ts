/**
 * One Chromium per user with the built extension loaded, the way an employee's browser runs it.
 * Each user gets a fresh profile and HOME under a temp folder; close() removes both.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page, type Target, type WebWorker } from 'puppeteer';
import { protectSite } from './veil-ui';

export const OUTPUT_DIR = resolve(process.env.VEIL_OUT_DIR ?? '.output');
export const CHROME_EXTENSION_DIR = resolve(OUTPUT_DIR, 'chrome-mv3');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--lang=en-US',
];

export interface User {
  name: string;
  browser: Browser;
  extensionId: string;
  profileDir: string;
  /**
   * Rewrites this browser's own enterprise policy (launched with `policy`); Chromium notices the
   * change by itself. `undefined` removes the policy file.
   */
  writePolicy(json: unknown): void;
  /**
   * Closes the browser and starts it again on the same profile, the extension loaded from disk as
   * an installed one is, with `startUrls` open as session restore would (`user.browser` changes).
   */
  relaunch(startUrls?: string[]): Promise<void>;
  worker(): Promise<WebWorker>;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  extension?: boolean;
  headless?: boolean;
  /** The browser's UI language, which picks Veil's strings; default en-US. */
  lang?: 'en-US' | 'zh-CN';
  /**
   * A fresh unmanaged install opens Veil's welcome page. Tests close it as it appears,
   * so it never takes focus from their pages, unless they want to see it.
   */
  keepWelcome?: boolean;
  /**
   * Chromium enterprise policy (the JSON an admin puts in /etc/chromium/policies/managed/) for
   * this browser alone: see policyLauncher.
   */
  policy?: unknown;
  /** Extra command-line flags, e.g. --host-resolver-rules for a real-looking host name. */
  args?: string[];
  /**
   * The chat this (unmanaged) user has Veil protect, added as a user does it: through the options
   * page's "Protected sites" form right after launch. Default: the fixture chat on
   * http://127.0.0.1/*, or nothing when launched with a `policy` (the policy decides). `false`: none.
   */
  protect?: string | false;
  /**
   * Which targets Puppeteer attaches to (default: all). A benchmark leaves out the pages it never
   * drives: Puppeteer holds every target it attaches to until it has enabled its domains there.
   */
  targetFilter?: (target: Target) => boolean;
}

/** Where /etc/chromium/policies lives: the mount point a per-browser policy is bound onto. */
const SYSTEM_POLICY_DIR = '/etc/chromium/policies';

/**
 * Chromium reads policy only from /etc/chromium/policies, machine-wide. To give one browser its
 * own policy without touching any other (tests of other files, other users in the same test), it
 * runs in a private mount namespace where a temp folder is bound onto that path (root only).
 */
function policyLauncher(root: string): { executable: string; policyFile: string } {
  const policyDir = join(root, 'policies');
  mkdirSync(join(policyDir, 'managed'), { recursive: true });
  mkdirSync(SYSTEM_POLICY_DIR, { recursive: true });
  const executable = join(root, 'chromium-with-policy.sh');
  writeFileSync(
    executable,
    `#!/bin/sh
exec unshare --mount --propagation private /bin/sh -c 'mount --bind "$0" ${SYSTEM_POLICY_DIR} && exec "$@"' \
  '${policyDir}' '${CHROMIUM}' "$@"
`,
  );
  chmodSync(executable, 0o755);
  return { executable, policyFile: join(policyDir, 'managed', 'veil.json') };
}

export async function launchUser(name: string, opts: LaunchOptions = {}): Promise<User> {
  const root = mkdtempSync(join(tmpdir(), `veil-${name}-`));
  const profileDir = join(root, 'profile');
  const withExtension = opts.extension ?? true;
  const launcher = opts.policy === undefined ? undefined : policyLauncher(root);
  const writePolicy = (json: unknown) => {
    if (!launcher) throw new Error(`${name} was launched without a policy of its own`);
    if (json === undefined) rmSync(launcher.policyFile, { force: true });
    else writeFileSync(launcher.policyFile, typeof json === 'string' ? json : JSON.stringify(json));
  };
  if (launcher) writePolicy(opts.policy);
  // Loaded from disk at every start (--load-extension), as an installed extension is: one
  // installed over CDP would be gone after a relaunch of the same profile.
  const start = (startUrls: string[] = []) =>
    puppeteer.launch({
      executablePath: launcher?.executable ?? CHROMIUM,
      headless: opts.headless ?? true,
      pipe: true,
      userDataDir: profileDir,
      enableExtensions: withExtension,
      args: [
        ...FLAGS.filter((f) => !f.startsWith('--lang=')),
        `--lang=${opts.lang ?? 'en-US'}`,
        '--window-size=1100,800',
        ...(withExtension
          ? [`--disable-extensions-except=${CHROME_EXTENSION_DIR}`, `--load-extension=${CHROME_EXTENSION_DIR}`]
          : []),
        ...(opts.args ?? []),
        ...startUrls,
      ],
      defaultViewport: { width: 1100, height: 800 },
      targetFilter: opts.targetFilter,
      // Chromium on Linux also takes its UI language from LANGUAGE.
      env: { ...process.env, HOME: root, LANGUAGE: (opts.lang ?? 'en-US').replace('-', '_') },
    });
  let browser = await start();
  if (withExtension && !opts.keepWelcome) closeWelcomePages(browser);
  let extensionId = '';
  const worker = async () => {
    const target = await browser.waitForTarget(
      (t) => t.type() === 'service_worker' && t.url().startsWith('chrome-extension://'),
      { timeout: 20_000 },
    );
    return (await target.worker())!;
  };
  if (withExtension) extensionId = new URL((await worker()).url()).host;
  const user: User = {
    name,
    browser,
    extensionId,
    profileDir,
    writePolicy,
    async relaunch(startUrls = []) {
      await browser.close().catch(() => undefined);
      browser = user.browser = await start(startUrls);
      if (withExtension && !opts.keepWelcome) closeWelcomePages(browser);
    },
    worker,
    newPage: () => browser.newPage(),
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  const protect = opts.protect ?? (opts.policy === undefined ? 'http://127.0.0.1/*' : false);
  if (withExtension && protect) {
    const added = await protectSite(user, protect);
    if (added.tone !== 'ok') throw new Error(`${name} could not protect ${protect}: ${added.text}`);
    // Wait until the background registered the content script for it.
    const w = await worker();
    await waitFor(
      async () =>
        (await w.evaluate(
          async () => (await (globalThis as any).chrome.scripting.getRegisteredContentScripts()).length,
        )) > 0,
      'content script registration',
    );
  }
  return user;
}

/** Closes Veil's first-run page whenever it opens (it opens a few seconds after install). */
function closeWelcomePages(browser: Browser): void {
  const isWelcome = (url: string) => url.startsWith('chrome-extension://') && url.endsWith('/welcome.html');
  const check = async (t: Target) => {
    if (t.type() === 'page' && isWelcome(t.url())) await (await t.page())?.close().catch(() => undefined);
  };
  // Veil opens it with its URL from the start; a test's own page navigates there later (targetchanged).
  browser.on('targetcreated', (t: Target) => void check(t).catch(() => undefined));
  for (const t of browser.targets()) void check(t).catch(() => undefined);
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits for the welcome page a fresh unmanaged install opens (a few seconds after start) and
 * closes it: tests that open the real popup do this first, since a tab opening later would take
 * focus and close the popup. Use with `keepWelcome: true`.
 */
/**
 * A click that lands where the element rests. Chats show a message's actions on hover and while
 * focus is inside it: the press moves focus out of the row clicked before, whose actions fold, and
 * the rows below move up between press and release, so the click lands beside its target (a
 * person's second click then does it). Focus leaves first, and the press comes once the element
 * rests under the pointer.
 */
export async function clickWhereItRests(page: Page, selector: string): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const centre = () =>
    page.$eval(selector, (el) => {
      el.scrollIntoView({ block: 'nearest' });
      const r = el.getBoundingClientRect();
      return { x: Math.round(r.x + r.width / 2), y: Math.round(r.y + r.height / 2) };
    });
  let at = await centre();
  for (let i = 0; i < 5; i++) {
    await page.mouse.move(at.x, at.y);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const now = await centre();
    if (now.x === at.x && now.y === at.y) break;
    at = now;
  }
  await page.mouse.down();
  await page.mouse.up();
}

export async function dismissWelcome(user: User): Promise<void> {
  const target = await user.browser.waitForTarget((t) => t.url().endsWith('/welcome.html'), { timeout: 20_000 });
  await (await target.asPage())?.close();
}

/** Waits until the enterprise policy reached Veil: its content script is registered for `pattern`. */
export async function waitForPolicy(user: User, pattern: string): Promise<void> {
  const w = await user.worker();
  await waitFor(
    async () =>
      (
        await w.evaluate(async () =>
          JSON.stringify(await (globalThis as any).chrome.scripting.getRegisteredContentScripts()),
        )
      ).includes(pattern),
    `policy on ${user.name}`,
    20_000,
  );
}
