/**
 * Drives Veil as a person would: the options page to import keys, the chat page to type and read.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import type { User } from './browser';

export async function openOptions(user: User): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`chrome-extension://${user.extensionId}/options.html`);
  await page.waitForSelector('#import-form');
  return page;
}

/** Imports a bundle file through the options page; returns the result line's text and tone. */
export async function importBundle(user: User, fileText: string, passphrase: string): Promise<{ tone: string; text: string }> {
  const page = await openOptions(user);
  const file = join(user.profileDir, '..', `bundle-${Date.now()}.json`);
  writeFileSync(file, fileText);
  const input = await page.$('#import-file');
  await (input as any).uploadFile(file);
  await page.type('#import-passphrase', passphrase);
  await page.click('#import-button');
  await page.waitForFunction(() => {
    const el = document.querySelector<HTMLElement>('#import-result');
    return el?.dataset.tone === 'error' || /Imported/.test(el?.textContent ?? '');
  }, { timeout: 60_000 });
  const result = await page.$eval('#import-result', (el) => ({ tone: (el as HTMLElement).dataset.tone ?? '', text: el.textContent ?? '' }));
  await page.close();
  return result;
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
  return page.$eval('.veil-composer-status', (el) => ({ state: (el as HTMLElement).dataset.state ?? '', text: el.textContent ?? '' }));
}

/** Types like a person (IME-style insertion of the whole text) and presses Enter. */
export async function typeAndSend(page: Page, text: string): Promise<void> {
  await page.focus('#compose');
  await page.keyboard.sendCharacter(text);
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
  return page.$$eval('#messages > li.message', (els) => els.map((el) => ({
    id: el.getAttribute('data-id') ?? '',
    from: el.getAttribute('data-from') ?? '',
    status: el.getAttribute('data-veil-status'),
    text: el.querySelector('.veil-plain')?.textContent ?? el.querySelector('.text')?.textContent ?? '',
    badge: el.querySelector('.veil-badge')?.textContent ?? '',
    badgeDetail: el.querySelector('.veil-badge')?.getAttribute('title') ?? '',
    html: el.querySelector('.text')?.innerHTML ?? '',
  })));
}

/** Waits for the message with host id `id` to reach a final Veil status; returns it. */
export async function waitForMessage(page: Page, predicate: (m: ShownMessage) => boolean, what: string): Promise<ShownMessage> {
  const end = Date.now() + 20_000;
  for (;;) {
    const hit = (await shownMessages(page)).find(predicate);
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; page shows ${JSON.stringify(await shownMessages(page))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
