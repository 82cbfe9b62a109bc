import type { Page } from 'puppeteer';

/**
 * Puts `text` where the keyboard focus is, as a person would: Chromium inserts it in one go (CDP
 * Input.insertText, like an IME commit or paste); Firefox's WebDriver BiDi types it key by key.
 */
export async function typeText(page: Page, text: string): Promise<void> {
  if ((page.browser() as unknown as { protocol: string }).protocol === 'cdp') await page.keyboard.sendCharacter(text);
  else await page.keyboard.type(text);
}
