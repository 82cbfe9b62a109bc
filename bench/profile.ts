/**
 * `npx vite-node bench/profile.ts -- [N] [runs]`: where the page's time goes when Veil opens a
 * history of N messages (default 2,000). Takes a CPU profile of the page's main thread (the
 * content script runs there, in its own world) and the page's own counters (script, layout,
 * style) from navigation until every message is shown, for Veil and for the plain page, and
 * prints the difference per message plus the functions that cost the most self time.
 * Uses the existing build in VEIL_OUT_DIR (build first).
 */
import { startChatServer } from '../fixtures/chat/server.mjs';
import { launchUser, type User } from '../test/support/browser';
import { bundleText } from '../test/support/keys';
import { importBundle } from '../test/support/veil-ui';
import { benchKey, derived, history, PEER, sleep, VIEWER } from './common';

const [n = 2000, runs = 3] = process.argv
  .slice(2)
  .filter((a) => /^\d+$/.test(a))
  .map(Number);
const PASS = 'bench passphrase, not a secret';
const COUNTERS = ['ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'TaskDuration', 'Nodes', 'JSHeapUsedSize'];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

async function once(user: User, url: string, selector: string, profile: boolean) {
  const page = await user.newPage();
  await page.bringToFront();
  const cdp = await page.createCDPSession();
  await cdp.send('Performance.enable');
  if (profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __phases: Record<string, number> };
    w.__phases = {};
    new MutationObserver(() => {
      const p = w.__phases;
      if (p.listed === undefined && document.querySelector('#messages > li.message')) p.listed = performance.now();
      if (p.pending === undefined && document.querySelector('.veil-badge[data-veil-status="pending"]'))
        p.pending = performance.now();
    }).observe(document, { childList: true, subtree: true });
  });
  await sleep(100);
  const before = Object.fromEntries(
    (await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value] as const),
  );
  await page.goto(`${url}/?user=${VIEWER}&conv=${PEER}`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(
    (sel, k) => document.querySelectorAll(sel).length >= k,
    { polling: 'raf', timeout: 120_000 },
    selector,
    n,
  );
  const shownAt = await page.evaluate(() => performance.now());
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
  const phases = await page.evaluate(() => (window as unknown as { __phases: Record<string, number> }).__phases);
  const nav = await page.evaluate(() => {
    const e = performance.getEntriesByType('resource').find((r) => /\/api\/history/.test(r.name));
    return { historyFetched: (e as PerformanceResourceTiming | undefined)?.responseEnd ?? NaN };
  });
  console.log(
    `  ${selector.includes('veil') ? 'veil ' : 'plain'} history fetched ${nav.historyFetched.toFixed(0)} ms, listed ${phases.listed?.toFixed(0)} ms, ` +
      `pending ${phases.pending?.toFixed(0) ?? '-'} ms, shown ≤ ${shownAt.toFixed(0)} ms`,
  );
  const after = Object.fromEntries(
    (await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value] as const),
  );
  const counters = Object.fromEntries(
    COUNTERS.map((c) => [c, (after[c] ?? 0) - (c === 'Nodes' || c === 'JSHeapUsedSize' ? 0 : (before[c] ?? 0))]),
  );
  let top: { name: string; ms: number }[] = [];
  if (profile) top = topOf((await cdp.send('Profiler.stop')).profile);
  await cdp.detach();
  await page.close();
  return { counters, top };
}

function topOf(p: { nodes: unknown[]; startTime: number; endTime: number; samples?: number[] }) {
  {
    const dt = (p.endTime - p.startTime) / 1000 / Math.max(1, p.samples?.length ?? 1);
    const self = new Map<string, number>();
    for (const node of p.nodes as ProfileNode[]) {
      const f = node.callFrame;
      const where = f.url.includes('chrome-extension://') ? 'veil' : f.url ? 'page' : 'native';
      const name = `${f.functionName || '(anonymous)'} [${where}${f.url ? `:${f.lineNumber + 1}:${f.columnNumber + 1}` : ''}]`;
      self.set(name, (self.get(name) ?? 0) + (node.hitCount ?? 0) * dt);
    }
    return [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([name, ms]) => ({ name, ms: Math.round(ms * 10) / 10 }));
  }
}

async function main() {
  const key = benchKey();
  const h = history(n, derived(key));
  const [enc, plainSrv] = await Promise.all([startChatServer(), startChatServer()]);
  enc.seed(h.encrypted);
  plainSrv.seed(h.plain);
  const veil = await launchUser('profile-veil');
  const plain = await launchUser('profile-plain', { extension: false });
  try {
    const imported = await importBundle(veil, await bundleText([key], PASS), PASS);
    if (imported.tone !== 'ok') throw new Error(imported.text);
    await once(veil, enc.url, '#messages > li.message[data-veil-status]', false); // warm
    await once(plain, plainSrv.url, '#messages > li.message', false);
    const rows: Record<string, number[]>[] = [];
    const workerTarget = await veil.browser.waitForTarget(
      (t) => t.type() === 'service_worker' && t.url().startsWith('chrome-extension://'),
    );
    const worker = await workerTarget.createCDPSession();
    await worker.send('Profiler.enable');
    await worker.send('Profiler.setSamplingInterval', { interval: 200 });
    for (let r = 0; r < runs; r++) {
      const last = r === runs - 1;
      if (last) await worker.send('Profiler.start');
      const v = await once(veil, enc.url, '#messages > li.message[data-veil-status]', last);
      if (last) {
        const { profile } = await worker.send('Profiler.stop');
        console.log('\nTop self time, extension service worker (last run, ms):');
        for (const t of topOf(profile).slice(0, 15)) console.log(`${t.ms.toFixed(1).padStart(8)}  ${t.name}`);
      }
      const p = await once(plain, plainSrv.url, '#messages > li.message', false);
      // The vendor's page showing the envelopes, no extension: what ciphertext costs the page itself.
      const e = await once(plain, enc.url, '#messages > li.message', false);
      const row: Record<string, number[]> = {};
      for (const c of COUNTERS) row[c] = [v.counters[c]!, p.counters[c]!, e.counters[c]!];
      rows.push(row);
      if (v.top.length) {
        console.log('\nTop self time, Veil page (last run, ms):');
        for (const t of v.top) console.log(`${t.ms.toFixed(1).padStart(8)}  ${t.name}`);
      }
    }
    console.log(`\nN = ${n}: Veil / plain (median of ${runs}); per message = (Veil - plain) / N`);
    for (const c of COUNTERS) {
      const med = (i: number) => rows.map((r) => r[c]![i]!).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
      const [v, p, e] = [med(0), med(1), med(2)];
      const secs = c.endsWith('Duration');
      const fmt = (x: number) =>
        secs ? `${(x * 1000).toFixed(0)} ms` : c === 'Nodes' ? x.toFixed(0) : `${(x / 1024).toFixed(0)} KiB`;
      const per = secs
        ? `${(((v - p) * 1e6) / n).toFixed(1)} µs`
        : c === 'Nodes'
          ? ((v - p) / n).toFixed(2)
          : `${((v - p) / 1024 / n).toFixed(2)} KiB`;
      console.log(
        `${c.padEnd(20)} ${fmt(v).padStart(10)} / ${fmt(p).padStart(10)}   per message: ${per}` +
          `   (envelopes, no extension: ${fmt(e)})`,
      );
    }
  } finally {
    await Promise.all([veil.close(), plain.close()]);
    await Promise.all([enc.close(), plainSrv.close()]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
