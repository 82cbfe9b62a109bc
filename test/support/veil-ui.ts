/**
 * Drives Veil as a person would: the options page to import keys, the chat page to type and read.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { typeText } from './typing';
import type { User } from './browser';

export async function openOptions(user: User): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`chrome-extension://${user.extensionId}/options.html`);
  await page.waitForSelector('#import-form');
  return page;
}

/**
 * Has Veil protect a chat the way a user does: the options page's "Protected sites" form (pick
 * one of Veil's chats, enter its address). Returns the result line (tone "ok" or "error").
 */
export async function protectSite(
  user: User,
  address: string,
  adapter = 'fixture-chat',
): Promise<{ tone: string; text: string }> {
  const page = await openOptions(user);
  await page.waitForSelector('#site-add-form:not([hidden])');
  await page.select('#site-adapter', adapter);
  await page.type('#site-address', address);
  await page.click('#site-add-button');
  await page.waitForFunction(
    () => {
      const el = document.querySelector<HTMLElement>('#sites-result');
      return el?.dataset.tone === 'error' || (el?.dataset.tone === 'ok' && el.dataset.busy === 'false');
    },
    { timeout: 15_000 },
  );
  const result = await page.$eval('#sites-result', (el) => ({
    tone: (el as HTMLElement).dataset.tone ?? '',
    text: el.textContent ?? '',
  }));
  await page.close();
  return result;
}

/** Imports a bundle file through the options page; returns the result line's text and tone. */
export async function importBundle(
  user: User,
  fileText: string,
  passphrase: string,
  /** The answer to the review step (what the bundle changes), whose lines come back as `preview`. */
  decision: 'confirm' | 'cancel' = 'confirm',
): Promise<{ tone: string; text: string; preview: string[] }> {
  const page = await openOptions(user);
  const file = join(user.profileDir, '..', `bundle-${Date.now()}.json`);
  writeFileSync(file, fileText);
  const input = await page.$('#import-file');
  await (input as any).uploadFile(file);
  await page.type('#import-passphrase', passphrase);
  await page.click('#import-button');
  // Importing is two steps: the options page shows what the bundle changes, the user confirms.
  await page.waitForFunction(
    () =>
      !!document.querySelector('#import-confirm') ||
      document.querySelector<HTMLElement>('#import-result')?.dataset.tone === 'error',
    { timeout: 60_000 },
  );
  const preview = await page.$$eval('#import-preview li', (lis) => lis.map((li) => li.textContent ?? ''));
  await page.$eval(`#import-${decision}`, (b) => (b as HTMLElement).click()).catch(() => undefined);
  await page.waitForFunction(
    () => {
      const el = document.querySelector<HTMLElement>('#import-result');
      // Any language: a result is an error, or an ok line that is no longer "Importing…".
      return el?.dataset.tone === 'error' || (el?.dataset.tone === 'ok' && el.dataset.busy === 'false');
    },
    { timeout: 60_000 },
  );
  const result = await page.$eval('#import-result', (el) => ({
    tone: (el as HTMLElement).dataset.tone ?? '',
    text: el.textContent ?? '',
  }));
  await page.close();
  return { ...result, preview };
}

export async function openChat(user: User, baseUrl: string, conv: string, as = user.name): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`${baseUrl}/?user=${as}&conv=${encodeURIComponent(conv)}`);
  await page.waitForSelector('#compose');
  return page;
}

/** Waits until Veil's status line under the composer has settled (key described or error). */
export async function composerStatus(page: Page): Promise<{ state: string; text: string }> {
  await page.waitForSelector('.veil-composer-status[data-state="ready"], .veil-composer-status[data-state="error"]');
  return page.$eval('.veil-composer-status', (el) => ({
    state: (el as HTMLElement).dataset.state ?? '',
    text: el.textContent ?? '',
  }));
}

/** Types like a person (Chromium: IME-style insertion of the whole text) and presses Enter. */
export async function typeAndSend(page: Page, text: string): Promise<void> {
  await page.bringToFront(); // input goes to the focused tab, as for a person
  await page.focus('#compose');
  await typeText(page, text);
  await page.keyboard.press('Enter');
}

export interface ShownMessage {
  id: string;
  from: string;
  status: string | null;
  text: string;
  badge: string;
  badgeDetail: string;
  html: string;
}

export async function shownMessages(page: Page): Promise<ShownMessage[]> {
  return page.$$eval('#messages > li.message', (els) =>
    els.map((el) => ({
      id: el.getAttribute('data-id') ?? '',
      from: el.getAttribute('data-from') ?? '',
      status: el.getAttribute('data-veil-status'),
      text: el.querySelector('[data-veil-shown]')?.textContent ?? el.querySelector('.text')?.textContent ?? '',
      badge: el.querySelector('.veil-badge')?.getAttribute('data-veil-label') ?? '',
      badgeDetail: el.querySelector('.veil-badge')?.getAttribute('title') ?? '',
      html: el.querySelector('.text')?.innerHTML ?? '',
    })),
  );
}

/** Waits for the message with host id `id` to reach a final Veil status; returns it. */
export async function waitForMessage(
  page: Page,
  predicate: (m: ShownMessage) => boolean,
  what: string,
): Promise<ShownMessage> {
  const end = Date.now() + 20_000;
  for (;;) {
    const hit = (await shownMessages(page)).find(predicate);
    if (hit) return hit;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; page shows ${JSON.stringify(await shownMessages(page))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Lists the keyring as the options page shows it. */
export async function keyTable(
  page: Page,
): Promise<{ id: string; label: string; status: string; fingerprint: string }[]> {
  return page.$$eval('#keys tbody tr', (rows) =>
    rows.map((r) => {
      const c = [...r.querySelectorAll('td')].map((td) => td.textContent ?? '');
      return { id: c[1]!, label: c[0]!, fingerprint: c[2]!, status: c[4]! };
    }),
  );
}

/** Generates a key in the options page; returns its id. */
export async function generateKey(page: Page, label: string, conversations = '*'): Promise<string> {
  await page.bringToFront();
  await page.$eval(
    '#gen-label',
    (el, v) => {
      (el as HTMLInputElement).value = v;
    },
    label,
  );
  await page.$eval(
    '#gen-conversations',
    (el, v) => {
      (el as HTMLInputElement).value = v;
    },
    conversations,
  );
  await page.select('#gen-site', 'fixture-chat');
  await page.click('#generate-button');
  await page.waitForFunction(() =>
    /Generated|error/i.test(document.querySelector('#generate-result')?.textContent ?? ''),
  );
  const text = await page.$eval('#generate-result', (el) => el.textContent ?? '');
  return /\(([0-9a-f]{8}),/.exec(text)![1]!;
}

/** Exports the given keys through the options page; returns the bundle file's text. */
export async function exportKeys(page: Page, ids: string[], passphrase: string): Promise<string> {
  await page.bringToFront();
  await page.$$eval(
    '.export-pick',
    (boxes, want) =>
      boxes.forEach((b) => {
        (b as HTMLInputElement).checked = (want as string[]).includes((b as HTMLInputElement).value);
      }),
    ids,
  );
  await page.$eval(
    '#export-passphrase',
    (el, v) => {
      (el as HTMLInputElement).value = v;
    },
    passphrase,
  );
  await page.click('#export-button');
  await page.waitForFunction(
    () =>
      !(document.querySelector('#export-download') as HTMLAnchorElement).hidden ||
      (document.querySelector('#export-result') as HTMLElement).dataset.tone === 'error',
    { timeout: 60_000 },
  );
  return page.$eval('#export-download', async (a) => (await fetch((a as HTMLAnchorElement).href)).text());
}

/** The real toolbar popup, opened on the tab that is in front (as a click on Veil's button does). */
export async function openPopup(user: User, front: Page): Promise<Page> {
  await front.bringToFront();
  const w = await user.worker();
  await w.evaluate(() => (globalThis as any).chrome.action.openPopup());
  const target = await user.browser.waitForTarget((t) => t.url().endsWith('/popup.html'), { timeout: 10_000 });
  const popup = (await target.asPage())!;
  await popup.waitForFunction(() => document.querySelector('#site-state')?.getAttribute('data-state') !== 'loading');
  return popup;
}

export interface SearchHit {
  id: string;
  author?: string | null;
  signature?: string;
  conversation?: string | null;
  marked: (string | null)[];
  snippet?: string | null;
  html?: string;
}

/** Runs `query` in the search box of Veil's popup (or the popup page in a tab) and lists the hits. */
export async function searchIn(popup: Page, query: string): Promise<SearchHit[]> {
  await popup.$eval('#search-input', (el) => ((el as HTMLInputElement).value = ''));
  await popup.type('#search-input', query);
  await popup.click('#search-button');
  await popup.waitForFunction(
    (q) =>
      (document.querySelector('#search-input') as HTMLInputElement).value === q &&
      document.querySelector('#search-results')?.getAttribute('data-state') === 'done' &&
      !!document.querySelector('#search-state')?.textContent,
    {},
    query,
  );
  await new Promise((r) => setTimeout(r, 300)); // a debounced query of the typing may land after
  return popup.$$eval('#search-results .veil-search-hit', (els) =>
    els.map((e) => ({
      id: (e as HTMLElement).dataset.id!,
      author: e.querySelector('.veil-search-author')?.textContent,
      signature: (e.querySelector('.veil-search-signature') as HTMLElement | null)?.dataset.state,
      conversation: e.querySelector('.veil-search-conversation')?.textContent,
      marked: [...e.querySelectorAll('.veil-search-snippet mark')].map((m) => m.textContent),
      snippet: e.querySelector('.veil-search-snippet')?.textContent,
      html: e.querySelector('.veil-search-snippet')?.innerHTML,
    })),
  );
}
