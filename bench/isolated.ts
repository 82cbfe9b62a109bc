/**
 * Isolated mode history benchmark. In isolated mode the page never gets plaintext: each
 * message is read in its own extension-origin reader frame, made lazily when the message comes
 * near the viewport. So "shown" here means: every message was processed (its envelope hidden),
 * and at least as many reader frames have a final status as there are messages in view.
 * Each reader frame reports when its status is final with a postMessage to the page (a bench-only
 * script installed over CDP; it carries no text), so the time is in the page's clock like inline.
 */
import { openOptions } from '../test/support/veil-ui';
import type { User } from '../test/support/browser';
import { PEER, processTreeRssBytes, VIEWER } from './common';
import { measureMemory, type HistoryRun } from './history';

export interface IsolatedRun extends HistoryRun {
  /** Reader frames that had reported a final status when the history counted as shown. */
  frames: number;
  /** After showing: reader frames in the page, page heap, and the whole browser's resident memory. */
  liveFrames?: number;
  browserRssBytes?: number;
}

/** Switches the fixture chat to isolated mode in the options page, as a user would. */
export async function setIsolatedMode(user: User): Promise<boolean> {
  const page = await openOptions(user);
  try {
    const box = '#isolated-sites tr[data-site="fixture-chat"] .isolated-toggle';
    if (!(await page.waitForSelector(box, { timeout: 10_000 }).catch(() => null))) return false;
    if (!(await page.$eval(box, (b) => (b as HTMLInputElement).checked))) {
      await page.click(box);
      await page.waitForFunction(
        (sel) =>
          (document.querySelector(sel) as HTMLInputElement).checked &&
          /isolated/i.test(document.querySelector('#isolated-result')?.textContent ?? ''),
        { timeout: 10_000 },
        box,
      );
    }
    return true;
  } finally {
    await page.close();
  }
}

/** Runs in every frame: the page counts; reader frames report their final status. */
function detector(n: number): void {
  const w = window as unknown as { __bench?: unknown; __benchWait?: (v: unknown) => void };
  if (location.protocol === 'chrome-extension:') {
    if (!location.pathname.endsWith('/secure-reader.html')) return;
    const report = () => {
      const status = document.getElementById('reader')?.dataset.status;
      if (!status) return false;
      parent.postMessage({ veilBenchReader: 1 }, '*');
      return true;
    };
    const start = () => {
      if (report()) return;
      const mo = new MutationObserver(() => report() && mo.disconnect());
      mo.observe(document, { attributes: true, subtree: true, attributeFilter: ['data-status'] });
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
    else start();
    return;
  }
  if (window !== window.top) return;
  let finals = 0;
  let done = false;
  const visible = () => {
    const list = document.getElementById('messages');
    if (!list) return Infinity;
    const box = list.getBoundingClientRect();
    let count = 0;
    for (const li of list.querySelectorAll('li.message')) {
      const r = li.getBoundingClientRect();
      if (r.bottom > box.top && r.top < box.bottom) count++;
    }
    return count;
  };
  const check = () => {
    if (done || document.querySelectorAll('#messages > li.message .text[data-veil-isolated="hidden"]').length < n)
      return;
    if (finals < visible()) return;
    done = true;
    const domMs = performance.now();
    requestAnimationFrame(() =>
      setTimeout(() => {
        w.__bench = { domMs, paintMs: performance.now(), frames: finals };
        w.__benchWait?.(w.__bench);
      }, 0),
    );
  };
  addEventListener('message', (e) => {
    if ((e.data as { veilBenchReader?: number })?.veilBenchReader !== 1) return;
    finals++;
    check();
  });
  new MutationObserver(check).observe(document, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-veil-isolated'],
  });
}

export async function openIsolatedHistory(
  user: User,
  baseUrl: string,
  n: number,
  timeoutMs = 60_000,
  opts: { memory?: boolean } = {},
): Promise<IsolatedRun> {
  const page = await user.newPage();
  try {
    await page.bringToFront(); // a background tab gets no animation frames: the detector waits for one
    await page.evaluateOnNewDocument(detector, n);
    await page.goto(`${baseUrl}/?user=${VIEWER}&conv=${PEER}`, { waitUntil: 'domcontentloaded' });
    const t = await page.evaluate(
      (ms) =>
        new Promise<{ domMs: number; paintMs: number; frames: number }>((resolve, reject) => {
          const w = window as unknown as {
            __bench?: { domMs: number; paintMs: number; frames: number };
            __benchWait?: (v: unknown) => void;
          };
          if (w.__bench) return resolve(w.__bench);
          w.__benchWait = resolve as (v: unknown) => void;
          setTimeout(
            () =>
              reject(
                new Error(
                  `isolated history not shown within ${ms} ms: ` +
                    `${document.querySelectorAll('#messages .text[data-veil-isolated="hidden"]').length} hidden`,
                ),
              ),
            ms,
          );
        }),
      timeoutMs,
    );
    const run: IsolatedRun = { domMs: t.domMs, paintMs: t.paintMs, decrypted: t.frames, frames: t.frames, cpuMs: NaN };
    if (opts.memory) {
      run.memory = await measureMemory(page);
      run.liveFrames = page.frames().filter((f) => f.url().endsWith('/secure-reader.html')).length;
      run.browserRssBytes = processTreeRssBytes(user.browser.process()!.pid!);
    }
    return run;
  } finally {
    await page.close();
  }
}
