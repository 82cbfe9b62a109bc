/**
 * JSON lines decrypted on several cores: worker threads parse lines and open envelopes (the
 * expensive, order-free part), the main thread takes their answers back in export order and does
 * the rest (replays, chunks, statuses, output) exactly as with one thread. At most four batches
 * per worker are in flight, so memory stays bounded however large the export.
 *
 * The worker is TypeScript run by vite-node here; worker threads load plain JavaScript, so it is
 * bundled with esbuild (a dev dependency, as this whole CLI is a dev tool) when the run starts.
 */
import { createReadStream, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import type { ArchiveInput, FieldNames, InputItem } from './archive-input';
import type { ArchiveKeyring } from './archive-keys';
import type { WorkerJob } from './archive-worker';

let workerCode: Promise<string> | undefined;

function bundleWorker(): Promise<string> {
  workerCode ??= build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'archive-worker.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  return workerCode;
}

export async function parallelJsonLines(
  file: string,
  fields: FieldNames,
  ring: ArchiveKeyring,
  site: string,
  jobs: number,
): Promise<ArchiveInput> {
  const total = statSync(file).size;
  const code = await bundleWorker();
  const workerData = { ...ring.snapshot(), fields, site };
  const workers = Array.from({ length: jobs }, () => new Worker(code, { eval: true, workerData }));
  const waiting = new Map<number, { resolve(items: InputItem[]): void; reject(e: Error): void }>();
  for (const w of workers) {
    w.on('message', (m: { seq: number; items?: InputItem[]; error?: string }) => {
      const p = waiting.get(m.seq);
      waiting.delete(m.seq);
      if (m.error !== undefined) p?.reject(new Error(`archive worker: ${m.error}`));
      else p?.resolve(m.items!);
    });
    w.on('error', (e) => {
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
  }
  const stream = createReadStream(file, { highWaterMark: 1 << 18 });
  const request = (job: WorkerJob, bytes: Uint8Array) =>
    new Promise<InputItem[]>((resolve, reject) => {
      waiting.set(job.seq, { resolve, reject });
      workers[job.seq % jobs]!.postMessage(job, [bytes.buffer as ArrayBuffer]);
    });

  async function* batches(): AsyncIterable<InputItem[]> {
    const inFlight = new Map<number, Promise<InputItem[]>>();
    let sent = 0;
    let next = 0;
    let line = 1;
    try {
      for await (const { bytes, lines } of lineBlocks(stream)) {
        inFlight.set(sent, request({ seq: sent, bytes, first: line }, bytes));
        // A rejected answer is awaited (and thrown) in order below; never an unhandled rejection.
        inFlight.get(sent)!.catch(() => undefined);
        sent++;
        line += lines;
        while (inFlight.size >= jobs * 4) {
          yield await inFlight.get(next)!;
          inFlight.delete(next++);
        }
      }
      while (next < sent) {
        yield await inFlight.get(next)!;
        inFlight.delete(next++);
      }
    } finally {
      stream.destroy();
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  return { batches: batches(), progress: () => ({ done: stream.bytesRead, total }) };
}

/**
 * The export in blocks of whole lines, as bytes of their own (handed to a worker, not copied):
 * a block ends after its last newline, and what follows starts the next. A newline byte is never
 * inside a UTF-8 character, so no character is cut.
 */
async function* lineBlocks(stream: AsyncIterable<Buffer>): AsyncIterable<{ bytes: Uint8Array; lines: number }> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    const data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    const end = data.lastIndexOf(10) + 1;
    rest = Buffer.from(data.subarray(end));
    if (end > 0) yield { bytes: ownBytes(data, end), lines: countLines(data, end) };
  }
  if (rest.length) yield { bytes: ownBytes(rest, rest.length), lines: 1 };
}

/** The first `end` bytes in an ArrayBuffer of their own (a stream's Buffer may share its pool). */
function ownBytes(data: Buffer, end: number): Uint8Array {
  const out = new Uint8Array(end);
  out.set(data.subarray(0, end));
  return out;
}

function countLines(data: Buffer, end: number): number {
  let n = 0;
  for (let i = data.indexOf(10); i !== -1 && i < end; i = data.indexOf(10, i + 1)) n++;
  return n;
}
