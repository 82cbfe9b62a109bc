/**
 * README screenshots: `npm test` writes them to test-results/screenshots (ignored by git), so
 * testing leaves the tree clean; `npm run screenshots` sets VEIL_SCREENSHOTS_DIR=docs/screenshots.
 * Each picture is taken only after its test checked that the page shows what the README says.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'puppeteer';

export const SCREENSHOTS_DIR = process.env.VEIL_SCREENSHOTS_DIR ?? 'test-results/screenshots';

export async function shot(
  page: Page,
  name: string,
  opts: { fullPage?: boolean; element?: string } = {},
): Promise<void> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.bringToFront();
  await page.evaluate(() => document.fonts.ready);
  const path = `${SCREENSHOTS_DIR}/${name}.png` as const;
  if (opts.element) await (await page.$(opts.element))!.screenshot({ path });
  else await page.screenshot({ path, fullPage: opts.fullPage ?? false });
}
