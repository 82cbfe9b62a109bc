/**
 * Send benchmark: Enter to the request leaving the page, in the page's own clock. The Enter
 * keydown's timestamp (a trusted event: the browser stamps it when the input arrives) is read by a
 * listener installed before any other script; the request's start comes from Resource Timing
 * (`fetchStart` of POST /api/messages). Without Veil the chat calls fetch in its keydown handler;
 * with Veil the send guard holds the Enter, has the background encrypt, swaps the text, and
 * re-triggers the chat's own send.
 */
import type { Page } from 'puppeteer';
import type { User } from '../test/support/browser';
import { PEER, VIEWER, sleep } from './common';

function instrument(): void {
  const w = window as unknown as { __send: { enters: number[]; requests: number[] } };
  w.__send = { enters: [], requests: [] };
  addEventListener(
    'keydown',
    (e) => {
      if (e.key === 'Enter' && e.isTrusted) w.__send.enters.push(e.timeStamp);
    },
    true,
  );
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (/\/api\/messages$/.test(e.name)) w.__send.requests.push(e.startTime);
  }).observe({ type: 'resource' });
}

export async function openSendPage(user: User, baseUrl: string, withVeil: boolean): Promise<Page> {
  const page = await user.newPage();
  await page.evaluateOnNewDocument(instrument);
  await page.goto(`${baseUrl}/?user=${VIEWER}&conv=${PEER}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#compose');
  if (withVeil) await page.waitForSelector('.veil-composer-status[data-state="ready"]', { timeout: 30_000 });
  return page;
}

/** Sends `texts` one by one; returns Enter-to-request latencies in ms. */
export async function sendLatencies(page: Page, texts: string[], withVeil: boolean): Promise<number[]> {
  await page.bringToFront();
  const out: number[] = [];
  for (const text of texts) {
    const before = await page.evaluate(
      () => (window as unknown as { __send: { requests: number[] } }).__send.requests.length,
    );
    await page.focus('#compose');
    await page.keyboard.sendCharacter(text);
    await sleep(30); // a person does not press Enter in the same millisecond
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (n) => {
        const s = (window as unknown as { __send: { requests: number[] } }).__send;
        return s.requests.length > n && (document.querySelector('#compose') as HTMLTextAreaElement).value === '';
      },
      { timeout: 15_000, polling: 10 },
      before,
    );
    if (withVeil) {
      // The guard is done once its status line leaves "busy" (it confirms the chat took the text).
      await page.waitForSelector('.veil-composer-status[data-state="ready"]', { timeout: 15_000 });
    }
    const s = await page.evaluate(
      () => (window as unknown as { __send: { enters: number[]; requests: number[] } }).__send,
    );
    const enter = s.enters.at(-1);
    const request = s.requests.at(-1);
    if (enter === undefined || request === undefined || s.enters.length !== s.requests.length) {
      throw new Error(`send bench: Enter/request mismatch (${s.enters.length} Enter, ${s.requests.length} requests)`);
    }
    out.push(request - enter);
    await sleep(20);
  }
  return out;
}
