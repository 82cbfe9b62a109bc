/**
 * Vendor exports, read as a stream of messages: JSON lines (the fixture chat's GET /api/export, or
 * any export with --*-field names), and Slack-style exports (a folder or a ZIP of
 * `<channel>/<YYYY-MM-DD>.json` day files holding arrays of { user, ts, text }). Only one line or
 * one day file is in memory at a time.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import yauzl from 'yauzl';
import type { RawMessage } from './archive-judge';

/** An export line or entry that is not a message Veil can judge: reported, never dropped. */
export interface BadInput {
  bad: string;
  id: string;
}

export type InputItem = RawMessage | BadInput;

export interface ArchiveInput {
  /** Messages in export order, in batches (one await per batch, not per message). */
  batches: AsyncIterable<InputItem[]>;
  /** Bytes (or entries) read so far and in all, for the progress line. */
  progress(): { done: number; total: number };
}

export class InputError extends Error {}

export interface FieldNames {
  text: string;
  author: string;
  conversation: string;
  time: string;
  id: string;
}

/** The fixture chat's export (fixtures/chat/server.mjs GET /api/export) is the default shape. */
export const FIXTURE_FIELDS: FieldNames = { text: 'text', author: 'from', conversation: 'conv', time: 'ts', id: 'id' };

/** Milliseconds since the epoch from a number or numeric string (seconds when small, as Slack's ts) or a date. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? Math.round(v * 1000) : v;
  if (typeof v !== 'string' || !v.trim()) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return parseTime(Number(v));
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A field by name, or by dotted path (`user.name`) for nested exports. */
function field(o: Record<string, unknown>, name: string): unknown {
  if (name in o || !name.includes('.')) return o[name];
  let v: unknown = o;
  for (const part of name.split('.')) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const asId = (v: unknown): string | undefined =>
  typeof v === 'string' && v ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;

function toMessage(o: unknown, f: FieldNames, where: string): InputItem {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return { bad: 'not a JSON object', id: where };
  const r = o as Record<string, unknown>;
  const id = asId(field(r, f.id)) ?? where;
  const text = field(r, f.text);
  if (typeof text !== 'string') return { bad: `no text in field "${f.text}"`, id };
  const author = asId(field(r, f.author));
  if (!author) return { bad: `no author in field "${f.author}"`, id };
  const conversation = asId(field(r, f.conversation));
  if (!conversation) return { bad: `no conversation in field "${f.conversation}"`, id };
  const time = parseTime(field(r, f.time));
  return { conversation, author, id, text, ...(time !== undefined ? { time } : {}) };
}

/** One line of a JSON lines export (`n` counts from 1): a message, an unreadable line, or nothing (blank). */
export function parseExportLine(line: string, fields: FieldNames, n: number): InputItem | undefined {
  if (line.endsWith('\r')) line = line.slice(0, -1);
  if (!line.trim()) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return { bad: `line ${n} is not JSON`, id: `line ${n}` };
  }
  return toMessage(o, fields, `line ${n}`);
}

/** Splits a file into batches of whole lines, `blockSize` bytes read at a time. */
export async function* lineBatches(stream: AsyncIterable<Buffer | string>): AsyncIterable<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = lines.pop()!;
    yield lines;
  }
  rest += decoder.end();
  if (rest) yield [rest];
}

/** JSON lines, one message per line; read 64 KB at a time (a few hundred lines), one batch per read. */
export function jsonLines(file: string, fields: FieldNames): ArchiveInput {
  const total = statSync(file).size;
  const stream = createReadStream(file, { highWaterMark: 1 << 16 });
  async function* batches(): AsyncIterable<InputItem[]> {
    let n = 0;
    for await (const lines of lineBatches(stream)) {
      const batch: InputItem[] = [];
      for (const l of lines) {
        const item = parseExportLine(l, fields, ++n);
        if (item) batch.push(item);
      }
      yield batch;
    }
  }
  return { batches: batches(), progress: () => ({ done: stream.bytesRead, total }) };
}

/** Slack message fields: `user` (bots: `bot_id` / `username`), `ts` (also its id in the channel), `text`. */
const SLACK_FIELDS: FieldNames = { text: 'text', author: 'user', conversation: 'channel', time: 'ts', id: 'ts' };
const DAY_FILE = /^\d{4}-\d{2}-\d{2}\.json$/;

/**
 * The conversation a Slack export file belongs to: `<channel>/<date>.json` or `channels/<name>.json`;
 * files at the top (channels.json, users.json, ...) describe the workspace and hold no messages.
 */
export function slackConversationOf(path: string): string | undefined {
  const parts = path.split(/[\\/]/).filter(Boolean);
  if (parts.length < 2 || !parts.at(-1)!.endsWith('.json')) return undefined;
  const name = parts.at(-1)!;
  return DAY_FILE.test(name) ? parts.at(-2) : name.slice(0, -'.json'.length);
}

function dayFileMessages(text: string, conversation: string, where: string): InputItem[] {
  let day: unknown;
  try {
    day = JSON.parse(text);
  } catch {
    return [{ bad: `${where} is not JSON`, id: where }];
  }
  if (!Array.isArray(day)) return [{ bad: `${where} is not a list of messages`, id: where }];
  const out: InputItem[] = [];
  for (const [i, m] of day.entries()) {
    const r = (m && typeof m === 'object' ? m : {}) as Record<string, unknown>;
    // Edits and deletions arrive as events about another message, not as messages.
    if (r.type !== undefined && r.type !== 'message') continue;
    if (r.subtype === 'message_changed' || r.subtype === 'message_deleted') continue;
    const author = r.user ?? r.bot_id ?? r.username;
    // The folder names the conversation, whatever a message says about itself.
    out.push(toMessage({ ...r, user: author, channel: conversation }, SLACK_FIELDS, `${where}[${i}]`));
  }
  return out;
}

/** A Slack-style export unpacked into a folder. */
export function slackFolder(root: string): ArchiveInput {
  const files: { path: string; rel: string; size: number }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (slackConversationOf(relative(root, path)))
        files.push({ path, rel: relative(root, path), size: st.size });
    }
  };
  walk(root);
  const total = files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  async function* batches(): AsyncIterable<InputItem[]> {
    for (const f of files) {
      yield dayFileMessages(readFileSync(f.path, 'utf8'), slackConversationOf(f.rel)!, f.rel.split(sep).join('/'));
      done += f.size;
    }
  }
  return { batches: batches(), progress: () => ({ done, total }) };
}

/** Largest day file read from a ZIP: more is not a day of chat but a decompression bomb. */
const MAX_DAY_FILE = 256 * 1024 * 1024;

/** A Slack-style export as the ZIP Slack hands out (yauzl: reads entry by entry, checks sizes and CRCs). */
export async function slackZip(file: string): Promise<ArchiveInput> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (e, z) =>
      e ? reject(new InputError(`${file}: ${e.message}`)) : resolve(z!),
    ),
  );
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      if (!e.fileName.endsWith('/') && slackConversationOf(e.fileName)) entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', (e: Error) => reject(new InputError(`${file}: ${e.message}`)));
    zip.readEntry();
  });
  // Name order is channel, then day: each conversation's history in time order.
  entries.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
  const total = entries.reduce((s, e) => s + e.compressedSize, 0);
  let done = 0;
  const readEntry = (e: yauzl.Entry) =>
    new Promise<string>((resolve, reject) => {
      if (e.uncompressedSize > MAX_DAY_FILE) return reject(new InputError(`${e.fileName}: larger than 256 MB`));
      zip.openReadStream(e, (err, s) => {
        if (err || !s) return reject(new InputError(`${e.fileName}: ${err?.message}`));
        const parts: Buffer[] = [];
        s.on('data', (c: Buffer) => parts.push(c));
        s.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        s.on('error', (x: Error) => reject(new InputError(`${e.fileName}: ${x.message}`)));
      });
    });
  async function* batches(): AsyncIterable<InputItem[]> {
    try {
      for (const e of entries) {
        yield dayFileMessages(await readEntry(e), slackConversationOf(e.fileName)!, e.fileName);
        done += e.compressedSize;
      }
    } finally {
      zip.close();
    }
  }
  return { batches: batches(), progress: () => ({ done, total }) };
}

/** Which reader an input needs: a folder or .zip is a Slack-style export, anything else JSON lines. */
export function inputKind(path: string, format: string): { kind: 'slack' | 'jsonl'; size: number; folder: boolean } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const folder = st.isDirectory();
  const kind = format !== 'auto' ? (format as 'slack' | 'jsonl') : folder || /\.zip$/i.test(path) ? 'slack' : 'jsonl';
  return { kind, size: st.size, folder };
}

export async function openInput(path: string, format: string, fields: FieldNames): Promise<ArchiveInput> {
  const { kind, folder } = inputKind(path, format);
  const st = { isDirectory: () => folder };
  if (kind === 'slack') return st.isDirectory() ? slackFolder(path) : slackZip(path);
  if (st.isDirectory()) throw new InputError(`${path} is a folder; JSON lines come in a file`);
  return jsonLines(path, fields);
}
