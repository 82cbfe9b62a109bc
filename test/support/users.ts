/**
 * One interface over both browsers' launchers (./browser.ts for Chromium, ./firefox.ts for Firefox
 * ESR), so one test body runs in either: a user is a browser with Veil set up for the fixture chat
 * by enterprise policy (keys included), pages to drive, and a way to restart Veil under them.
 */
import type { Browser, Page } from 'puppeteer';
import type { KeyRecord } from '../../lib/keys/model';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import type { ManagedPolicyJson } from '../../lib/policy/parse';
import { launchUser, type User, waitForPolicy } from './browser';
import { firefoxDownloadPrefs, launchFirefoxUser, openProtected, veilPolicy } from './firefox';
import { typeText } from './typing';

export type BrowserName = 'chromium' | 'firefox';

export interface ChatUser {
  name: string;
  browserName: BrowserName;
  browser: Browser;
  newPage(): Promise<Page>;
  /** Opens a protected chat page once Veil runs on it. */
  openProtected(url: string): Promise<Page>;
  /**
   * Restarts Veil's background under open pages: Chromium reloads the extension
   * (runtime.reload); Firefox installs the same build over it, as an update does.
   */
  restartExtension(): Promise<void>;
  close(): Promise<void>;
  /** Chromium: the browser under it, for Veil's own pages (options: importing a bundle). */
  chromium?: User;
}

export interface ChatUserSetup {
  /** Keys the policy hands out. */
  keys: KeyRecord[];
  /** Match pattern of the fixture chat, e.g. `${server.url}/*`. */
  matches: string;
  /** Other policy settings, e.g. `{ mode: 'isolated' }`. */
  settings?: Partial<Omit<ManagedPolicyJson, 'keys'>>;
  /** Firefox only: run on this X display (test/support/xvfb.ts), not headless. */
  display?: string;
  /** Firefox only: downloads are saved into this folder without asking. */
  downloadDir?: string;
}

/** Launches `name` in `browserName` under a policy of its own that protects the fixture chat. */
export async function launchChatUser(browserName: BrowserName, name: string, setup: ChatUserSetup): Promise<ChatUser> {
  const policy = veilPolicy(setup.keys, setup.matches, setup.settings);
  if (browserName === 'firefox') {
    const user = await launchFirefoxUser(name, {
      policy,
      ...(setup.display ? { display: setup.display } : {}),
      ...(setup.downloadDir ? { prefs: firefoxDownloadPrefs(setup.downloadDir) } : {}),
    });
    return {
      name,
      browserName,
      get browser() {
        return user.browser;
      },
      newPage: () => user.newPage(),
      openProtected: (url) => openProtected(user, url),
      restartExtension: () => user.reinstall(),
      close: () => user.close(),
    };
  }
  const user = await launchUser(name, { policy: { '3rdparty': { extensions: { [CHROME_EXTENSION_ID]: policy } } } });
  await waitForPolicy(user, setup.matches);
  return {
    name,
    browserName,
    get browser() {
      return user.browser;
    },
    newPage: () => user.newPage(),
    openProtected: (url) => openProtected(user, url),
    chromium: user,
    async restartExtension() {
      const worker = await user.worker();
      await worker.evaluate(() => (globalThis as any).chrome.runtime.reload()).catch(() => undefined);
    },
    close: () => user.close(),
  };
}

/** alice and bob in `browserName`, each under a policy of their own that protects the chat at `chatUrl`. */
export async function launchAliceAndBob(
  browserName: BrowserName,
  chatUrl: string,
  keys: KeyRecord[],
  settings?: ChatUserSetup['settings'],
): Promise<[ChatUser, ChatUser]> {
  const setup: ChatUserSetup = { keys, matches: `${chatUrl}/*`, ...(settings ? { settings } : {}) };
  return Promise.all([launchChatUser(browserName, 'alice', setup), launchChatUser(browserName, 'bob', setup)]);
}

/** The fixture chat's conversation `conv` as `user` sees it, once Veil runs on the page. */
export const openConversation = (user: ChatUser, chatUrl: string, conv: string) =>
  user.openProtected(`${chatUrl}/?user=${user.name}&conv=${encodeURIComponent(conv)}`);

export { typeText } from './typing';

/** Types `text` into the fixture chat's compose box and presses Enter. */
export async function typeAndSendAny(page: Page, text: string): Promise<void> {
  await page.bringToFront();
  await page.focus('#compose');
  await typeText(page, text);
  await page.keyboard.press('Enter');
}
