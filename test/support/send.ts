/**
 * Sending through the real UI as fast as a person with a paste buffer could (the soak and
 * fault tests): the text inserted into the composer (typeText), Enter, then wait only until Veil is done
 * with this composer (composer empty and Veil's line no longer "busy"), not for delivery.
 */
import type { Page } from 'puppeteer';
import { typeText } from './typing';

export interface SendOutcome {
  sent: boolean;
  /** Veil's line under the composer afterwards. */
  status: string;
  /** What the composer still holds. */
  left: string;
}

/** Types `text` into the fixture chat's composer, presses Enter, waits until Veil settled. */
export async function sendAndSettle(
  page: Page,
  text: string,
  opts: { front?: boolean; timeoutMs?: number } = {},
): Promise<SendOutcome> {
  if (opts.front !== false) await page.bringToFront();
  await page.focus('#compose');
  await typeText(page, text); // Chromium: one input event, like an IME or paste; Firefox: key by key
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => {
      const status = document.querySelector<HTMLElement>('.veil-composer-status');
      const value = (document.querySelector('#compose') as HTMLTextAreaElement).value;
      return status?.dataset.state !== 'busy' && (value === '' || status?.dataset.state === 'error');
    },
    { polling: 10, timeout: opts.timeoutMs ?? 30_000 },
  );
  return page.evaluate(() => {
    const value = (document.querySelector('#compose') as HTMLTextAreaElement).value;
    return {
      sent: value === '',
      status: document.querySelector('.veil-composer-status')?.textContent ?? '',
      left: value,
    };
  });
}
