/**
 * Archive decryption in Node (`admin archive decrypt`, scripts/archive-cli.ts): messages per second
 * and peak memory over synthetic exports of growing size. Each size is decrypted in a child process
 * of its own, so its peak RSS is its own; the export is generated beforehand (not timed).
 *
 *   vite-node bench/archive.ts -- --sizes 10000,100000 [--jobs 2]   (standalone, for investigating)
 *   vite-node bench/archive.ts -- --child EXPORT POLICY OUT   (one run; prints a JSON line)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64 } from '@scure/base';
import { randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText } from '../lib/crypto/codec';
import { deriveKey, sealMessage } from '../lib/crypto/envelope';
import { runAdmin } from '../scripts/admin-cli';

export interface ArchiveRun {
  n: number;
  /** Worker threads opening envelopes (`--jobs`); 0: all on the main thread. */
  jobs: number;
  exportMiB: number;
  seconds: number;
  perSecond: number;
  /** Per second of CPU time: what a quiet machine gives; this one is shared, so wall time varies. */
  perCpuSecond: number;
  peakRssMiB: number;
}

export interface ArchiveBench {
  runs: ArchiveRun[];
  /** Peak RSS of the largest run over the smallest: 1 is perfectly flat. */
  rssGrowth: number;
  /** Every run had this V8 old-space limit (and would have crashed had memory grown with the archive). */
  heapCapMiB: number;
  targetPerSecond: number;
  /** Where these figures came from, when not from the run the rest of results.md is from. */
  note?: string;
}

const CONVERSATIONS = 40;
/** V8 old-space limit of each run: the live set is about 90 MiB (mostly the 100,000-message replay window). */
const HEAP_CAP_MIB = 160;
const AUTHORS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const WORDS = 'ok thanks the launch moves to next week review numbers sure see you at standup'.split(' ');

/** n short chat messages (10-40 characters) under one key, as the fixture chat's export holds them. */
export function writeExport(file: string, policyFile: string, n: number): void {
  const id = randomBytes(4);
  const secret = randomBytes(32);
  const key = deriveKey({ id, secret });
  const keyId = Buffer.from(id).toString('hex');
  writeFileSync(
    policyFile,
    JSON.stringify({
      protectedSites: [{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] }],
      keys: [
        {
          id: keyId,
          secret: base64.encode(secret),
          label: 'bench',
          scope: { site: 'fixture-chat', conversations: ['*'] },
          status: 'active',
          createdAt: 1,
        },
      ],
    }),
  );
  const fd = openSync(file, 'w', 0o600);
  const t0 = Date.UTC(2026, 0, 1);
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    const conv = `ch-room${i % CONVERSATIONS}`;
    const from = AUTHORS[(i * 7) % AUTHORS.length]!;
    const text = `${WORDS[i % WORDS.length]} ${WORDS[(i * 3) % WORDS.length]} #${i}`;
    const ts = t0 + i * 1000;
    const frame = sealMessage(
      key,
      text,
      { conversationId: conv, senderId: from },
      { sentAt: ts, nonce: randomBytes(16) },
    );
    buf.push(
      JSON.stringify({
        id: `m${i + 1}`,
        from,
        to: `#room${i % CONVERSATIONS}`,
        conv,
        text: encodeEnvelopeText(frame),
        ts,
      }),
    );
    if (buf.length === 10_000) {
      writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  if (buf.length) writeSync(fd, buf.join('\n') + '\n');
  closeSync(fd);
}

/** One decrypt run, in this process (the child side). */
async function child(exportFile: string, policyFile: string, out: string, extra: string[]): Promise<void> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const err: string[] = [];
  const code = await runAdmin(
    ['archive', 'decrypt', '--input', exportFile, '--policy', policyFile, '--out', out, ...extra],
    {
      env: { CI: '1' },
      out: () => undefined,
      err: (l) => err.push(l),
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (code !== 0) throw new Error(`archive decrypt exited ${code}: ${err.join('\n')}`);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(JSON.stringify({ seconds, cpuSeconds, peakRssKiB: process.resourceUsage().maxRSS }));
}

/** Each size on one thread, and also with `parallel.jobs` worker threads for `parallel.sizes`. */
export async function benchArchive(
  sizes: number[],
  log: (...a: unknown[]) => void,
  parallel: { jobs: number; sizes: number[] } = { jobs: 0, sizes: [] },
): Promise<ArchiveBench> {
  const dir = mkdtempSync(join(tmpdir(), 'veil-bench-archive-'));
  const runs: ArchiveRun[] = [];
  try {
    for (const n of sizes) {
      const exportFile = join(dir, `export-${n}.jsonl`);
      const policyFile = join(dir, `policy-${n}.json`);
      log(`archive: generating ${n.toLocaleString('en')} messages`);
      writeExport(exportFile, policyFile, n);
      const jobsToRun = parallel.jobs > 0 && parallel.sizes.includes(n) ? [0, parallel.jobs] : [0];
      for (const jobs of jobsToRun) runs.push(decryptRun(dir, exportFile, policyFile, n, jobs, log));
      rmSync(exportFile, { force: true });
      rmSync(join(dir, 'out.jsonl'), { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const single = runs.filter((r) => r.jobs === 0);
  return {
    runs,
    rssGrowth: single.at(-1)!.peakRssMiB / single[0]!.peakRssMiB,
    heapCapMiB: HEAP_CAP_MIB,
    targetPerSecond: 50_000,
  };
}

/** Decrypts one export in a child process of its own (so its peak RSS is its own). */
function decryptRun(
  dir: string,
  exportFile: string,
  policyFile: string,
  n: number,
  jobs: number,
  log: (...a: unknown[]) => void,
): ArchiveRun {
  rmSync(join(dir, 'out.jsonl'), { force: true }); // replacing a large earlier output would be timed too
  const r = spawnSync(
    'npx',
    [
      'vite-node',
      'bench/archive.ts',
      '--',
      '--child',
      exportFile,
      policyFile,
      join(dir, 'out.jsonl'),
      '--jobs',
      String(jobs),
    ],
    {
      encoding: 'utf8',
      // A fixed heap for every size: an archive whose memory grew with its length would crash here.
      env: {
        ...process.env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_CAP_MIB}`,
      },
      maxBuffer: 1 << 20,
    },
  );
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`archive run of ${n} failed:\n${r.stdout}\n${r.stderr}`);
  const { seconds, cpuSeconds, peakRssKiB } = JSON.parse(line) as {
    seconds: number;
    cpuSeconds: number;
    peakRssKiB: number;
  };
  const run: ArchiveRun = {
    n,
    jobs,
    exportMiB: statSync(exportFile).size / 2 ** 20,
    seconds,
    perSecond: n / seconds,
    perCpuSecond: n / cpuSeconds,
    peakRssMiB: peakRssKiB / 1024,
  };
  log(
    `archive: ${n.toLocaleString('en')} messages${jobs ? ` (--jobs ${jobs})` : ''} in ${seconds.toFixed(1)} s = ` +
      `${Math.round(run.perSecond).toLocaleString('en')}/s (${Math.round(run.perCpuSecond).toLocaleString('en')} per CPU-second), peak RSS ${run.peakRssMiB.toFixed(0)} MiB`,
  );
  return run;
}

/** The results.md section. */
export function archiveReport(a: ArchiveBench): string[] {
  const L = [
    '## Archive: `admin archive decrypt` in Node (short messages, JSON lines in and out)',
    '',
    '| Messages | Threads | Export | Time | Messages/s | Messages per CPU-second | Peak RSS |',
    '| ---: | :--- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of a.runs)
    L.push(
      `| ${r.n.toLocaleString('en')} | ${r.jobs ? `main + ${r.jobs} workers (\`--jobs ${r.jobs}\`)` : 'one'} | ${r.exportMiB.toFixed(0)} MiB | ${r.seconds.toFixed(1)} s | ` +
        `${Math.round(r.perSecond).toLocaleString('en')} | ${Math.round(r.perCpuSecond).toLocaleString('en')} | ` +
        `${r.peakRssMiB.toFixed(0)} MiB |`,
    );
  const best = Math.max(...a.runs.map((r) => r.perSecond));
  const single = a.runs.filter((r) => r.jobs === 0);
  L.push(
    '',
    `Target ≥ ${a.targetPerSecond.toLocaleString('en')} messages/s: ${best >= a.targetPerSecond ? 'met' : 'missed'} ` +
      `(best ${Math.round(best).toLocaleString('en')}/s). Memory: peak RSS grows ×${a.rssGrowth.toFixed(2)} from ` +
      `${single[0]!.n.toLocaleString('en')} to ${single.at(-1)!.n.toLocaleString('en')} messages (one thread) ` +
      `under a V8 old-space limit of ${a.heapCapMiB} MiB for every size (the replay window of 100,000 messages ` +
      'is most of it; one 64 KB block of the export in memory at a time).',
    '',
  );
  if (a.note) L.push(a.note, '');
  return L;
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--child');
if (at >= 0) {
  child(argv[at + 1]!, argv[at + 2]!, argv[at + 3]!, argv.slice(at + 4)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if (argv.includes('--sizes')) {
  // Standalone, for investigating: vite-node bench/archive.ts -- --sizes 10000,100000
  const sizes = argv[argv.indexOf('--sizes') + 1]!.split(',').map(Number);
  const jobs = argv.includes('--jobs') ? Number(argv[argv.indexOf('--jobs') + 1]) : 0;
  benchArchive(sizes, console.log, { jobs, sizes }).then((r) => console.log(archiveReport(r).join('\n')));
}
