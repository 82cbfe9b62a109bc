/**
 * `npm run admin -- archive decrypt`: the enterprise reads its own archive. A vendor export in,
 * the decrypted archive out, each message with the status the browser would show (docs/archive.md).
 * Exit codes: 0 every selected message decrypted, 1 some did not (or a failure), 2 usage.
 */
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { globMatch } from '../lib/keys/model';
import type { Keyring } from '../lib/background/keyring';
import { ArchiveJudge, type ArchiveRecord, type ArchiveStatus, OK_STATUSES } from './archive-judge';
import { FIXTURE_FIELDS, type FieldNames, InputError, inputKind, openInput, parseTime } from './archive-input';
import { parallelJsonLines } from './archive-workers';
import { ArchiveKeyring, KeyLoadError, loadKeyFile, loadPolicyFile } from './archive-keys';
import { type ArchiveWriter, openWriter, type OutputFormat, type Summary } from './archive-output';

export interface ArchiveIo {
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
  /** A live progress line (a terminal): overwritten in place. Absent: no progress line. */
  progress?(line: string): void;
}

export const ARCHIVE_USAGE = `  npm run admin -- archive decrypt --input EXPORT (--keys FILE | --policy FILE)... --out FILE|- [options]
        EXPORT: JSON lines (the fixture chat's /api/export or any export, see --*-field), or a Slack-style
        export (a folder or .zip of <channel>/<date>.json); --input-format auto|jsonl|slack
        --format jsonl|csv|html  --site ADAPTER  --dry-run (counts only, writes nothing)  --jobs N|auto (worker threads, 0 for none)
        --conversation P --author P (repeatable, * matches any run)  --since TIME --until TIME
        --text-field F --author-field F --conversation-field F --time-field F --id-field F
        (docs/archive.md)`;

class UsageError extends Error {}

const DEFAULT_REPLAY_WINDOW = 100_000; // what the browser's replay log holds
const DEFAULT_CHUNK_WINDOW = 1_000;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        input: { type: 'string' },
        'input-format': { type: 'string', default: 'auto' },
        keys: { type: 'string', multiple: true },
        policy: { type: 'string', multiple: true },
        'passphrase-file': { type: 'string' },
        'chrome-id': { type: 'string' },
        'firefox-id': { type: 'string' },
        site: { type: 'string' },
        format: { type: 'string', default: 'jsonl' },
        out: { type: 'string' },
        'dry-run': { type: 'boolean' },
        conversation: { type: 'string', multiple: true },
        author: { type: 'string', multiple: true },
        since: { type: 'string' },
        until: { type: 'string' },
        'text-field': { type: 'string' },
        'author-field': { type: 'string' },
        'conversation-field': { type: 'string' },
        'time-field': { type: 'string' },
        'id-field': { type: 'string' },
        'replay-window': { type: 'string' },
        'chunk-window': { type: 'string' },
        jobs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function passphrase(file: string | undefined, env: ArchiveIo['env']): string {
  let p = env.VEIL_ADMIN_PASSPHRASE;
  if (file) {
    try {
      p = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new KeyLoadError(`cannot read passphrase file ${file}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  if (!p) throw new UsageError('no passphrase for --keys: set VEIL_ADMIN_PASSPHRASE or pass --passphrase-file FILE');
  return p;
}

function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = parseTime(v);
  if (t === undefined) throw new UsageError(`--${name} "${v}" is not a date (2026-01-31, an ISO time or ms)`);
  return t;
}

function count(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new UsageError(`--${name} must be a whole number ≥ 1`);
  return n;
}

/** Below this size an export is done before worker threads would have started (bundling them included). */
const PARALLEL_FROM_BYTES = 4 << 20;

/**
 * Worker threads opening envelopes besides this thread: `--jobs N`, 0 for none, or `auto` (the
 * default): one per core for an export large enough to gain from them. This thread keeps the
 * order-dependent judgement and the output, so it runs beside them.
 */
function workerThreads(v: string | undefined, input: string): number {
  if (v === undefined || v === 'auto') {
    let size = 0;
    try {
      const st = statSync(input);
      size = st.isFile() ? st.size : 0;
    } catch {
      // unreadable: reported when it is opened
    }
    return size >= PARALLEL_FROM_BYTES && availableParallelism() > 1 ? Math.min(availableParallelism(), 8) : 0;
  }
  if (v === '0') return 0;
  if (!/^[1-9]\d{0,3}$/.test(v))
    throw new UsageError(`--jobs ${v}: give a number of worker threads, 0 for none, or auto`);
  const jobs = Number(v);
  if (jobs > availableParallelism() * 4)
    throw new UsageError(`--jobs ${jobs}: this machine has ${availableParallelism()} cores`);
  return jobs;
}

/** Which messages go into the output; every message is still judged (a replay's original may be outside). */
function selector(values: ReturnType<typeof parse>['values']): (r: ArchiveRecord) => boolean {
  const convs = values.conversation;
  const authors = values.author;
  const since = time(values.since, 'since');
  const until = time(values.until, 'until');
  return (r) =>
    (!convs || convs.some((p) => globMatch(p, r.conversation))) &&
    (!authors || authors.some((p) => globMatch(p, r.author))) &&
    (since === undefined || (r.time !== undefined && r.time >= since)) &&
    (until === undefined || (r.time !== undefined && r.time <= until));
}

/** "1:05:09" for the progress line's estimate. */
function clock(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return `${h ? `${h}:` : ''}${h ? String(m).padStart(2, '0') : m}:${String(sec).padStart(2, '0')}`;
}

/** On a terminal (and not in CI): one line on stderr, rewritten in place. */
function terminalProgress(env: ArchiveIo['env']): ArchiveIo['progress'] {
  if (!process.stderr.isTTY || env.CI) return undefined;
  return (line) => process.stderr.write(`\r\x1b[K${line}`);
}

export async function runArchive(argv: string[], ioIn: ArchiveIo): Promise<number> {
  const io = { ...ioIn, progress: ioIn.progress ?? terminalProgress(ioIn.env) };
  let writer: ArchiveWriter | undefined;
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      io.out(ARCHIVE_USAGE);
      return 0;
    }
    const [sub, inputArg, ...rest] = positionals;
    if (sub !== 'decrypt') throw new UsageError(`unknown archive command "${sub ?? ''}"; use archive decrypt`);
    if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const input = values.input ?? inputArg;
    if (!input) throw new UsageError('--input EXPORT is required');
    if (values.input && inputArg) throw new UsageError('give the export once: --input EXPORT');
    const format = values.format as OutputFormat;
    if (!['jsonl', 'csv', 'html'].includes(format)) throw new UsageError(`--format must be jsonl, csv or html`);
    const inputFormat = values['input-format']!;
    if (!['auto', 'jsonl', 'slack'].includes(inputFormat))
      throw new UsageError('--input-format must be auto, jsonl or slack');
    const dryRun = !!values['dry-run'];
    const out = values.out;
    if (!out && !dryRun)
      throw new UsageError('say where the plaintext goes: --out FILE (or --out - for stdout), or --dry-run');
    if (out && dryRun) throw new UsageError('--dry-run writes nothing: drop --out');
    if (out === '-' && format === 'html') throw new UsageError('the HTML report goes to a file: --out FILE');
    // The output is renamed into place: never over a device, folder or link target (e.g. /dev/null).
    if (out && out !== '-' && existsSync(out) && !lstatSync(out).isFile())
      throw new UsageError(`--out ${out} exists and is not a regular file`);
    if (!values.keys?.length && !values.policy?.length)
      throw new UsageError('no keys: --keys FILE (the admin key file) and/or --policy FILE (a deployed policy)');
    const fields: FieldNames = {
      text: values['text-field'] ?? FIXTURE_FIELDS.text,
      author: values['author-field'] ?? FIXTURE_FIELDS.author,
      conversation: values['conversation-field'] ?? FIXTURE_FIELDS.conversation,
      time: values['time-field'] ?? FIXTURE_FIELDS.time,
      id: values['id-field'] ?? FIXTURE_FIELDS.id,
    };
    const selected = selector(values);
    const replayWindow = count(values['replay-window'], 'replay-window', DEFAULT_REPLAY_WINDOW);
    const chunkWindow = count(values['chunk-window'], 'chunk-window', DEFAULT_CHUNK_WINDOW);
    const jobs = workerThreads(values.jobs, input);

    const ring = new ArchiveKeyring();
    const pass = values.keys?.length ? passphrase(values['passphrase-file'], io.env) : '';
    for (const f of values.keys ?? []) await loadKeyFile(ring, f, pass);
    for (const f of values.policy ?? [])
      loadPolicyFile(ring, f, { chrome: values['chrome-id'], firefox: values['firefox-id'] });
    for (const w of ring.warnings) io.err(`warning: ${w}`);
    if (ring.size === 0) throw new KeyLoadError('the key files and policies hold no keys');
    const site = values.site ?? siteOfKeys(ring);

    // JSON lines exports can be opened on several cores; the judgement stays in order here.
    const { kind } = inputKind(input, inputFormat);
    const source =
      jobs > 0 && kind === 'jsonl'
        ? await parallelJsonLines(input, fields, ring, site, jobs)
        : await openInput(input, inputFormat, fields);
    const judge = new ArchiveJudge(ring as unknown as Keyring, { site, replayWindow, chunkWindow });
    const summary: Summary = {
      total: 0,
      byStatus: {},
      conversations: 0,
      keys: ring.list().map((k) => ({ id: k.id, status: k.status, fingerprint: k.fingerprint, label: k.label })),
      input,
    };
    const conversations = new Set<string>();
    writer = out ? openWriter(format, out, io.out) : undefined;
    const started = Date.now();
    let lastProgress = 0;
    let seen = 0;
    const take = (r: ArchiveRecord) => {
      if (!selected(r)) return;
      summary.total++;
      summary.byStatus[r.status] = (summary.byStatus[r.status] ?? 0) + 1;
      // Distinct conversations, counted exactly up to a bound (a summary is not worth unbounded memory).
      if (conversations.size < 1_000_000) conversations.add(r.conversation);
      if (r.time !== undefined) {
        summary.first = Math.min(summary.first ?? r.time, r.time);
        summary.last = Math.max(summary.last ?? r.time, r.time);
      }
      writer?.write(r);
    };
    for await (const batch of source.batches) {
      for (const item of batch) {
        if ('bad' in item) {
          take({
            conversation: '',
            author: '',
            id: item.id,
            status: 'malformed',
            label: 'Not a message',
            reason: item.bad,
          });
        } else {
          const records = judge.push(item);
          for (const r of Array.isArray(records) ? records : await records) take(r);
        }
      }
      seen += batch.length;
      if (io.progress && Date.now() - lastProgress > 250) {
        lastProgress = Date.now();
        const { done, total } = source.progress();
        const secs = (lastProgress - started) / 1000;
        const rate = seen / Math.max(secs, 0.001);
        const share = total ? done / total : 0;
        const eta = share > 0 ? (secs / share) * (1 - share) : NaN;
        io.progress(
          `${seen.toLocaleString('en')} messages  ${Math.round(rate).toLocaleString('en')}/s  ` +
            `${Math.floor(share * 100)}%  ETA ${clock(eta)}`,
        );
      }
    }
    for (const r of judge.finish()) take(r);
    summary.conversations = conversations.size;
    writer?.close(summary);
    writer = undefined;
    io.progress?.('');

    const secs = (Date.now() - started) / 1000;
    const report = out === '-' ? io.err : io.out;
    report(
      `${dryRun ? 'dry run: ' : ''}${summary.total} message(s) in ${summary.conversations} conversation(s)` +
        ` (${seen} read in ${secs.toFixed(1)} s)${out && out !== '-' ? ` -> ${out}` : ''}`,
    );
    for (const [status, n] of Object.entries(summary.byStatus).sort((a, b) => b[1] - a[1]))
      report(`  ${status.padEnd(16)} ${n}`);
    const notRead = Object.entries(summary.byStatus)
      .filter(([s]) => !OK_STATUSES.has(s as ArchiveStatus))
      .reduce((s, [, n]) => s + n, 0);
    if (notRead) report(`${notRead} message(s) not decrypted cleanly: see their status and reason`);
    return notRead ? 1 : 0;
  } catch (e) {
    writer?.abort();
    io.progress?.('');
    if (e instanceof UsageError) {
      io.err(`veil-admin archive: ${e.message}`);
      io.err('Run `npm run admin -- archive decrypt --help` for usage.');
      return 2;
    }
    if (e instanceof KeyLoadError || e instanceof InputError) {
      io.err(`veil-admin archive: ${e.message}`);
      return 1;
    }
    io.err(`veil-admin archive: unexpected failure: ${(e as Error)?.stack ?? e}`);
    return 1;
  }
}

/** The site the keys name, when they agree; keys for any site ("*") fit every site. */
function siteOfKeys(ring: ArchiveKeyring): string {
  const sites = new Set(
    ring
      .list()
      .map((k) => k.scope.site)
      .filter((s) => s !== '*'),
  );
  if (sites.size > 1)
    throw new UsageError(`the keys are for several sites (${[...sites].join(', ')}): say which with --site ADAPTER`);
  return [...sites][0] ?? 'fixture-chat';
}
