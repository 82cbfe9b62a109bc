/**
 * A worker thread of `archive decrypt` (scripts/archive-workers.ts): parses export lines and opens
 * each message's single envelope with the product's decryptFrame. Everything that depends on order
 * (replays, chunks, the status) stays with the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DirectoryEntry, KeyRecord } from '../lib/keys/model';
import type { Keyring } from '../lib/background/keyring';
import { openFrame, singleFrame } from './archive-judge';
import { type FieldNames, type InputItem, parseExportLine } from './archive-input';
import { ArchiveKeyring } from './archive-keys';

export interface WorkerJob {
  seq: number;
  /** Whole lines of the export, UTF-8 (the main thread hands the bytes over, it never decodes them). */
  bytes: Uint8Array;
  /** Line number of the first line (from 1). */
  first: number;
}

const data = workerData as { keys: KeyRecord[]; directory: DirectoryEntry[]; fields: FieldNames; site: string };
const ring = new ArchiveKeyring();
ring.add(data.keys, data.directory, 'archive');

// As the one-thread reader: a byte-order mark stays in its line (and makes it unreadable JSON there too).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

parentPort!.on('message', async ({ seq, bytes, first }: WorkerJob) => {
  try {
    const lines = utf8.decode(bytes).split('\n');
    if (lines.at(-1) === '') lines.pop();
    const items: InputItem[] = [];
    for (let i = 0; i < lines.length; i++) {
      const item = parseExportLine(lines[i]!, data.fields, first + i);
      if (!item) continue;
      if (!('bad' in item)) {
        const frame = singleFrame(item.text);
        if (frame) {
          item.opened = await openFrame(ring as unknown as Keyring, item, frame, data.site);
          item.text = ''; // judged from `opened` alone: the envelope need not be copied back
        }
      }
      items.push(item);
    }
    parentPort!.postMessage({ seq, items });
  } catch (e) {
    parentPort!.postMessage({ seq, error: (e as Error)?.stack ?? String(e) });
  }
});
