/**
 * Isolated mode history benchmark. In isolated mode the page never gets plaintext: each
 * message is read in its own extension-origin reader frame, made lazily when the message comes
 * near the viewport. So "shown" here means: every message was processed (its envelope hidden),
 * and at least as many reader frames have a final status as there are messages in view.
 * A reader frame counts as final once Veil has sized its placeholder (see detector), so the time
 * is in the page's clock like inline.
 */
import { openOptions } from '../test/support/veil-ui';
import type { Target } from 'puppeteer';
import type { User } from '../test/support/browser';
import { PEER, processTreeCpuSeconds, processTreeRssBytes, sleep, VIEWER } from './common';
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

/**
 * Runs in the chat page. A reader frame asks Veil for its size once its text and status are shown,
 * and Veil then sets its placeholder's height in pixels: a change the page sees. So the page counts
 * readers sized in pixels, without anything installed in the frames (see `withoutFrames`).
 */
function detector(n: number): void {
  const w = window as unknown as { __bench?: unknown; __benchWait?: (v: unknown) => void };
  if (window !== window.top) return;
  let done = false;
  const sized = () => {
    let count = 0;
    for (const h of document.querySelectorAll<HTMLElement>('veil-secure-frame[data-kind="reader"]'))
      if (h.style.height.endsWith('px')) count++;
    return count;
  };
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
    const finals = sized();
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
  new MutationObserver(check).observe(document, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-veil-isolated', 'style'],
  });
}

/**
 * Puppeteer attaches to every frame of another process and holds it until it has set up its own
 * domains and scripts there: tens of milliseconds per reader frame that no employee's browser
 * pays. The isolated browser is launched with this filter, and the readers' statuses are read
 * afterwards over a plain CDP session (readerStatuses).
 */
export const withoutFrames = (t: Target): boolean => t.type() !== 'other';

/** Final statuses of the messages in the reader frames now loaded, read by attaching to each after the timing. */
async function readerStatuses(user: User): Promise<{ frames: number; statuses: string[] }> {
  const cdp = await user.browser.target().createCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const readers = targetInfos.filter((t) => t.type === 'iframe' && t.url.endsWith('/secure-reader.html'));
    return await Promise.all(
      readers.map(async (t) => {
        const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: true });
        const s = cdp.connection()!.session(sessionId)!;
        const { result } = await s.send('Runtime.evaluate', {
          expression:
            "JSON.stringify([...document.querySelectorAll('.veil-reader')].map((r) => r.dataset.status ?? ''))",
          returnByValue: true,
        });
        await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
        return JSON.parse(String(result.value ?? '[]')) as string[];
      }),
    ).then((lists) => ({ frames: lists.length, statuses: lists.flat() }));
  } finally {
    await cdp.detach().catch(() => undefined);
  }
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
    await sleep(100); // let the previous page's teardown finish before the CPU clock starts
    const pid = user.browser.process()!.pid!;
    const cpu0 = processTreeCpuSeconds(pid);
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
    const cpuMs = (processTreeCpuSeconds(pid) - cpu0) * 1000;
    const run: IsolatedRun = { domMs: t.domMs, paintMs: t.paintMs, decrypted: t.frames, frames: t.frames, cpuMs };
    if (opts.memory) {
      run.memory = await measureMemory(page);
      const { frames, statuses } = await readerStatuses(user);
      // Readers near the view may still be loading (no status yet); every one shown must be decrypted.
      const shown = statuses.filter(Boolean);
      if (shown.length < t.frames || shown.some((x) => x !== 'decrypted'))
        throw new Error(`${t.frames} readers counted as shown, statuses: ${statuses.join(', ')}`);
      run.liveFrames = frames;
      run.browserRssBytes = processTreeRssBytes(user.browser.process()!.pid!);
    }
    return run;
  } finally {
    await page.close();
  }
}
