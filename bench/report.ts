/**
 * Turns one bench run into bench/results.json, bench/results.md and bench/chart.svg.
 * Targets are Veil's performance targets, listed with their verdicts in bench/results.md; each is judged on this run's figures.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { machineInfo, Stat } from './common';
import type { SizeRow } from './size';
import { type ArchiveBench, archiveReport } from './archive';
import { type KeyServiceBench, keyServiceReport } from './keyservice';
import { type AttachmentBench, attachmentsReport } from './attachments';
import { type LoungeResult, loungeReport } from './thelounge';

export interface HistoryResult {
  n: number;
  runs: number;
  /** ms from navigation start to all messages shown (next frame painted) */
  veil: Stat;
  plain: Stat;
  veilOnPlain: Stat;
  /** per-run veil / plain */
  ratio: Stat;
  ratioOnPlain: Stat;
  veilDom: Stat;
  plainDom: Stat;
  /** CPU ms of the whole browser during the load (see history.ts) */
  veilCpu: Stat;
  plainCpu: Stat;
  cpuRatio: Stat;
}

export interface BenchResults {
  quick: boolean;
  machine: ReturnType<typeof machineInfo> & { loadAverageEnd?: number[] };
  plan: unknown;
  isolated: {
    available: boolean;
    note: string;
    rows?: {
      n: number;
      inline: Stat;
      isolatedMs: Stat;
      ratio: Stat;
      /** Browser CPU (all processes) until shown, isolated and inline; absent in older results. */
      cpuMs?: Stat;
      inlineCpuMs?: Stat;
      frames: Stat;
      liveFrames: Stat;
      heapMiB: Stat;
      domNodes: Stat;
      browserRssMiB: Stat;
    }[];
  };
  size?: SizeRow[];
  history?: HistoryResult[];
  memory?: { n: number; veilMiB: Stat; plainMiB: Stat; extraMiB: Stat; veilNodes: Stat; plainNodes: Stat };
  /** Extra page heap with Veil at every history N (since 2026-12-02). */
  memoryByN?: { n: number; extraMiB: Stat }[];
  send?: { veil: Stat; plain: Stat; addedMs: number; ratio: number };
  /** History in a real chat (The Lounge); absent in older results. */
  lounge?: LoungeResult;
  idle?: {
    windowMs: number;
    veil: { pageTaskMs: Stat; pageScriptMs: Stat; workerScriptMs: Stat; processTreeCpuMs: Stat };
    plain: { pageTaskMs: Stat; pageScriptMs: Stat; processTreeCpuMs: Stat };
  };
  crypto?: { bytes: number; ops: Record<string, Stat> }[];
  /** `admin archive decrypt` in Node (bench/archive.ts). */
  archive?: ArchiveBench;
  /** Veil's key service in Node (bench/keyservice.ts). */
  keyService?: KeyServiceBench;
  /** One large file, plain vs sealed, in Chromium (bench/attachments.ts). */
  attachments?: AttachmentBench;
  durationS?: number;
  /** history loads that timed out and were run again */
  retries?: string[];
}

const f = (x: number, d = 1) =>
  Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–';
const ms = (s: Stat, d = 0) => `${f(s.median, d)} (IQR ${f(s.iqr, d)}, ${f(s.min, d)}–${f(s.max, d)})`;
const size = (b: number) => (b >= 1024 ? `${b / 1024} KiB` : `${b} B`);
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**missed**');

/** log-log slope of time against N: 1.0 is linear, 2.0 quadratic. */
function slope(a: { n: number; t: number }, b: { n: number; t: number }): number {
  return Math.log(b.t / a.t) / Math.log(b.n / a.n);
}

export function targets(r: BenchResults) {
  const h2000 = r.history?.find((h) => h.n === 2000);
  const hs = r.history ?? [];
  // Between the two largest sizes, where fixed start-up costs no longer hide how cost grows.
  const [a, b] = [hs.at(-2), hs.at(-1)];
  const growth = a && b ? slope({ n: a.n, t: a.veil.median }, { n: b.n, t: b.veil.median }) : undefined;
  const plainGrowth = a && b ? slope({ n: a.n, t: a.plain.median }, { n: b.n, t: b.plain.median }) : undefined;
  const h10000 = r.history?.find((h) => h.n === 10000);
  const short = r.crypto?.find((c) => c.bytes === 64);
  const idle = r.idle;
  const mem = r.memory;
  return {
    historyRatio2000: { value: h2000?.ratio.median, ok: h2000 ? h2000.ratio.median <= 1.5 : undefined },
    historyRatio10000: { value: h10000?.ratio.median, ok: h10000 ? h10000.ratio.median <= 1.5 : undefined },
    loungeRatio: { value: r.lounge?.ratio.median, ok: r.lounge ? r.lounge.ratio.median <= 1.25 : undefined },
    /** Extra CPU of the whole browser (page, worker, GPU...) per message at N = 2,000. */
    cpuPerMessageUs: {
      value: h2000 ? ((h2000.veilCpu.median - h2000.plainCpu.median) / h2000.n) * 1000 : undefined,
      ok: h2000 ? ((h2000.veilCpu.median - h2000.plainCpu.median) / h2000.n) * 1000 <= 50 : undefined,
    },
    heapPerMessageKiB: {
      value: mem ? (mem.extraMiB.median * 1024) / mem.n : undefined,
      ok: mem ? (mem.extraMiB.median * 1024) / mem.n <= 0.5 : undefined,
    },
    nodesPerMessage: {
      value: mem ? (mem.veilNodes.median - mem.plainNodes.median) / mem.n : undefined,
      ok: mem ? (mem.veilNodes.median - mem.plainNodes.median) / mem.n <= 1 : undefined,
    },
    // Linear: a log-log slope of at most 1.1 between the two largest N (1.0 = linear; 1.1 allows
    // 17 % more time per message at 5 times the messages, within this machine's noise).
    linear: { value: growth, plain: plainGrowth, ok: growth === undefined ? undefined : growth <= 1.1 },
    sendAddedMs: { value: r.send?.addedMs, ok: r.send ? r.send.addedMs <= 5 : undefined },
    decryptPerS: {
      value: short?.ops['veil-decrypt-path']?.median,
      ok: short ? short.ops['veil-decrypt-path']!.median >= 20_000 : undefined,
    },
    overhead2: { value: r.size?.[0]?.veil, ok: r.size ? r.size[0]!.veil <= 80 : undefined },
    // "No CPU": Veil adds no script time to a quiet page or its worker (< 1 ms per second of idling).
    idle: {
      value: idle ? idle.veil.pageScriptMs.median + idle.veil.workerScriptMs.median : undefined,
      ok: idle
        ? idle.veil.pageScriptMs.median + idle.veil.workerScriptMs.median - idle.plain.pageScriptMs.median <=
          idle.windowMs / 1000
        : undefined,
    },
  };
}

function chart(hs: HistoryResult[]): string {
  const W = 720,
    H = 400,
    L = 70,
    R = 210,
    T = 40,
    B = 50;
  const ns = hs.map((h) => h.n);
  const all = hs
    .flatMap((h) => [h.veil.min, h.veil.max, h.plain.min, h.plain.max, h.veilOnPlain.min, h.veilOnPlain.max])
    .filter((x) => x > 0);
  const [xmin, xmax] = [Math.min(...ns) / 1.5, Math.max(...ns) * 1.5];
  const [ymin, ymax] = [Math.min(...all) / 1.5, Math.max(...all) * 1.5];
  const x = (n: number) => L + ((Math.log(n) - Math.log(xmin)) / (Math.log(xmax) - Math.log(xmin))) * (W - L - R);
  const y = (t: number) => H - B - ((Math.log(t) - Math.log(ymin)) / (Math.log(ymax) - Math.log(ymin))) * (H - T - B);
  const series: { name: string; color: string; key: 'veil' | 'plain' | 'veilOnPlain'; dash?: string }[] = [
    { name: 'Veil, encrypted history', color: '#c0392b', key: 'veil' },
    { name: 'No extension, plaintext', color: '#2c3e50', key: 'plain' },
    { name: 'Veil, plaintext history', color: '#7f8c8d', key: 'veilOnPlain', dash: '5 4' },
  ];
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(
    `<text x="${L}" y="22" font-size="14" font-weight="bold">Opening a conversation of N messages (median, whiskers min–max)</text>`,
  );
  // y grid: powers of ten and halves
  for (let e = Math.floor(Math.log10(ymin)); e <= Math.ceil(Math.log10(ymax)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t < ymin || t > ymax) continue;
      out.push(`<line x1="${L}" x2="${W - R}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`);
      out.push(
        `<text x="${L - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`,
      );
    }
  }
  for (const n of ns) {
    out.push(`<line x1="${x(n).toFixed(1)}" x2="${x(n).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<text x="${x(n).toFixed(1)}" y="${H - B + 18}" text-anchor="middle">${n.toLocaleString('en')}</text>`);
  }
  out.push(
    `<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">messages in the conversation (log scale)</text>`,
  );
  out.push(
    `<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">time to all shown (log scale)</text>`,
  );
  series.forEach((s, i) => {
    const pts = hs.map((h) => `${x(h.n).toFixed(1)},${y(h[s.key].median).toFixed(1)}`).join(' ');
    out.push(
      `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    for (const h of hs) {
      const st = h[s.key];
      out.push(
        `<line x1="${x(h.n).toFixed(1)}" x2="${x(h.n).toFixed(1)}" y1="${y(st.min).toFixed(1)}" y2="${y(st.max).toFixed(1)}" stroke="${s.color}"/>`,
      );
      out.push(`<circle cx="${x(h.n).toFixed(1)}" cy="${y(st.median).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
      if (s.key === 'veil') {
        out.push(
          `<text x="${(x(h.n) + 6).toFixed(1)}" y="${(y(st.median) - 8).toFixed(1)}" fill="${s.color}">×${f(h.ratio.median, 2)}</text>`,
        );
      }
    }
    const ly = T + 20 + i * 20;
    out.push(
      `<line x1="${W - R + 12}" x2="${W - R + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(`<text x="${W - R + 42}" y="${ly + 4}">${s.name}</text>`);
  });
  out.push(`<text x="${W - R + 12}" y="${T + 90}" fill="#c0392b">×r = Veil / plain</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function writeReport(r: BenchResults, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  if (r.history?.length) writeFileSync(join(outDir, 'chart.svg'), chart(r.history));
  writeFileSync(join(outDir, 'results.md'), markdown(r, outDir));
}

function markdown(r: BenchResults, outDir: string): string {
  const t = targets(r);
  const m = r.machine;
  const L: string[] = [];
  L.push('# Veil benchmarks: results');
  L.push('');
  L.push(
    `Generated by \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${m.date} in ${r.durationS ?? '?'} s${r.quick ? ' (**quick smoke run**: N = 200 only, one run; not for judging targets)' : ''}. ` +
      'Every figure is a median over runs (spread: interquartile range, then min–max); configurations alternate run by run, ' +
      'and targets are judged on ratios measured side by side, because this machine is shared and noisy.',
  );
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push(`| CPU | cores | memory | OS | Node | Chromium | commit | load average (start → end) |`);
  L.push('|---|---|---|---|---|---|---|---|');
  L.push(
    `| ${m.cpu} | ${m.cores} | ${m.memoryGiB} GiB | ${m.os} | ${m.node} | ${m.chromium} | ${m.commit || '–'} (+ working tree) | ${m.loadAverage.join(' ')} → ${(m.loadAverageEnd ?? []).join(' ')} |`,
  );
  L.push('');
  L.push('## Targets (tightened for opening long conversations)');
  L.push('');
  L.push('| target | this run | verdict |');
  L.push('|---|---|---|');
  L.push(
    `| history at N = 2,000 within 1.5× the plain page | ${t.historyRatio2000.value === undefined ? '–' : `${f(t.historyRatio2000.value, 2)}×`} | ${verdict(t.historyRatio2000.ok)} |`,
  );
  L.push(
    `| history at N = 10,000 within 1.5× the plain page | ${t.historyRatio10000.value === undefined ? '–' : `${f(t.historyRatio10000.value, 2)}×`} | ${verdict(t.historyRatio10000.ok)} |`,
  );
  L.push(
    `| opening a real chat (The Lounge, ${r.lounge?.n ?? 99} messages) within 1.25× the plain page | ${t.loungeRatio.value === undefined ? '–' : `${f(t.loungeRatio.value, 2)}×`} | ${verdict(t.loungeRatio.ok)} |`,
  );
  L.push(
    `| ≤ 50 µs extra CPU per message (N = 2,000; whole browser, so page and worker) | ${t.cpuPerMessageUs.value === undefined ? '–' : `${f(t.cpuPerMessageUs.value, 0)} µs`} | ${verdict(t.cpuPerMessageUs.ok)} |`,
  );
  L.push(
    `| ≤ 0.5 KiB page heap per message (N = 2,000) | ${t.heapPerMessageKiB.value === undefined ? '–' : `${f(t.heapPerMessageKiB.value, 2)} KiB`} | ${verdict(t.heapPerMessageKiB.ok)} |`,
  );
  L.push(
    `| ≤ 1 extra DOM node per message (N = 2,000) | ${t.nodesPerMessage.value === undefined ? '–' : f(t.nodesPerMessage.value, 2)} | ${verdict(t.nodesPerMessage.ok)} |`,
  );
  L.push(
    `| history cost linear in N | ${t.linear.value === undefined ? '–' : `log-log slope ${f(t.linear.value, 2)} between the two largest N (plain page: ${f(t.linear.plain ?? NaN, 2)}; 1.00 = linear)`} | ${verdict(t.linear.ok)} |`,
  );
  L.push(
    `| added send latency ≤ 5 ms (median) | ${t.sendAddedMs.value === undefined ? '–' : `${f(t.sendAddedMs.value, 1)} ms`} | ${verdict(t.sendAddedMs.ok)} |`,
  );
  L.push(
    `| ≥ 20,000 short messages/s decrypted in the extension | ${t.decryptPerS.value === undefined ? '–' : `${f(t.decryptPerS.value, 0)}/s (64 B, background decrypt handler)`} | ${verdict(t.decryptPerS.ok)} |`,
  );
  L.push(
    `| ≤ 80 characters overhead, 2-character unsigned message | ${t.overhead2.value === undefined ? '–' : `${t.overhead2.value} characters`} | ${verdict(t.overhead2.ok)} |`,
  );
  L.push(
    `| no CPU while the chat is idle | ${r.idle ? `${f(r.idle.veil.pageScriptMs.median, 2)} ms page script + ${f(r.idle.veil.workerScriptMs.median, 2)} ms worker script per ${r.idle.windowMs / 1000} s` : '–'} | ${verdict(t.idle.ok)} |`,
  );
  L.push('');

  L.push(...ANALYSIS);

  if (r.history?.length) {
    L.push('## History: open a conversation of N messages');
    L.push('');
    L.push(
      "Time from navigation start until every message is shown, in the page's own clock, up to the next frame after the last " +
        "DOM change (so layout and paint are included). **Veil**: bob's DM with alice where every message is a Veil envelope, " +
        'until every `li.message` has a final `data-veil-status` (all were checked to be `decrypted`). **Plain**: the same ' +
        'messages in plaintext, Chromium without the extension. **Veil on plaintext**: the extension on the plaintext page ' +
        '(scan + "not encrypted" flags: the cost of Veil without decryption). The history is served by the fixture server\'s ' +
        '`seed()`; envelopes are made in Node with lib/crypto and a key imported into the extension through the options page.',
    );
    L.push('');
    L.push(
      '| N | runs | plain, ms | Veil, ms | **ratio Veil / plain** | Veil on plaintext / plain | browser CPU, plain / Veil, ms | CPU ratio |',
    );
    L.push('|---|---|---|---|---|---|---|---|');
    for (const h of r.history) {
      L.push(
        `| ${h.n.toLocaleString('en')} | ${h.runs} | ${ms(h.plain)} | ${ms(h.veil)} | **${f(h.ratio.median, 2)}** (${f(h.ratio.min, 2)}–${f(h.ratio.max, 2)}) | ${f(h.ratioOnPlain.median, 2)} | ${f(h.plainCpu.median, 0)} / ${f(h.veilCpu.median, 0)} | ${f(h.cpuRatio.median, 2)} |`,
      );
    }
    L.push('');
    L.push(
      "*Browser CPU*: CPU time of all of the browser's processes (page, extension service worker, GPU, browser) from just " +
        'before navigation until shown, from /proc (10 ms resolution). Wall time is what the target is about; CPU time hardly ' +
        'moves when other work competes for the two cores, so it is the steadier way to compare runs on this shared machine.',
    );
    L.push('');
    if (r.history.length >= 2) {
      L.push('Growth with N (log-log slope of the median time between consecutive N; 1.00 = linear):');
      L.push('');
      L.push('| from → to | Veil | plain | extra time Veil adds, per message |');
      L.push('|---|---|---|---|');
      for (let i = 1; i < r.history.length; i++) {
        const a = r.history[i - 1]!;
        const b = r.history[i]!;
        const extra = (b.veil.median - b.plain.median - (a.veil.median - a.plain.median)) / (b.n - a.n);
        L.push(
          `| ${a.n.toLocaleString('en')} → ${b.n.toLocaleString('en')} | ${f(slope({ n: a.n, t: a.veil.median }, { n: b.n, t: b.veil.median }), 2)} | ${f(slope({ n: a.n, t: a.plain.median }, { n: b.n, t: b.plain.median }), 2)} | ${f(extra * 1000, 0)} µs |`,
        );
      }
      L.push('');
    }
    L.push('![History benchmark](chart.svg)');
    L.push('');
  }

  if (r.lounge) L.push(...loungeReport(r.lounge));

  if (r.send) {
    L.push('## Send: Enter to the request leaving the page');
    L.push('');
    L.push(
      "The trusted Enter keydown's timestamp (read by a listener installed before any other script) to the `fetchStart` of " +
        "POST /api/messages (Resource Timing), both in the page's clock; one sample per message, configurations alternating in rounds.",
    );
    L.push('');
    L.push('| | median ms (IQR, min–max) | samples |');
    L.push('|---|---|---|');
    L.push(`| plain, no extension | ${ms(r.send.plain, 1)} | ${r.send.plain.n} |`);
    L.push(`| Veil | ${ms(r.send.veil, 1)} | ${r.send.veil.n} |`);
    L.push(`| **added by Veil** | **${f(r.send.addedMs, 1)} ms** (ratio ${f(r.send.ratio, 0)}×) | |`);
    L.push('');
  }

  if (r.crypto) {
    L.push("## Crypto: throughput in the extension's service worker");
    L.push('');
    L.push(
      "Operations per second (median of repeats), measured inside the extension's background by evaluating a bench-only bundle " +
        '(bench/crypto-sw.ts, esbuild) in the service worker over CDP. *Veil*: `sealMessage` + `encodeEnvelopeText`, and ' +
        "`findEnvelopes` + `openMessage`. *Veil, decrypt handler*: the background's real `decrypt` request handler with the real " +
        'keyring (IndexedDB, key imported through the options page), in batches as the renderer sends them (1,000 short messages). ' +
        "*OpenPGP.js* 6.3.2 in the same worker: *symmetric* = a pre-shared AES-256 session key (the same job as Veil's shared " +
        'key: no key exchange), *public key* = encrypted to one Curve25519 key (what Mailvelope does); armored text in and out.',
    );
    L.push('');
    L.push(
      '| size | Veil encrypt | Veil decrypt | Veil decrypt handler | OpenPGP sym. encrypt | OpenPGP sym. decrypt | OpenPGP pk. encrypt | OpenPGP pk. decrypt | decrypt ratio Veil / OpenPGP sym. | / OpenPGP pk. |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const c of r.crypto) {
      const o = (k: string) => c.ops[k]!.median;
      L.push(
        `| ${size(c.bytes)} | ${f(o('veil-encrypt'), 0)} | ${f(o('veil-decrypt'), 0)} | ${f(o('veil-decrypt-path'), 0)} | ${f(o('pgp-sym-encrypt'), 0)} | ${f(o('pgp-sym-decrypt'), 0)} | ${f(o('pgp-pk-encrypt'), 0)} | ${f(o('pgp-pk-decrypt'), 0)} | ${f(o('veil-decrypt') / o('pgp-sym-decrypt'), 1)}× | ${f(o('veil-decrypt') / o('pgp-pk-decrypt'), 1)}× |`,
      );
    }
    L.push('');
    const big = r.crypto.find((c) => c.bytes === 65536);
    if (big) {
      const mbs = (k: string) => f((big.ops[k]!.median * 65536) / 2 ** 20, 1);
      L.push(
        `At 64 KiB: Veil encrypts ${mbs('veil-encrypt')} MiB/s and decrypts ${mbs('veil-decrypt')} MiB/s of plaintext ` +
          `(OpenPGP.js symmetric: ${mbs('pgp-sym-encrypt')} / ${mbs('pgp-sym-decrypt')} MiB/s). Encrypt/decrypt ratios Veil / OpenPGP sym.: ` +
          r.crypto
            .map(
              (c) =>
                `${size(c.bytes)} ${f(c.ops['veil-encrypt']!.median / c.ops['pgp-sym-encrypt']!.median, 1)}× / ${f(c.ops['veil-decrypt']!.median / c.ops['pgp-sym-decrypt']!.median, 1)}×`,
            )
            .join(', ') +
          '.',
      );
      L.push('');
    }
  }

  if (r.size) {
    L.push('## Size: wire overhead in characters');
    L.push('');
    L.push(
      'Characters on the wire minus characters typed (ASCII text). Veil: v1 envelope, context binding included (sender and ' +
        "conversation tags, time, message id); *signed* adds the sender's Ed25519 signature. OpenPGP.js 6.3.2: armored message " +
        "encrypted to one Curve25519 key; *signed* = also signed by the sender's Curve25519 (EdDSA) key.",
    );
    L.push('');
    L.push('| message | Veil | Veil signed | OpenPGP.js | OpenPGP.js signed | Veil / OpenPGP |');
    L.push('|---|---|---|---|---|---|');
    for (const s of r.size) {
      L.push(
        `| ${s.chars.toLocaleString('en')} characters | ${s.veil} | ${s.veilSigned} | ${s.pgp} | ${s.pgpSigned} | ${f(s.veil / s.pgp, 2)} (signed ${f(s.veilSigned / s.pgpSigned, 2)}) |`,
      );
    }
    L.push('');
  }

  if (r.memory) {
    L.push(`## Memory: page JS heap after showing ${r.memory.n.toLocaleString('en')} messages`);
    L.push('');
    L.push(
      "`Runtime.getHeapUsage` of the page's isolate (main world and the content script's isolated world) after three forced " +
        'garbage collections (`HeapProfiler.collectGarbage`), once all messages are shown; DOM nodes from `Performance.getMetrics`.',
    );
    L.push('');
    L.push('| | JS heap used, MiB | DOM nodes |');
    L.push('|---|---|---|');
    L.push(`| plain, no extension | ${ms(r.memory.plainMiB, 2)} | ${f(r.memory.plainNodes.median, 0)} |`);
    L.push(`| Veil | ${ms(r.memory.veilMiB, 2)} | ${f(r.memory.veilNodes.median, 0)} |`);
    L.push(
      `| **extra with Veil** | **${f(r.memory.extraMiB.median, 2)} MiB** (${f((r.memory.extraMiB.median * 2 ** 20) / r.memory.n / 1024, 2)} KiB per message) | +${f(r.memory.veilNodes.median - r.memory.plainNodes.median, 0)} |`,
    );
    L.push('');
    const byN = [...(r.memoryByN ?? [])].sort((a, b) => a.n - b.n);
    if (byN.length >= 2) {
      // A line through the two smallest N: its slope is what a message adds, its intercept what
      // Veil costs a page whatever N (its code, compiled, and the content script's world).
      const [a, b] = [byN[0]!, byN[1]!];
      const perMessageKiB = ((b.extraMiB.median - a.extraMiB.median) * 1024) / (b.n - a.n);
      const fixedKiB = a.extraMiB.median * 1024 - perMessageKiB * a.n;
      L.push(
        'The same extra heap at every history N (median of runs): ' +
          byN.map((x) => `N = ${x.n.toLocaleString('en')}: ${f(x.extraMiB.median, 2)} MiB`).join(', ') +
          `. Between N = ${a.n.toLocaleString('en')} and ${b.n.toLocaleString('en')} each message adds ` +
          `**${f(perMessageKiB * 1024, 0)} B**, and about **${f(fixedKiB, 0)} KiB** is there whatever N ` +
          `(${f(fixedKiB / r.memory.n, 2)} KiB of the per-message figure at N = ${r.memory.n.toLocaleString('en')}).`,
      );
      L.push('');
    }
  }

  if (r.idle) {
    const i = r.idle;
    L.push('## Idle: an open chat nobody uses');
    L.push('');
    L.push(
      `A conversation of 200 messages, fully shown, then ${i.windowMs / 1000} s windows of silence (median of windows). Page: CDP ` +
        '`Performance.getMetrics` deltas (main-thread tasks and script). Worker: JavaScript samples in the extension service worker ' +
        '(CDP Profiler, 1 ms sampling; idle and native samples excluded; in windows of their own, since the sampler costs CPU itself). ' +
        "Process tree: CPU time of all of the browser's processes (/proc, 10 ms resolution).",
    );
    L.push('');
    L.push('| | page tasks, ms | page script, ms | service worker script, ms | browser process tree CPU, ms |');
    L.push('|---|---|---|---|---|');
    L.push(
      `| plain, no extension | ${ms(i.plain.pageTaskMs, 2)} | ${ms(i.plain.pageScriptMs, 2)} | – | ${ms(i.plain.processTreeCpuMs, 0)} |`,
    );
    L.push(
      `| Veil | ${ms(i.veil.pageTaskMs, 2)} | ${ms(i.veil.pageScriptMs, 2)} | ${ms(i.veil.workerScriptMs, 2)} | ${ms(i.veil.processTreeCpuMs, 0)} |`,
    );
    L.push('');
  }

  L.push('## Isolated mode: history of N messages, isolated vs inline');
  L.push('');
  const iso = r.isolated;
  if (iso.available && iso.rows?.length) {
    L.push(
      "Isolated mode switched on for the fixture chat in the options page (the user's per-site choice; enforcing it by " +
        'policy needs machine-wide Chromium policy, which this shared machine must not get), in a third browser with the same key. ' +
        'The page never holds plaintext: every envelope gets a fixed-height placeholder, and only placeholders near the view get ' +
        'a reader; the messages that come into view together share one reader frame (lib/page/isolated/readers.ts, ' +
        'reader-ranges.ts). *Shown* = every envelope processed (hidden) and at least as many messages final in readers as ' +
        'messages in view. A reader asks Veil for its size once its text and status are shown, and Veil then sets ' +
        "its placeholder's height in pixels, which the page sees: that is the signal, so nothing is installed in the frames, and " +
        'Puppeteer does not attach to them (it would hold each new frame until it had set itself up there, a cost no employee ' +
        "pays); after the timing the readers' statuses are read over CDP and must all be `decrypted`. Inline = the Veil figure " +
        'of the same run; *browser CPU* as in the history table. Memory once shown: reader frames in the page, the page JS heap (as in the ' +
        'memory table), and the resident memory of all browser processes (page, extension frames, worker, GPU; /proc RSS, shared pages counted per process).',
    );
    L.push('');
    L.push(
      '| N | inline, ms | isolated, ms | **ratio isolated / inline** | browser CPU, inline / isolated, ms | messages final in readers when shown | reader frames in the page | page JS heap, MiB | DOM nodes | browser RSS, MiB |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const row of iso.rows) {
      L.push(
        `| ${row.n.toLocaleString('en-US')} | ${ms(row.inline)} | ${ms(row.isolatedMs)} | **${f(row.ratio.median, 2)}** (${f(row.ratio.min, 2)}–${f(row.ratio.max, 2)}) | ${row.cpuMs && row.inlineCpuMs ? `${f(row.inlineCpuMs.median, 0)} / ${f(row.cpuMs.median, 0)}` : '–'} | ${f(row.frames.median, 0)} | ${f(row.liveFrames.median, 0)} | ${f(row.heapMiB.median, 2)} | ${f(row.domNodes.median, 0)} | ${f(row.browserRssMiB.median, 0)} |`,
      );
    }
  } else {
    L.push(`**Pending**: ${iso.note}`);
  }
  L.push('');

  const fixesFile = join(outDir, 'before-fixes.json');
  if (existsSync(fixesFile)) {
    const fixes = JSON.parse(readFileSync(fixesFile, 'utf8')) as {
      fix: string;
      what: string;
      before: string;
      metric?: string;
      after?: string;
    }[];
    L.push('## Fixes made for the targets: before / after');
    L.push('');
    L.push(
      '"Before" figures are from the same bench on the code before the change (bench/before-fixes.json, several runs on ' +
        'this loaded machine, so given as ranges of run medians); "after" is this run unless it says otherwise.',
    );
    L.push('');
    L.push('| fix | figure | before | after (this run) |');
    L.push('|---|---|---|---|');
    for (const x of fixes)
      L.push(`| ${x.fix} | ${x.what} | ${x.before} | ${x.after ?? afterFigure(r, x.metric ?? '')} |`);
    L.push('');
  }

  if (r.archive) L.push(...archiveReport(r.archive));
  if (r.keyService) L.push(...keyServiceReport(r.keyService));
  if (r.attachments) L.push(...attachmentsReport(r.attachments));

  L.push('## How to read and rerun');
  L.push('');
  L.push(
    '`npm run bench` (5–10 minutes on 2 cores, depending on load) or `npm run bench -- --quick` (smoke, under a minute). The extension is built ' +
      'into `VEIL_OUT_DIR` (default `.output`). Raw samples: results.json. Absolute times move with the load of this shared ' +
      'machine (see the load average); ratios measured side by side are the figures to compare across runs.',
  );
  L.push('');
  return L.join('\n');
}

/** What the profiles taken while building the bench showed (Chromium trace + CPU profiles; not re-measured per run). */
const ANALYSIS = [
  '## Why the misses (profiles: bench/profile.ts and bench/heap.ts, 2026-11-30)',
  '',
  '**History (≤ 1.5× at N = 2,000 and 10,000; missed until 2026-12-02).** `npx vite-node bench/profile.ts -- 2000` opens the history with ' +
    "Veil, on the plain page, and on the vendor's page showing the envelopes without any extension, and reads the page's own " +
    'counters and CPU profiles of the page and of the service worker. Three findings. (1) The envelopes alone cost the vendor ' +
    "page about twice the plain page's main-thread time (581 ms against 278 ms; layout 292 ms against 87 ms at N = 2,000): the " +
    'fixture lays the whole list out when it scrolls to the bottom, with the envelopes in it, long unbreakable base58 words that ' +
    "the shaper cannot cache as it does plaintext words. Veil's content script runs only after that (mutation observers are " +
    "called after the page's own script), so this is the price of ciphertext in the vendor's DOM, not of Veil's work, and it puts " +
    'the floor near 2× on this fixture. (2) Before this round the largest item was the wait for the background: the decrypt ' +
    'handler judged every message against the persistent replay log with two awaited IndexedDB reads each (a database round trip ' +
    'per read: 1.5–2.8 s between "Decrypting…" and the plaintext at N = 2,000, with `get` 375 ms of the worker\'s own time). The ' +
    'reads of a batch now go out together (0.7 s, `get` 65 ms). (3) What Veil itself adds on the page is now two passes over the ' +
    'list: "Decrypting…" in place of every envelope inside the mutation callback (kept on purpose: no frame may show an envelope, ' +
    'test/e2e/living.test.ts), then the plaintext, each followed by a layout of the list (together about 190 ms of layout at ' +
    'N = 2,000), plus about 55–110 µs of script per message (scan, base58 decoding to find chunk headers, badge elements). ' +
    "Options left: keep the envelopes out of the host's first layout (per-site hooks into how the chat loads history, or " +
    '`content-visibility` on message bodies, which changes how the vendor\'s list scrolls), and drop the "Decrypting…" pass for a ' +
    'history whose answer comes within a frame or two (what living.test.ts and i18n.test.ts assert would have to change). The ' +
    "wall ratio moves a lot with the load of this shared machine (Veil's work spans the page, the worker and the browser " +
    'process on two cores); the A/B rows in the table below were measured side by side. Since 2026-12-02 a decrypted message ' +
    "costs one DOM node and Veil's page script at N = 2,000 fell from about 280 ms to about 185 ms (A/B below); the ratio " +
    'moved from 1.88× to 1.61× in the full run. What remains, timed inside the content script (2026-12-02): the round trip ' +
    'to the background for the 2,000 envelopes takes 160–300 ms once the history is warm (480 ms cold), while the page ' +
    "runs its own script after listing the history (its reply counts and buttons, 250 ms of the page's own self time), and " +
    'painting the answers takes 70–90 ms. Options left: decrypting the messages in view first and painting them at once ' +
    '(the target counts the last message, so this helps the user more than the ratio), and fewer bytes each way per message.',
  '',
  '**Per-message CPU, memory and DOM nodes.** Browser CPU per message counts every process (page, service worker with its ' +
    'IndexedDB work, GPU), so it is stricter than page CPU; the page alone (bench/profile.ts) spends about 55–110 µs of script ' +
    'and 90 µs of layout per message above the envelope page. JS heap: answers are cached by the envelope string the page already ' +
    'holds, not a new key string per message, and repeated fields share one string (bench/heap.ts: strings 661 → 369 B per ' +
    'message); what remains per message is the answer itself (plaintext, message id, signature facts), the envelope kept for ' +
    're-decrypting after a keyring change, and the element wrappers. DOM nodes (met since 2026-12-01): a decrypted ' +
    "message used to show `.veil-rendered` > (`.veil-plain` > text, `.veil-badge` > text) in place of the envelope's text " +
    "node, +3 to +4 nodes; it now shows its words as one text node in the chat's own element and an empty badge after it, " +
    'whose words the stylesheet draws from `data-veil-label` (`::after`), with its detail in `title` and `aria-label` (role ' +
    '`img`): +1. The same round took two per-change costs off the page (bench/profile.ts, N = 2,000, A/B in the table ' +
    "below): the watch on the chat's preview places looked around every DOM change, Veil's own paints included (it now " +
    'searches the page once when a callback carries more than 64 changes), and every badge asked the browser for the same ' +
    'strings again (answers are now kept, bounded).',
  '',
  '**History and memory, second round (2026-12-02).** Two findings from profiles at N = 10,000 and a heap snapshot at ' +
    "N = 2,000. (1) Veil's own search for new messages was quadratic: it looked for messages under each added element, and " +
    'Chromium answers an id-anchored selector such as `#thread-messages > li.message` under a message by walking the whole ' +
    "list (a micro-benchmark: 10 ms for 2,000 elements, 360 ms for 10,000). At N = 10,000 it was 1.1 s of the page's main " +
    "thread; a callback of more than 64 changes is now one search of the page, and Veil's page script fell from 1,816 to " +
    '1,003 ms. The N = 10,000 ratio went from 2.00× (full run before) to 1.49× and 1.55× in the two full runs after it (CPU ' +
    'ratio 2.09 → 1.60 and 1.81). At N = 2,000 this round measured 1.44, 1.79 and 1.41× against 1.60, 1.72 and 1.59× for ' +
    "the code before it, side by side (table below); the full run drew a loaded moment. What still grows faster than N there is the fixture's own work: it looks each new message up with a query over " +
    "the whole list (showReplyCount: 3.2 s of the plain page's 4.3 s at N = 10,000), and in the page with Veil the same " +
    "function took 5.1–5.4 s in three profiles, with or without Veil's layout hints; why the same page work is slower there " +
    'is not explained yet. Style recalculation is the other part: 1.2–1.4 s with Veil against 0.2 s at N = 10,000. (2) The ' +
    'page heap: Veil kept four maps and an object or two per fact for every text element, arrays for the usual single ' +
    'envelope, and a second copy of each plaintext (read back from the text node it had just written). It now keeps one ' +
    'record per element, no arrays for one envelope, the words it wrote, and at most 4,000 answers for re-renders (a page ' +
    'could make up envelopes without end; a message still shown is judged by its own answer when a key changes): 1.02 → 0.80 ' +
    'KiB per message side by side. What remains per message (bench/heap.ts): the answer (an object of about 60 B, the ' +
    'message id, 44 B, and the plaintext), the element record (52 B), the in-page replay check (the message id mapped to ' +
    "the chat's id for the message, about 60 B), map entries, the JS wrappers of the four elements Veil touches (64 B; a fifth, the NodeList Veil read its children " +
    'from, 16 B, is gone since 2026-12-02: children are walked) and ' +
    "the envelope text (an external string, 14 B); Veil's compiled code adds a fixed ~190 KiB (0.1 KiB per message at " +
    'N = 2,000). The option left for 0.5 KiB is to keep answers only for messages near the view and ask the background ' +
    'again when one scrolls back (a round trip on scroll-back instead of memory).',
  '',
  '**Opening a real chat (The Lounge, ≤ 1.25×), until 2026-12-02.** The Lounge shows 99 messages when it opens, so its ratio is ' +
    "about Veil's fixed cost on a page, not a cost per message: about 100–150 ms. Four history-only runs of 9 pairs on a " +
    'quiet machine gave 1.24–1.26×, the full runs 1.38× (this machine was busier then). Timed inside the page (three openings): The Lounge lists the ' +
    "messages 40–60 ms later with Veil (the content script runs before the page's own scripts and blocks its parsing while " +
    'it starts), "Decrypting…" replaces them 55–65 ms after they are listed, and the plaintext follows 50–80 ms later. A CPU ' +
    "profile of one opening puts Veil's own script at about 95 ms: 15–25 ms evaluating the content script, 16–20 ms making " +
    "the time formatter for the badges' detail (the browser loads its locale data; making it ahead, in idle time, did not " +
    'move the ratio in four side-by-side runs, so it was not kept) and about 10 ms of string lookups. Options left: a ' +
    'smaller content script at document_start (the send guards) with the rest started once the site is known.',
  '',
  '**Opening, 2026-12-02: Veil ran five times per opening.** A CPU profile of The Lounge opening with Veil showed the ' +
    'content script evaluated five times in the page. The background injects it into open tabs that the registration ' +
    'missed (tabs restored at start-up), and it did so on every load event of the tab: loading, complete, and again for each ' +
    "move in the chat's history (The Lounge changes its address as it opens a channel). Each time the whole script ran on " +
    "the page's main thread while the page loaded, only to stand down (one Veil per document). The background now asks " +
    "the tab first, in Veil's own world, and injects only where Veil does not run (test/e2e/living.test.ts counts the runs: " +
    '9 on the code before, now 1 or 2). The same profile, timed inside the content script, put 17–18 ms on making the ' +
    "badges' time formatter (the page's first Intl date formatter) on the way to the first decrypted message, and 5.5 ms " +
    'on the first string lookup while the page was still parsing. Message times are now written as local date and time in ' +
    "ISO 8601 order (2026-12-02 08:05:03, which no reader takes for 12 February) from the date's own fields, and those " +
    'strings are looked up when first needed. Side by side (alternating The Lounge runs of 9 pairs): 1.29, 1.28, 1.37, ' +
    '1.18 and 1.30× before; 1.17 and 1.27× with the injection change alone, then 1.18, 1.19 and 1.20×; the extra browser ' +
    'CPU of an opening went from 190–320 ms to 130–200 ms. The fixture chat gains less, its page work being longer (history ' +
    'at N = 2,000: 1.66, 1.70 and 1.67× before, 1.66, 1.63 and 1.58× after); isolated mode at N = 200 took 1,336 and ' +
    '1,166 ms before and 1,076 and 1,039 ms after (every reader frame formatted its time too). The full run after these ' +
    'changes met the three history targets at their edge (N = 2,000: 1.49×, N = 10,000: 1.50×, The Lounge: 1.23×); ' +
    "on this shared machine a run's load moves such ratios by more than that margin. Isolated mode at N = 2,000 took as long " +
    'as before (2,003 ms against 2,017 ms), but inline got faster, so its ratio rose from 2.39× to 2.59×.',
  '',
  '**Send (≤ 5 ms added: missed).** Requests from the content script now travel over one long-lived port to the background ' +
    '(lib/messaging/client.ts; the background routes them through the same router and caller checks), instead of a new ' +
    'message channel per request; in a back-to-back A/B run the added latency went from 10.2 to 9.9 ms, within the noise of this machine, so the channel set-up was not where the time goes. The rest is on the composer side (putting the ' +
    "envelope into the chat's box and confirming that the app kept it, fail closed, then re-triggering the chat's own send) " +
    'and task hops on a loaded machine; lib/page/composer.ts owns those waits. Timed inside the content script (2026-12-01, ' +
    "12 sends): the background's encrypt handler takes 0.2–0.5 ms; the round trip to it 2–9 ms; writing the envelope 1 ms; " +
    'the task hop that confirms the chat kept it 0.2–13 ms, depending on what the page renders then. Checking a textarea once ' +
    'more after one task instead of two changed nothing measurable, and sealing ahead while the user pauses took the round ' +
    'trip off the path but only about 1.4 ms off the median (before/after table). What is left is that confirming hop: the ' +
    "chat's own work after the envelope is written (its input handlers, a rendering update) runs before it. It is what keeps " +
    'a send fail closed (an editor whose model refused the envelope would otherwise send the text in its model, the ' +
    "plaintext), so it stays; the 5 ms target is below what this fixture's page does in that task on this machine.",
  '',
  '**Send, 2026-12-02: why the confirming hop waited.** Timed inside the content script and in a Chromium trace: the ' +
    "task one hop after the envelope is written waits for the page's next frame. After an input, Chromium holds the page's " +
    "timers until it has rendered (the port's answer and other messages still run; the timer did not, with the main thread " +
    'idle), so the hop costs the time to the next vsync plus the frame itself (about 4 ms here, most of it the commit). The ' +
    'send guard used to write "Encrypting…" under the composer the moment Enter was pressed: that asked for a frame of its ' +
    'own, and the hop after the envelope then waited for a second one. The line now says "Encrypting…" only if a send takes ' +
    'longer than 150 ms (a key fetched from the key service) and "Sending encrypted…" goes in with the envelope: one frame ' +
    'per send. Side by side (3 alternating send-only runs of 60 sends each), the added median went from 11.0, 10.7 and ' +
    '13.6 ms to 5.3, 7.4 and 9.1 ms. What is left is that one frame: a check that the chat kept the envelope must run after ' +
    "the page's own tasks of that input (a model that reverts the box does so in one; test/support/editor-cases.ts " +
    '"revert-envelope" on every fixture editor), and Chromium runs those only after the frame. A posted-message task for ' +
    "that check (not ordered after the page's timers, so weaker) was tried and was not faster either (14.0 and 11.0 ms in " +
    'two runs), so it was not kept.',
  '',
  '**Archive (≥ 50,000 messages/s in Node).** A CPU profile of `--jobs 2` (main thread plus two workers on two cores) showed ' +
    "the worker's time in noble's per-call set-up (key and nonce copies, word views), not in the cipher; the workers now open " +
    "envelopes through Node's OpenSSL (the same XChaCha20-Poly1305 construction, checked against the draft's vector and " +
    'noble), which halves the cost of opening a short message, and get their lines as moved bytes. Per message, about 38 µs ' +
    'of CPU remain over three threads: in a worker, parsing the JSON line (1 µs), base58 decoding (2 µs), opening (6 µs, most ' +
    "of it Node's cipher set-up) and the verdict's fields (4 µs); on the main thread, the replay and quote bookkeeping, the " +
    'status label and the output line (about 10 µs), and garbage collection (13 % of every thread). Two cores give 2 CPU-s ' +
    'per second, so 50,000/s needs at most 40 µs per message with both cores fully used: the run below sits at that edge, and ' +
    'the load of this shared machine decides which side of it a run lands on.',
  '',
  '**Archive, 2026-12-02.** This machine ran slower that day: the archive code of the run that met the target (8b83260), ' +
    'run again beside this one, gave 53,181/s in a scratch copy under /tmp and 40,465/s in the working tree, and this ' +
    "commit's code 42,881–47,116/s in four runs; the archive's code did not change since the run that met it.",
  '',
  '**Decrypt handler rate (≥ 20,000/s).** Since the 2026-11-25 run the handler also records every decrypted message in the ' +
    'persistent replay log (IndexedDB) before it answers, and the figure includes that; the cipher alone is the "Veil decrypt" ' +
    'column. The log now reads a batch in one round, and hashes each place once per batch (2026-12-02, evening, below: ' +
    '23,600/s to 34,600/s side by side).',
  '',
  "**Crypto.** OpenPGP.js is often quoted at about 300 public-key messages/s (Node); in Chromium's service worker OpenPGP.js " +
    '6.3.2 decrypts about 4,500/s (WebCrypto X25519 and AES). On short messages Veil decrypts about 4× as fast as OpenPGP.js with ' +
    'a shared session key and about 14× as fast as public-key OpenPGP.js; at 64 KiB both are bound by the cipher and decrypt ' +
    "at about the same speed, and Veil encrypts at about half OpenPGP.js's speed (XChaCha20-Poly1305 in JavaScript plus the " +
    "base58 text encoding, against WebCrypto's native AES).",
  '',
  '**Isolated mode** cost about 10× inline on 200 messages, and 2,000 did not finish within 60 s: every envelope got an ' +
    "iframe at once (loaded lazily, but an iframe in the DOM costs milliseconds to create: 1.3 s of the page's script at " +
    'N = 200 in a CPU profile). Now every envelope gets a fixed-height placeholder and only placeholders near the view hold a ' +
    'reader frame (at most 48; unloaded when far from the view), so the cost is a screenful of frames whatever N is. What ' +
    'remains per frame is one extension document and its grant (the background decrypts and checks replay per reader).',
  '',
  '**Isolated mode, what is left (2026-12-01).** A Chromium trace of one N = 200 load (bench readers, 17 frames) shows where ' +
    "a reader frame's time goes: its navigation, not its script. Each out-of-process extension frame costs about 45 ms on the " +
    "browser process's main thread (navigation throttles, frame-host selection, commit), 15–20 ms on the extension renderer " +
    "(commit, parse) and about 10 ms on the page (child frame creation, swap to a remote frame), and every frame's requests " +
    'queue behind the others on the busy browser thread (a reader page used to need four files; the slowest took 300–600 ms ' +
    'to arrive). Three changes cut the wait: the frames in view load first and at once (one layout read when they are placed, ' +
    'not at the next rendering update, which the loading page held back by 100 ms or more), the ones near the view wait until ' +
    'those have loaded, and a reader page is one classic script with its styles, navigated once (URL set before it is ' +
    'attached). The in-view readers at N = 200 (about 10) are still final only 750–900 ms after navigation, against about ' +
    '200 ms for the whole inline page: about 70 ms of browser-wide CPU per frame on two cores. The option left is fewer ' +
    'frames: one reader per visible range (one frame laid over the list, clipped to the message places and kept in step ' +
    'with layout), at the price of messages read out of their place in the page for screen readers. Measured again on ' +
    '2026-12-02: per process, one N = 200 load with 17 reader frames costs the browser process about 1 s of CPU (its main ' +
    'thread: about 55 ms per frame in navigation and commit messages), the extension process (reader frames and the ' +
    'service worker) about 0.5 s and the page about 0.5 s, against about 0.43 s for the whole inline load. Neither test ' +
    'instrumentation nor the near-view frames explain it: with Puppeteer kept off the reader frames the ratio went from ' +
    '4.69× to 4.13× (the bench now runs that way), with no CDP domain enabled on the page either it was 3.0–5.3×, and ' +
    'holding the near-view frames back until the ones in view were sized changed nothing (not kept).',
  '',
  '**Isolated mode, 2026-12-02: one frame for the messages in view.** The option above, built: the messages that come ' +
    "into view together share one reader frame, placed in the first one's placeholder, reaching over the others and clipped " +
    "(clip-path) to their places, which also keeps the page's own content between them clickable; the content script moves " +
    'the messages inside it when the layout changes, over a MessagePort only it holds, and hit-tests every place before and ' +
    "after, so a message the frame would not show on top at (a clipping bubble, a layer of the page's, a pinned message) " +
    'gets a frame of its own (lib/page/isolated/reader-ranges.ts). Opening a 200-message history now loads one frame for ' +
    'the 10–12 messages in view, then one for each of the few near it, after those in view are shown. Placeholders became ' +
    'the bare element (no shadow root, style or iframe until a reader loads there: 38,809 to 30,842 DOM nodes at N = 2,000), ' +
    "and a reader frame starts loading while its tokens are made when the reader page's address is known. Timed inside the " +
    'content script (N = 200, two openings): the shared frame is asked for 370–450 ms after navigation (the page loading ' +
    "and Veil's placeholders), its 11–12 tokens take 50–130 ms, the frame loads 95–450 ms later, and every message in it " +
    'is sized 100–330 ms after that (one redeem, decrypt and replay check per message in the worker, and one size message ' +
    'each). History-only runs of 5–7 on this machine, one after another, as the change grew: N = 200 1.71, 2.48, 2.57, 2.12, ' +
    '2.19×; N = 2,000 2.52, 1.68, 1.44, 1.40, 1.46, 1.81× (inline itself moved between 306 and 442 ms at N = 200 in those ' +
    "runs). The price is for screen readers: they read the frame's messages in order at the first one (docs/isolated-mode.md).",
  '',
  '**The full run of 2026-12-02 18:15 ran on another processor** (an Intel Xeon; the earlier runs that day on an AMD ' +
    'EPYC, both two cores), and the inline targets met at their edge in the 09:20 run (history at N = 2,000, The Lounge) ' +
    "and the decrypt handler rate missed in it. No inline code changed between the two runs but the request port's " +
    'acknowledgement (lib/messaging/client.ts), whose send A/B showed no cost. Side by side right after that run, ' +
    "history-only at N = 2,000, 5 runs each: the 09:20 run's commit (3e36dde) 1.62× inline and 2.63× isolated (3,267 ms " +
    'vs 1,240 ms), this commit 1.45× inline and 1.57× isolated (2,016 ms vs 1,284 ms).',
  '',
  "**The service worker's part of opening a history (2026-12-02, evening).** Timed inside the port handler (N = 2,000, " +
    'shown again): the content script sends its two batches of 1,000 together, but the worker handles one at a time, and ' +
    'the second waited 100–135 ms for the first. A CPU profile of the worker (unminified build, 50 µs sampling) put about ' +
    'a quarter of each batch on SHA-256s the answer did not need: the replay log hashed the same conversation and author ' +
    "again for every message, and the chat's id of every message it already remembered; the search index computed an HMAC " +
    'per message only to learn that it had indexed them all already, before the answer was posted (in the same task). ' +
    'Each place is now hashed once per batch, a remembered message keeps the chat id its digest came from (in memory ' +
    'only, and only a short one: the database keeps the digest alone), and the index knows recent messages by their ids. ' +
    "(Writing the index a task after the answer was tried too, and dropped after an attacker's review: a key revoked in " +
    'that task stayed searchable, test/unit/search-service.test.ts.) The decrypt handler went from 23,600/s to 34,600/s (64 B, ' +
    "median of 9 repeats, before and after one after the other), the worker's time per batch from 67–136 ms to 42–65 ms, " +
    'and history at N = 2,000 from 1,012, 1,013 and 956 ms (1.70×, 1.47× and 1.73×) to 942, 787 and 903 ms (1.64×, ' +
    '1.24× and 1.43×) in three alternating history-only runs of 7 (the third after the index change was dropped; table ' +
    'below). The full run in these tables was taken before it was dropped (d407e22). What remains per message in the worker is the cipher itself ' +
    "(about 30 µs, most of it noble's XChaCha20-Poly1305 set-up per call) and base58 decoding.",
  '',
  '**Memory: what is fixed and what is per message (2026-12-02, evening).** The bench now measures the extra heap at every ' +
    'history N (memory section). Most of it is fixed: about 0.9 MiB whatever N, plus about 380 B per message between N = ' +
    "200 and 2,000 (against the plain page, so the envelope page's own longer strings are in it). At N = 2,000 the fixed " +
    'part alone is 0.44 KiB of the 0.5 KiB per message the target allows. What the fixed part is (bench/heap.ts, heap ' +
    'snapshots): an extension whose content script is one line costs the same page 167 KiB (its isolated world, a second ' +
    "set of built-ins: 1,075 against 908 KiB at N = 200); the rest is Veil's code once compiled (baseline and optimized " +
    'code about 136 KiB, bytecode and feedback about 70 KiB), its object shapes and module state, the English catalog ' +
    'bundled as the fallback for a content script whose extension was reloaded under it (50–120 KiB in two runs without ' +
    "it), and V8's number-to-string cache grown to its full 64 KiB. Per message (snapshot at N = 2,000): the element " +
    'record (56 B), the answer (52 B) with its message id (44 B), plaintext and time, the envelope kept for decrypting ' +
    "again after a keyring change (an external string, 60 B), the chat's id for the in-page replay check (60 B), three map " +
    'entries and four element wrappers (64 B). Options left: a content script in two parts (a small one at ' +
    'document_start, the rest once the site is known to be protected, so a page pays for what it uses), the catalog ' +
    'fallback cut to the strings an orphaned content script can show, and answers kept only for messages near the view ' +
    '(a round trip on scroll-back instead of memory).',
  '',
];

function afterFigure(r: BenchResults, metric: string): string {
  const h = (n: number) => r.history?.find((x) => x.n === n);
  const c64 = r.crypto?.find((c) => c.bytes === 64);
  switch (metric) {
    case 'history2000':
      return h(2000)
        ? `${f(h(2000)!.ratio.median, 2)}× (${f(h(2000)!.veil.median, 0)} ms vs ${f(h(2000)!.plain.median, 0)} ms)`
        : '–';
    case 'history10000':
      return h(10000)
        ? `${f(h(10000)!.ratio.median, 2)}× (${f(h(10000)!.veil.median, 0)} ms vs ${f(h(10000)!.plain.median, 0)} ms)`
        : '–';
    case 'history200':
      return h(200) ? `${f(h(200)!.ratio.median, 2)}×` : '–';
    case 'history2000cpu':
      return h(2000) ? `CPU ratio ${f(h(2000)!.cpuRatio.median, 2)}, wall ratio ${f(h(2000)!.ratio.median, 2)}` : '–';
    case 'history10000cpu':
      return h(10000)
        ? `CPU ratio ${f(h(10000)!.cpuRatio.median, 2)}, wall ratio ${f(h(10000)!.ratio.median, 2)}`
        : '–';
    case 'isolated200':
    case 'isolated2000': {
      const row = r.isolated?.rows?.find((x) => x.n === (metric === 'isolated200' ? 200 : 2000));
      return row
        ? `${f(row.ratio.median, 2)}× (${f(row.isolatedMs.median, 0)} ms vs ${f(row.inline.median, 0)} ms)`
        : '–';
    }
    case 'plain2000':
      return h(2000) ? `${f(h(2000)!.plain.median, 0)} ms` : '–';
    case 'plain10000':
      return h(10000) ? `${f(h(10000)!.plain.median, 0)} ms` : '–';
    case 'decryptPath64':
      return c64 ? `${f(c64.ops['veil-decrypt-path']!.median, 0)}/s` : '–';
    case 'archive1m': {
      const best = r.archive?.runs.filter((x) => x.n === 1_000_000).sort((x, y) => y.perSecond - x.perSecond)[0];
      return best
        ? `${f(best.perSecond, 0)}/s (${best.jobs ? `--jobs ${best.jobs}` : 'one thread'}), ${f(best.perCpuSecond, 0)} per CPU-second`
        : '–';
    }
    case 'sendAdded':
      return r.send ? `${f(r.send.addedMs, 1)} ms` : '–';
    case 'history10000wall':
      return h(10000)
        ? `wall ratio ${f(h(10000)!.ratio.median, 2)}, CPU ratio ${f(h(10000)!.cpuRatio.median, 2)}`
        : '–';
    case 'memory2000':
      return r.memory
        ? `${f((r.memory.extraMiB.median * 1024) / r.memory.n, 2)} KiB and ` +
            `${f((r.memory.veilNodes.median - r.memory.plainNodes.median) / r.memory.n, 2)} DOM nodes per message`
        : '–';
    case 'cpu2000':
      return h(2000)
        ? `${f(((h(2000)!.veilCpu.median - h(2000)!.plainCpu.median) / 2000) * 1000, 0)} µs (CPU ratio ${f(h(2000)!.cpuRatio.median, 2)})`
        : '–';
    default:
      return '–';
  }
}
