/**
 * History benchmark: open a conversation of N messages and time, in the page's own clock (from
 * navigation start), until every message is shown: decrypted and painted with Veil, or just painted
 * as plaintext without it. Also reads the page's JS heap and DOM size once everything is shown.
 */
import type { Page } from 'puppeteer';
import type { User } from '../test/support/browser';
import { PEER, VIEWER, processTreeCpuSeconds, sleep } from './common';

/**
 * What "shown" means for each configuration:
 * - `decrypted`: every message has a final Veil status (the renderer sets data-veil-status only
 *   after it painted the plaintext or the reason it could not).
 * - `plain`: every message's <li> is in the list (the chat renders each one complete).
 * - `flagged`: the extension on a plaintext history: every message carries the "not encrypted" flag.
 */
export type Until = 'decrypted' | 'plain' | 'flagged';

const SELECTORS: Record<Until, string> = {
  decrypted: '#messages > li.message[data-veil-status]',
  plain: '#messages > li.message',
  flagged: '#messages > li.message[data-veil-unencrypted]',
};

export interface HistoryRun {
  /** ms from navigation start until the condition held (DOM complete). */
  domMs: number;
  /** ...and until the next frame after that was produced (painted). */
  paintMs: number;
  /** messages whose Veil status is `decrypted` (with the extension). */
  decrypted: number;
  /**
   * CPU time used by the whole browser (every process: page, extension service worker, GPU...)
   * from just before navigation until shown. Unlike wall time it barely moves when other work
   * competes for the cores, so it is the steadier figure on a shared machine.
   */
  cpuMs: number;
  memory?: { jsHeapUsedBytes: number; domNodes: number };
}

/** Runs in the page before any of its scripts: watches the list, notes when it is complete. */
function detector(selector: string, n: number): void {
  const w = window as unknown as { __bench?: unknown; __benchWait?: (v: unknown) => void };
  const check = () => {
    if (document.querySelectorAll(selector).length < n) return;
    mo.disconnect();
    const domMs = performance.now();
    // The frame after the DOM change: layout and paint included.
    requestAnimationFrame(() =>
      setTimeout(() => {
        w.__bench = { domMs, paintMs: performance.now() };
        w.__benchWait?.(w.__bench);
      }, 0),
    );
  };
  const mo = new MutationObserver(check);
  mo.observe(document, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-veil-status', 'data-veil-unencrypted'],
  });
}

export function openHistory(
  user: User,
  baseUrl: string,
  n: number,
  until: Until,
  opts: { memory?: boolean; timeoutMs?: number } = {},
): Promise<HistoryRun> {
  return timeShown(user, `${baseUrl}/?user=${VIEWER}&conv=${PEER}`, SELECTORS[until], n, {
    ...opts,
    decryptedSelector: until === 'decrypted' ? '#messages > li.message[data-veil-status="decrypted"]' : undefined,
  });
}

/**
 * Opens `url` in a new tab of `user` and times, in the page's clock from navigation start, until
 * `selector` matches `n` elements and the next frame is painted (any chat: the selector says what
 * "shown" is there). `decryptedSelector` counts the messages Veil decrypted once shown.
 */
export async function timeShown(
  user: User,
  url: string,
  selector: string,
  n: number,
  opts: { memory?: boolean; timeoutMs?: number; decryptedSelector?: string } = {},
): Promise<HistoryRun> {
  const page = await user.newPage();
  try {
    await page.bringToFront(); // a background tab gets no animation frames: the detector waits for one
    await page.evaluateOnNewDocument(detector, selector, n);
    await sleep(100); // let the previous page's teardown finish before the CPU clock starts
    const pid = user.browser.process()!.pid!;
    const cpu0 = processTreeCpuSeconds(pid);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const t = await page.evaluate(
      (timeoutMs, selector) =>
        new Promise<{ domMs: number; paintMs: number }>((resolve, reject) => {
          const w = window as unknown as {
            __bench?: { domMs: number; paintMs: number };
            __benchWait?: (v: unknown) => void;
          };
          if (w.__bench) return resolve(w.__bench);
          w.__benchWait = resolve as (v: unknown) => void;
          setTimeout(
            () =>
              reject(
                new Error(
                  `history not shown within ${timeoutMs} ms: ` +
                    `${document.querySelectorAll(selector).length} elements match ${selector}, ` +
                    `${document.querySelectorAll('[data-veil-status]').length} with a Veil status`,
                ),
              ),
            timeoutMs,
          );
        }),
      opts.timeoutMs ?? 120_000,
      selector,
    );
    const cpuMs = (processTreeCpuSeconds(pid) - cpu0) * 1000;
    const decrypted = opts.decryptedSelector ? await page.$$eval(opts.decryptedSelector, (els) => els.length) : 0;
    const run: HistoryRun = { domMs: t.domMs, paintMs: t.paintMs, decrypted, cpuMs };
    if (opts.memory) run.memory = await measureMemory(page);
    return run;
  } finally {
    await page.close();
  }
}

/** JS heap of the page's isolate (main world + the content script's isolated world) after a full GC. */
export async function measureMemory(page: Page): Promise<{ jsHeapUsedBytes: number; domNodes: number }> {
  const cdp = await page.createCDPSession();
  try {
    await cdp.send('HeapProfiler.enable');
    for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
    const heap = await cdp.send('Runtime.getHeapUsage');
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const nodes = metrics.find((m) => m.name === 'Nodes')?.value ?? NaN;
    return { jsHeapUsedBytes: heap.usedSize, domNodes: nodes };
  } finally {
    await cdp.detach();
  }
}
