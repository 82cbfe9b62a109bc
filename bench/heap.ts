/**
 * `npx vite-node bench/heap.ts -- [N]`: what Veil keeps on the page's JS heap once a history of N
 * messages (default 2,000) is shown. Takes a heap snapshot of the page (main world and the content
 * script's world share the isolate) and prints the largest groups of objects by type and name, so a
 * change to the renderer's caches can be aimed at what actually costs memory.
 * Uses the existing build in VEIL_OUT_DIR (build first). `--without-veil`: the same page with no
 * extension, to subtract what the vendor's page keeps of its envelopes. `--usage-only`: only the
 * used heap size (the bench's figure), no snapshot.
 */
import { startChatServer } from '../fixtures/chat/server.mjs';
import { launchUser } from '../test/support/browser';
import { bundleText } from '../test/support/keys';
import { importBundle } from '../test/support/veil-ui';
import { benchKey, derived, history, PEER, VIEWER } from './common';

const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 2000);
const PASS = 'bench passphrase, not a secret';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

async function main() {
  const key = benchKey();
  const server = await startChatServer();
  server.seed(history(n, derived(key)).encrypted);
  // --without-veil: the same envelopes on the page with no extension (what the vendor's page keeps).
  const withVeil = !process.argv.includes('--without-veil');
  const veil = await launchUser('heap-veil', { extension: withVeil });
  try {
    if (withVeil) {
      const imported = await importBundle(veil, await bundleText([key], PASS), PASS);
      if (imported.tone !== 'ok') throw new Error(imported.text);
    }
    const page = await veil.newPage();
    await page.bringToFront();
    await page.goto(`${server.url}/?user=${VIEWER}&conv=${PEER}`);
    await page.waitForFunction(
      (k, sel) => document.querySelectorAll(sel).length >= k,
      { timeout: 120_000 },
      n,
      withVeil ? '#messages > li.message[data-veil-status]' : '#messages > li.message',
    );
    const cdp = await page.createCDPSession();
    await cdp.send('HeapProfiler.enable');
    for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
    // The figure npm run bench reports (bench/history.ts), for comparing builds quickly.
    const usage = await cdp.send('Runtime.getHeapUsage');
    console.log(`Runtime.getHeapUsage: ${(usage.usedSize / 1024).toFixed(0)} KiB used`);
    if (process.argv.includes('--usage-only')) return;
    let json = '';
    cdp.on('HeapProfiler.addHeapSnapshotChunk', (e: { chunk: string }) => (json += e.chunk));
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const snap = JSON.parse(json) as Snapshot;
    const f = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const [iType, iName, iSize, width] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size'), f.length];
    const groups = new Map<string, { count: number; bytes: number }>();
    let total = 0;
    for (let i = 0; i < snap.nodes.length; i += width) {
      const type = types[snap.nodes[i + iType]!]!;
      // The target is the JS heap: Blink's native objects (DOM, layout) are counted elsewhere.
      if (type === 'native' || type === 'hidden' || type === 'synthetic') continue;
      const rawName = snap.strings[snap.nodes[i + iName]!]!;
      const name =
        type === 'string' || type === 'concatenated string' || type === 'sliced string' ? '' : rawName.slice(0, 60);
      const k = `${type} ${name}`;
      const g = groups.get(k) ?? { count: 0, bytes: 0 };
      g.count++;
      g.bytes += snap.nodes[i + iSize]!;
      total += snap.nodes[i + iSize]!;
      groups.set(k, g);
    }
    console.log(`heap snapshot, JS objects: ${(total / 1024).toFixed(0)} KiB in all, N = ${n}`);
    for (const [k, g] of [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 40)) {
      console.log(
        `${(g.bytes / 1024).toFixed(0).padStart(7)} KiB ${String(g.count).padStart(8)}  ${k}  (${(g.bytes / n).toFixed(0)} B/message)`,
      );
    }
  } finally {
    await veil.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
