/**
 * `npm run bench` (`-- --quick` for a smoke run): Veil measured against the plain chat and against
 * OpenPGP.js, side by side in one run. Builds the extension (into VEIL_OUT_DIR, default
 * .output), starts two fixture chat servers on 127.0.0.1 (one serving Veil envelopes, one the same
 * messages in plaintext), runs Chromium with and without Veil, and writes bench/results.md,
 * bench/results.json and bench/chart.svg. This machine is shared and noisy: every figure is a
 * median over runs, runs alternate between the configurations, and targets are judged on ratios.
 *
 * Flags: --quick (N = 200, one run, short windows; results go to $TMPDIR/veil-bench-quick unless
 * --out says otherwise), --only history,lounge,send,crypto,size,idle,archive,keyservice,attachments, --no-build (reuse the last build),
 * --out DIR (where results go; default bench/), --ns 2000,10000
 * and --runs K (history sizes and runs, for investigating), --report (only rewrite results.md and
 * chart.svg from results.json).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChatServer, type ChatServer, type SeedMessage } from '../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_DIR, launchUser, OUTPUT_DIR, type User } from '../test/support/browser';
import { bundleText } from '../test/support/keys';
import { importBundle } from '../test/support/veil-ui';
import { benchKey, corpus, derived, history, machineInfo, sleep, stat, type Stat } from './common';
import { bundleForWorker, CRYPTO_OPS, CRYPTO_SIZES, loadIntoWorker, measureOp } from './crypto';
import { openHistory, type HistoryRun, type Until } from './history';
import { idleWindow, type IdleSample } from './idle';
import { openIsolatedHistory, setIsolatedMode, withoutFrames, type IsolatedRun } from './isolated';
import { writeReport, type BenchResults } from './report';
import { benchArchive } from './archive';
import { benchKeyService } from './keyservice';
import { benchAttachments } from './attachments';
import { benchLounge } from './thelounge';
import { openSendPage, sendLatencies } from './send';
import { measureSizes } from './size';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
};
const QUICK = flag('--quick');
/** Worker threads for the archive's parallel runs: one per core (the main thread keeps order and output). */
const ARCHIVE_JOBS = availableParallelism();
const ONLY = new Set(
  (option('--only') ?? 'history,lounge,send,crypto,size,idle,archive,keyservice,attachments').split(','),
);
// A smoke run must not replace the full run's results: it writes to a temp folder unless told.
const OUT = option('--out') ?? (QUICK ? join(tmpdir(), 'veil-bench-quick') : 'bench');

/** How much of everything: the full run takes about 5 minutes on a 2-core machine (10 when loaded). */
const PLAN: {
  history: { n: number; runs: number }[];
  memoryN: number;
  sends: { rounds: number; perRound: number };
  crypto: { repeats: number; minMs: number };
  idle: { windows: number; ms: number };
} = QUICK
  ? {
      history: [{ n: 200, runs: 1 }],
      memoryN: 200,
      sends: { rounds: 1, perRound: 5 },
      crypto: { repeats: 1, minMs: 150 },
      idle: { windows: 1, ms: 2000 },
    }
  : {
      history: [
        { n: 200, runs: 9 },
        { n: 2000, runs: 7 },
        { n: 10000, runs: 5 },
      ],
      memoryN: 2000,
      sends: { rounds: 6, perRound: 10 },
      crypto: { repeats: 5, minMs: 400 },
      idle: { windows: 4, ms: 4000 },
    };

// For investigating one size: --ns 2000,10000 [--runs 3] replaces the history sizes.
if (option('--ns')) {
  PLAN.history = option('--ns')!
    .split(',')
    .map((n) => ({ n: Number(n), runs: Number(option('--runs') ?? 3) }));
}

const PASS = 'bench passphrase, not a secret';
/** Isolated mode is compared with inline on these history sizes. */
const ISOLATED_NS = [200, 2000];
const log = (...a: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

function buildExtension(): void {
  if (flag('--no-build')) return log(`using the existing build in ${CHROME_EXTENSION_DIR}`);
  log(`building the extension into ${OUTPUT_DIR}`);
  const r = spawnSync('npx', ['wxt', 'build'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`wxt build failed:\n${r.stdout}\n${r.stderr}`);
}

async function reseed(server: ChatServer, messages: SeedMessage[]): Promise<void> {
  await fetch(`${server.url}/api/admin/reset`, { method: 'POST', body: '{}' });
  server.seed(messages);
}

async function main() {
  const started = Date.now();
  buildExtension();
  // Node only, before any browser starts: archive decryption (the million only in the full run).
  const archive = ONLY.has('archive')
    ? await benchArchive(QUICK ? [2_000, 20_000] : [10_000, 100_000, 1_000_000], log, {
        jobs: ARCHIVE_JOBS,
        sizes: QUICK ? [20_000] : [100_000, 1_000_000],
      })
    : undefined;
  const keyService = ONLY.has('keyservice') ? await benchKeyService(QUICK ? 1 : 3) : undefined;
  // Browsers of its own, closed before the others start: one large file, plain and sealed.
  const attachments = ONLY.has('attachments') ? await benchAttachments(QUICK ? 10 : 200, log) : undefined;
  // A real chat: The Lounge on ngircd, in browsers of its own (Veil under policy, as admins deploy it).
  const lounge = ONLY.has('lounge') ? await benchLounge(QUICK ? 1 : 9, log) : undefined;
  const key = benchKey();
  const dk = derived(key);
  // Two vendors: the same conversation, once as Veil envelopes, once in plaintext.
  const [encServer, plainServer] = await Promise.all([startChatServer(), startChatServer()]);
  const users: User[] = [];
  try {
    const veil = await launchUser('bench-veil');
    users.push(veil);
    const plain = await launchUser('bench-plain', { extension: false });
    users.push(plain);
    const bundle = await bundleText([key], PASS);
    const imported = await importBundle(veil, bundle, PASS);
    if (imported.tone !== 'ok') throw new Error(`key import failed: ${imported.text}`);
    // Isolated mode in its own browser, switched on in the options page as a user would.
    let isolated: User | undefined;
    if (ONLY.has('history') && PLAN.history.some((h) => ISOLATED_NS.includes(h.n))) {
      const u = await launchUser('bench-isolated', { targetFilter: withoutFrames });
      users.push(u);
      if ((await importBundle(u, bundle, PASS)).tone === 'ok' && (await setIsolatedMode(u))) isolated = u;
      else log('isolated mode: no switch in this build; reported as pending');
    }
    const results: BenchResults = {
      quick: QUICK,
      machine: machineInfo(await plain.browser.version()),
      plan: PLAN,
      isolated: { available: false, note: isolatedModeStatus() },
      archive,
      keyService,
      attachments,
      lounge,
    };

    if (ONLY.has('size')) {
      log('size: envelope overhead vs OpenPGP.js');
      results.size = await measureSizes();
    }

    const retries: string[] = [];
    if (ONLY.has('history')) {
      results.history = [];
      results.retries = retries;
      let warmed = false;
      for (const { n, runs } of PLAN.history) {
        log(`history: seeding ${n} messages`);
        const h = history(n, dk);
        await Promise.all([reseed(encServer, h.encrypted), reseed(plainServer, h.plain)]);
        const configs: { name: 'veil' | 'plain' | 'veilOnPlain'; user: User; server: ChatServer; until: Until }[] = [
          { name: 'veil', user: veil, server: encServer, until: 'decrypted' },
          { name: 'plain', user: plain, server: plainServer, until: 'plain' },
          { name: 'veilOnPlain', user: veil, server: plainServer, until: 'flagged' },
        ];
        if (!warmed) {
          for (const c of configs) {
            await openHistory(c.user, c.server.url, n, c.until, { timeoutMs: 30_000 }).catch((e) => {
              throw new Error(`${c.name} (warm-up), N = ${n}: ${(e as Error).message}`);
            });
          }
          warmed = true;
        }
        const samples: Record<string, HistoryRun[]> = { veil: [], plain: [], veilOnPlain: [] };
        const isolatedRuns: {
          isolated: number;
          inline: number;
          inlineCpu: number;
          frames: number;
          run: IsolatedRun;
        }[] = [];
        const isoHere = isolated && ISOLATED_NS.includes(n) ? isolated : undefined;
        if (isoHere) await openIsolatedHistory(isoHere, encServer.url, n); // warm
        for (let r = 0; r < runs; r++) {
          // Alternate the order: drift on a shared machine hits both sides alike.
          const order = r % 2 ? [...configs].reverse() : configs;
          for (const c of order) {
            const once = () => openHistory(c.user, c.server.url, n, c.until, { memory: true, timeoutMs: 60_000 });
            // One retry: on this shared machine a page now and then never gets its content script
            // (the service worker restarting under heavy load); the retry is counted in results.json.
            const run = await once()
              .catch((e) => {
                log(`${c.name}, N = ${n}: ${(e as Error).message}; retrying once`);
                retries.push(`${c.name}, N = ${n}: ${(e as Error).message}`);
                return once();
              })
              .catch((e) => {
                throw new Error(`${c.name}, N = ${n}: ${(e as Error).message}`);
              });
            if (c.name === 'veil' && run.decrypted !== n)
              throw new Error(`history ${n}: only ${run.decrypted} decrypted`);
            samples[c.name]!.push(run);
          }
          if (isoHere) {
            const run = await openIsolatedHistory(isoHere, encServer.url, n, 60_000, { memory: true }).catch((e) => {
              throw new Error(`isolated, N = ${n}: ${(e as Error).message}`);
            });
            isolatedRuns.push({
              isolated: run.paintMs,
              inline: samples.veil!.at(-1)!.paintMs,
              inlineCpu: samples.veil!.at(-1)!.cpuMs,
              frames: run.frames,
              run,
            });
          }
          log(
            `history N=${n} run ${r + 1}/${runs}: veil ${samples.veil!.at(-1)!.paintMs.toFixed(0)} ms, ` +
              `plain ${samples.plain!.at(-1)!.paintMs.toFixed(0)} ms, veil on plaintext ${samples.veilOnPlain!.at(-1)!.paintMs.toFixed(0)} ms ` +
              `(CPU: veil ${samples.veil!.at(-1)!.cpuMs.toFixed(0)} ms, plain ${samples.plain!.at(-1)!.cpuMs.toFixed(0)} ms)`,
          );
        }
        const paint = (name: string) => stat(samples[name]!.map((s) => s.paintMs));
        const ratio = stat(samples.veil!.map((s, i) => s.paintMs / samples.plain![i]!.paintMs));
        const ratioOnPlain = stat(samples.veilOnPlain!.map((s, i) => s.paintMs / samples.plain![i]!.paintMs));
        const cpu = (name: string) => stat(samples[name]!.map((s) => s.cpuMs));
        const cpuRatio = stat(samples.veil!.map((s, i) => s.cpuMs / samples.plain![i]!.cpuMs));
        results.history.push({
          n,
          runs,
          veil: paint('veil'),
          plain: paint('plain'),
          veilOnPlain: paint('veilOnPlain'),
          ratio,
          ratioOnPlain,
          veilCpu: cpu('veil'),
          plainCpu: cpu('plain'),
          cpuRatio,
          veilDom: stat(samples.veil!.map((s) => s.domMs)),
          plainDom: stat(samples.plain!.map((s) => s.domMs)),
        });
        if (isolatedRuns.length) {
          results.isolated.available = true;
          results.isolated.note = '';
          const row = {
            n,
            inline: stat(isolatedRuns.map((x) => x.inline)),
            isolatedMs: stat(isolatedRuns.map((x) => x.isolated)),
            ratio: stat(isolatedRuns.map((x) => x.isolated / x.inline)),
            cpuMs: stat(isolatedRuns.map((x) => x.run.cpuMs)),
            inlineCpuMs: stat(isolatedRuns.map((x) => x.inlineCpu)),
            frames: stat(isolatedRuns.map((x) => x.frames)),
            liveFrames: stat(isolatedRuns.map((x) => x.run.liveFrames ?? NaN)),
            heapMiB: stat(isolatedRuns.map((x) => (x.run.memory?.jsHeapUsedBytes ?? NaN) / 2 ** 20)),
            domNodes: stat(isolatedRuns.map((x) => x.run.memory?.domNodes ?? NaN)),
            browserRssMiB: stat(isolatedRuns.map((x) => (x.run.browserRssBytes ?? NaN) / 2 ** 20)),
          };
          (results.isolated.rows ??= []).push(row);
          log(
            `isolated N=${n}: ${row.isolatedMs.median.toFixed(0)} ms vs inline ${row.inline.median.toFixed(0)} ms; ` +
              `browser CPU ${row.cpuMs.median.toFixed(0)} ms vs ${row.inlineCpuMs.median.toFixed(0)} ms`,
          );
        }
        // Extra heap at every N: what stays the same whatever N (Veil's code and its world) and what
        // each message adds, apart.
        const extraAt = samples.veil!.map(
          (s, i) => (s.memory!.jsHeapUsedBytes - samples.plain![i]!.memory!.jsHeapUsedBytes) / 2 ** 20,
        );
        (results.memoryByN ??= []).push({ n, extraMiB: stat(extraAt) });
        if (n === PLAN.memoryN) {
          const heap = (name: string) => stat(samples[name]!.map((s) => s.memory!.jsHeapUsedBytes / 2 ** 20));
          const nodes = (name: string) => stat(samples[name]!.map((s) => s.memory!.domNodes));
          results.memory = {
            n,
            veilMiB: heap('veil'),
            plainMiB: heap('plain'),
            extraMiB: stat(extraAt),
            veilNodes: nodes('veil'),
            plainNodes: nodes('plain'),
          };
        }
      }
    }

    // Send and idle run on a conversation with a realistic, short history.
    if (ONLY.has('send') || ONLY.has('idle')) {
      const h = history(200, dk);
      await Promise.all([reseed(encServer, h.encrypted), reseed(plainServer, h.plain)]);
    }

    if (ONLY.has('send')) {
      log('send: Enter to request');
      const [vPage, pPage] = [
        await openSendPage(veil, encServer.url, true),
        await openSendPage(plain, plainServer.url, false),
      ];
      const texts = corpus(PLAN.sends.rounds * PLAN.sends.perRound + 4, 99);
      await sendLatencies(vPage, texts.slice(0, 2), true); // warm
      await sendLatencies(pPage, texts.slice(2, 4), false);
      const v: number[] = [];
      const p: number[] = [];
      for (let r = 0; r < PLAN.sends.rounds; r++) {
        const batch = texts.slice(4 + r * PLAN.sends.perRound, 4 + (r + 1) * PLAN.sends.perRound);
        if (r % 2) {
          p.push(...(await sendLatencies(pPage, batch, false)));
          v.push(...(await sendLatencies(vPage, batch, true)));
        } else {
          v.push(...(await sendLatencies(vPage, batch, true)));
          p.push(...(await sendLatencies(pPage, batch, false)));
        }
      }
      await Promise.all([vPage.close(), pPage.close()]);
      const veilStat = stat(v);
      const plainStat = stat(p);
      results.send = {
        veil: veilStat,
        plain: plainStat,
        addedMs: veilStat.median - plainStat.median,
        ratio: veilStat.median / plainStat.median,
      };
      log(`send: veil ${veilStat.median.toFixed(1)} ms, plain ${plainStat.median.toFixed(1)} ms (median)`);
    }

    if (ONLY.has('idle')) {
      log('idle: CPU of an open, quiet chat');
      const vPage = await veil.newPage();
      const pPage = await plain.newPage();
      await vPage.goto(`${encServer.url}/?user=bob&conv=alice`);
      await pPage.goto(`${plainServer.url}/?user=bob&conv=alice`);
      await vPage.waitForFunction(
        () => document.querySelectorAll('#messages > li.message[data-veil-status]').length >= 200,
        { timeout: 60_000 },
      );
      await pPage.waitForFunction(() => document.querySelectorAll('#messages > li.message').length >= 200);
      await sleep(1500); // let start-up work finish (status line, draft state)
      const workerTarget = await veil.browser.waitForTarget(
        (t) => t.type() === 'service_worker' && t.url().startsWith('chrome-extension://'),
      );
      const samples: { veil: IdleSample; plain: IdleSample }[] = [];
      const workerMs: number[] = [];
      const subjects = [
        { page: vPage, browserPid: veil.browser.process()!.pid!, worker: workerTarget },
        { page: pPage, browserPid: plain.browser.process()!.pid! },
      ];
      for (let w = 0; w < PLAN.idle.windows; w++) {
        const [vs, ps] = await idleWindow(subjects, PLAN.idle.ms, false);
        samples.push({ veil: vs!, plain: ps! });
        workerMs.push((await idleWindow(subjects.slice(0, 1), PLAN.idle.ms, true))[0]!.workerScriptMs ?? NaN);
      }
      await Promise.all([vPage.close(), pPage.close()]);
      const pick = (side: 'veil' | 'plain', f: (s: IdleSample) => number) => stat(samples.map((s) => f(s[side])));
      results.idle = {
        windowMs: PLAN.idle.ms,
        veil: {
          pageTaskMs: pick('veil', (s) => s.pageTaskMs),
          pageScriptMs: pick('veil', (s) => s.pageScriptMs),
          workerScriptMs: stat(workerMs),
          processTreeCpuMs: pick('veil', (s) => s.processTreeCpuMs),
        },
        plain: {
          pageTaskMs: pick('plain', (s) => s.pageTaskMs),
          pageScriptMs: pick('plain', (s) => s.pageScriptMs),
          processTreeCpuMs: pick('plain', (s) => s.processTreeCpuMs),
        },
      };
    }

    if (ONLY.has('crypto')) {
      log('crypto: in the extension service worker, Veil vs OpenPGP.js');
      const worker = await veil.worker();
      await loadIntoWorker(worker, await bundleForWorker(), key);
      const raw: Record<string, Record<number, number[]>> = {};
      for (let rep = 0; rep < PLAN.crypto.repeats; rep++) {
        for (const bytes of CRYPTO_SIZES) {
          for (const op of CRYPTO_OPS) {
            ((raw[op] ??= {})[bytes] ??= []).push(await measureOp(worker, op, bytes, PLAN.crypto.minMs));
          }
        }
        log(`crypto repeat ${rep + 1}/${PLAN.crypto.repeats} done`);
      }
      results.crypto = CRYPTO_SIZES.map((bytes) => ({
        bytes,
        ops: Object.fromEntries(CRYPTO_OPS.map((op) => [op, stat(raw[op]![bytes]!)])) as Record<string, Stat>,
      }));
    }

    results.machine.loadAverageEnd = machineInfo('').loadAverage;
    results.durationS = Math.round((Date.now() - started) / 1000);
    writeReport(results, OUT);
    log(`done in ${results.durationS} s: ${join(OUT, 'results.md')}`);
  } finally {
    await Promise.all(users.map((u) => u.close()));
    await Promise.all([encServer.close(), plainServer.close()]);
  }
}

/** Why isolated mode was not measured, when it was not (replaced by the figures when it was). */
function isolatedModeStatus(): string {
  if (!ONLY.has('history') || !PLAN.history.some((h) => ISOLATED_NS.includes(h.n)))
    return `not run (needs the history benchmark at N = ${ISOLATED_NS.join(' or ')}).`;
  let content = '';
  try {
    content = readFileSync(join(CHROME_EXTENSION_DIR, 'content-scripts', 'content.js'), 'utf8');
  } catch {
    /* no build */
  }
  return /cannot provide yet/.test(content)
    ? 'this build refuses isolated mode ("cannot provide yet").'
    : 'the options page of this build has no isolated-mode switch for the fixture chat.';
}

// --report: rewrite results.md and chart.svg from results.json (after a change to the report).
const start = flag('--report')
  ? async () => writeReport(JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8')) as BenchResults, OUT)
  : main;

start().catch((e) => {
  console.error(e);
  process.exit(1);
});
