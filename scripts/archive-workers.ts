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
import { type ArchiveInput, type FieldNames, type InputItem, lineBatches } from './archive-input';
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
  const request = (job: WorkerJob) =>
    new Promise<InputItem[]>((resolve, reject) => {
      waiting.set(job.seq, { resolve, reject });
      workers[job.seq % jobs]!.postMessage(job);
    });

  async function* batches(): AsyncIterable<InputItem[]> {
    const inFlight = new Map<number, Promise<InputItem[]>>();
    let sent = 0;
    let next = 0;
    let line = 1;
    try {
      for await (const lines of lineBatches(stream)) {
        inFlight.set(sent, request({ seq: sent, lines, first: line }));
        // A rejected answer is awaited (and thrown) in order below; never an unhandled rejection.
        inFlight.get(sent)!.catch(() => undefined);
        sent++;
        line += lines.length;
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
