/**
 * JS heap of a page (its main world with the content script's world) and of the extension's
 * worker, sampled every 100 ms while something runs: the peak above the level before, in MiB.
 */
import type { Page } from 'puppeteer';
import type { User } from './browser';

const MiB = 1024 * 1024;

export interface HeapPeaks {
  /** Peak above the level before, MiB. */
  page: number;
  worker: number;
  /** The page's level before, MiB. */
  pageBase: number;
}

/** Starts sampling; the returned function stops it and gives the peaks. */
export async function sampleHeapPeaks(user: User, page: Page): Promise<() => Promise<HeapPeaks>> {
  const cdp = await page.createCDPSession();
  const worker = await user.worker();
  const session = (worker as unknown as { client: { send(m: string): Promise<{ usedSize: number }> } }).client;
  const read = async () => ({
    page: (await cdp.send('Runtime.getHeapUsage')).usedSize,
    worker: (await session.send('Runtime.getHeapUsage')).usedSize,
  });
  const base = await read();
  const peak = { ...base };
  let on = true;
  const loop = (async () => {
    while (on) {
      const now = await read().catch(() => base);
      peak.page = Math.max(peak.page, now.page);
      peak.worker = Math.max(peak.worker, now.worker);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    on = false;
    await loop;
    await cdp.detach().catch(() => undefined);
    return {
      page: (peak.page - base.page) / MiB,
      worker: (peak.worker - base.worker) / MiB,
      pageBase: base.page / MiB,
    };
  };
}
