/**
 * Shared test bodies for attachments (vitest assertions; the benchmark imports files.ts, not this).
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'puppeteer';
import { expect } from 'vitest';
import { pickFiles, seenFiles, tempFile, watchPageFiles } from './files';

/**
 * Under policy `attachments: "block"`, in the fixture chat open in `page`: a picked file is refused
 * with the line under the composer, then `others` tries the browser's other ways in (drop, paste).
 * None reaches the page's listeners, the chat stores none, and none waits to be sent.
 */
export async function expectFilesBlocked(
  page: Page,
  storedFiles: () => number,
  others: () => Promise<void>,
): Promise<void> {
  await watchPageFiles(page);
  const before = storedFiles();
  await pickFiles(page, '#file-input', [tempFile('secret.bin', randomBytes(1000))]);
  await page.waitForFunction(() =>
    /policy blocks them/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
  );
  await others();
  await new Promise((r) => setTimeout(r, 500));
  expect(await seenFiles(page)).toEqual([]);
  expect(storedFiles()).toBe(before);
  expect(await page.$$('#pending-files li')).toHaveLength(0);
}
