/**
 * Shared pieces of the benchmark suite (npm run bench): statistics, the message corpus, the bench
 * key, timing helpers. Node side only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { hexToBytes, randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText } from '../lib/crypto/codec';
import { deriveKey, sealMessage, type DerivedKey } from '../lib/crypto/envelope';
import type { KeyRecord } from '../lib/keys/model';
import type { SeedMessage } from '../fixtures/chat/server.mjs';
import { prng } from '../test/support/prng';

export interface Stat {
  median: number;
  min: number;
  max: number;
  /** Interquartile range (p75 - p25): the spread we report; robust to one noisy run. */
  iqr: number;
  n: number;
  samples: number[];
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function stat(samples: number[]): Stat {
  const s = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(s, 0.5),
    min: s[0] ?? NaN,
    max: s.at(-1) ?? NaN,
    iqr: quantile(s, 0.75) - quantile(s, 0.25),
    n: s.length,
    samples: samples.map((x) => round(x, 3)),
  };
}

export const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Deterministic PRNG (mulberry32): the same corpus on every run and machine. */
export { prng } from '../test/support/prng';

const WORDS = (
  'the launch moves to next week please review numbers budget meeting agenda quarterly draft ' +
  'contract customer release notes ok thanks sure let me check tomorrow morning afternoon sounds good ' +
  'deploy staging production bug fix merged pipeline green red blocked waiting legal sign off invoice'
).split(' ');

/** Chat-like plaintexts, 2 to ~200 characters, with the occasional link, emoji and non-Latin text. */
export function corpus(n: number, seed = 7): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const words = r < 0.15 ? 1 : r < 0.7 ? 3 + Math.floor(rnd() * 8) : 10 + Math.floor(rnd() * 25);
    const w: string[] = [];
    for (let j = 0; j < words; j++) w.push(WORDS[Math.floor(rnd() * WORDS.length)]!);
    let text = w.join(' ');
    const extra = rnd();
    if (extra < 0.05) text += ' https://example.com/doc/' + i;
    else if (extra < 0.1) text += ' 🚀';
    else if (extra < 0.12) text += ' 你好，世界';
    out.push(text.charAt(0).toUpperCase() + text.slice(1));
  }
  return out;
}

/** The conversation every history benchmark opens: bob reads his DM with alice. */
export const VIEWER = 'bob';
export const PEER = 'alice';
export const CONVERSATION_ID = 'dm-alice-bob';

export function benchKey(): KeyRecord {
  return {
    id: Buffer.from(randomBytes(4)).toString('hex'),
    secret: randomBytes(32),
    label: 'Bench key',
    scope: { site: 'fixture-chat', conversations: ['*'] },
    status: 'active',
    createdAt: Date.now(),
    source: 'generated',
  };
}

export function derived(key: KeyRecord): DerivedKey {
  return deriveKey({ id: hexToBytes(key.id), secret: key.secret });
}

/** History of bob's DM with alice, in plaintext and as Veil envelopes made with `key` (Node side). */
export function history(n: number, key: DerivedKey): { plain: SeedMessage[]; encrypted: SeedMessage[] } {
  const texts = corpus(n);
  const start = Date.now() - n * 60_000;
  const plain: SeedMessage[] = texts.map((text, i) => {
    const from = i % 3 === 0 ? VIEWER : PEER;
    return { from, to: from === VIEWER ? PEER : VIEWER, text, ts: start + i * 60_000 };
  });
  const encrypted = plain.map((m) => ({
    ...m,
    text: encodeEnvelopeText(
      sealMessage(
        key,
        m.text,
        { conversationId: CONVERSATION_ID, senderId: m.from },
        { sentAt: m.ts!, nonce: randomBytes(16) },
      ),
    ),
  }));
  return { plain, encrypted };
}

export function machineInfo(chromiumVersion: string) {
  const cpus = os.cpus();
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    /* not a git checkout */
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    chromium: chromiumVersion,
    commit,
    loadAverage: os.loadavg().map((x) => round(x, 2)),
  };
}

/**
 * Sums `valueOf` over a process and all its descendants (Linux /proc). `valueOf` gets the fields of
 * /proc/<pid>/stat after the command name (state is field 0, ppid field 1, ...).
 */
function sumOverProcessTree(rootPid: number, valueOf: (fields: string[]) => number): number {
  const parent = new Map<number, number>();
  const value = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(fields[1]));
      value.set(Number(d), valueOf(fields));
    } catch {
      /* exited meanwhile */
    }
  }
  let total = 0;
  for (const [pid, v] of value) {
    for (let p: number | undefined = pid; p; p = parent.get(p)) {
      if (p === rootPid) {
        total += v;
        break;
      }
    }
  }
  return total;
}

/** Resident memory of a process and all its descendants, in bytes (/proc; shared pages counted per process). */
export const processTreeRssBytes = (rootPid: number): number =>
  sumOverProcessTree(rootPid, (f) => Number(f[21]) * 4096);

/** CPU seconds (user + system) used so far by a process and all its descendants (USER_HZ 100). */
export const processTreeCpuSeconds = (rootPid: number): number =>
  sumOverProcessTree(rootPid, (f) => (Number(f[11]) + Number(f[12])) / 100);
