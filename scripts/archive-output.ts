/**
 * Where the decrypted archive goes: JSON lines, CSV, or an HTML report (a summary, then one
 * timeline per conversation). Files are created owner-only (0600) under a temporary name and
 * renamed when complete, so a crash never leaves half an archive that looks whole. The HTML
 * report's timelines are spooled per conversation next to the output (a 0700 folder, removed at
 * the end) so memory stays flat however the export interleaves conversations.
 */
import { closeSync, fchmodSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ArchiveRecord, ArchiveStatus } from './archive-judge';

export type OutputFormat = 'jsonl' | 'csv' | 'html';

export interface Summary {
  total: number;
  byStatus: Partial<Record<ArchiveStatus, number>>;
  conversations: number;
  first?: number;
  last?: number;
  keys: { id: string; status: string; fingerprint: string; label: string }[];
  input: string;
}

export interface ArchiveWriter {
  write(r: ArchiveRecord): void;
  /** Completes the output (the HTML report puts the summary first). */
  close(summary: Summary): void;
  /** Removes a partial output after a failure. */
  abort(): void;
}

/** The minute last formatted: messages come minutes apart, so its text is reused for most of them. */
let minute = { start: NaN, prefix: '' };

/** `new Date(ms).toISOString()`, formatting the date and time up to the minute once per minute. */
export function isoTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  const into = ms - minute.start;
  if (!(into >= 0 && into < 60_000) || !Number.isInteger(ms)) {
    const full = new Date(ms).toISOString();
    if (!Number.isInteger(ms)) return full;
    const start = ms - (((ms % 60_000) + 60_000) % 60_000);
    minute = { start, prefix: new Date(start).toISOString().slice(0, -7) }; // without "SS.mmmZ"
    return full;
  }
  const sec = Math.floor(into / 1000);
  const milli = into % 1000;
  return `${minute.prefix}${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Buffered, synchronous appends to an owner-only file (one syscall per 256 KB, not per line). */
class SecretFile {
  private fd: number;
  private buf: string[] = [];
  private size = 0;
  constructor(readonly path: string) {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    this.fd = openSync(path, 'w', 0o600);
    fchmodSync(this.fd, 0o600); // the umask may have narrowed the mode, never widened it; be explicit
  }
  write(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 18) this.flush();
  }
  flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
  /** Copies a file's bytes in (1 MB at a time). */
  append(path: string): void {
    this.flush();
    const fd = openSync(path, 'r');
    const chunk = Buffer.allocUnsafe(1 << 20);
    try {
      for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) writeSync(this.fd, chunk, 0, n);
    } finally {
      closeSync(fd);
    }
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** An output file written under a temporary name, renamed into place by `finish`. */
function secretOutput(out: string): { file: SecretFile; finish(): void; abort(): void } {
  const tmp = `${out}.tmp-${process.pid}`;
  const file = new SecretFile(tmp);
  return {
    file,
    finish: () => {
      file.close();
      renameSync(tmp, out);
    },
    abort: () => {
      try {
        file.close();
      } catch {
        // already closed
      }
      rmSync(tmp, { force: true });
    },
  };
}

/** The record as one JSON line; times as ISO 8601 (UTC) besides nothing else changed. */
export function jsonLine(r: ArchiveRecord): string {
  return JSON.stringify({
    ...r,
    time: r.time === undefined ? undefined : isoTime(r.time),
    sentAt: r.sentAt === undefined ? undefined : isoTime(r.sentAt),
  });
}

export const CSV_COLUMNS = [
  'conversation',
  'author',
  'time',
  'id',
  'parts',
  'status',
  'label',
  'plaintext',
  'key_id',
  'fingerprint',
  'key_status',
  'sent_at',
  'verified_signer',
  'signed_by',
  'edit_of',
  'quote',
  'reason',
] as const;

/**
 * RFC 4180 quoting; a cell a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading
 * apostrophe: message text is written by whoever sent it, and must stay text when opened in Excel.
 */
export function csvCell(v: string | undefined): string {
  let s = v ?? '';
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(r: ArchiveRecord): string {
  return [
    r.conversation,
    r.author,
    isoTime(r.time),
    r.id,
    r.parts?.join(' '),
    r.status,
    r.label,
    r.plaintext,
    r.keyId,
    r.fingerprint,
    r.keyStatus,
    isoTime(r.sentAt),
    r.verifiedSigner,
    r.signedBy,
    r.editOf,
    r.quote,
    r.reason,
  ]
    .map(csvCell)
    .join(',');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const TONE: Partial<Record<ArchiveStatus, string>> = {
  decrypted: 'ok',
  verified: 'ok',
  'revoked-key': 'warn',
  unverified: 'warn',
  'unknown-key': 'warn',
  'not-encrypted': 'warn',
  incomplete: 'warn',
};

function htmlRow(r: ArchiveRecord): string {
  const e = escapeHtml;
  const tone = TONE[r.status] ?? 'bad';
  const facts = [
    r.keyId && `key ${r.keyId}${r.fingerprint ? ` (${r.fingerprint})` : ''}${r.keyStatus ? `, ${r.keyStatus}` : ''}`,
    r.sentAt !== undefined && `sealed ${isoTime(r.sentAt)}`,
    r.verifiedSigner && `signed by ${r.verifiedSigner}`,
    r.signedBy && `signature by ${r.signedBy}`,
    r.editOf && `edit of ${r.editOf}`,
    r.quote &&
      `quote ${r.quote === 'verified' ? 'matches the original' : r.quote === 'unseen' ? 'of a message not in this export' : 'does not match the original'}`,
    r.parts && `${r.parts.length} parts`,
    r.reason,
  ].filter(Boolean) as string[];
  return (
    `<li class="${tone}"><div class="meta"><time>${e(isoTime(r.time))}</time> <b>${e(r.author)}</b> ` +
    `<span class="status" data-status="${e(r.status)}">${e(r.label)}</span> <small>${e(r.id)}</small></div>` +
    `<div class="text">${r.plaintext === undefined ? '<i>(no text)</i>' : e(r.plaintext)}</div>` +
    (facts.length ? `<div class="facts">${e(facts.join(' · '))}</div>` : '') +
    '</li>\n'
  );
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
ol{list-style:none;padding:0}li{border-left:4px solid #999;margin:.5em 0;padding:.2em .8em}
li.ok{border-color:#2a7}li.warn{border-color:#d90}li.bad{border-color:#c33;background:#fff4f4}
.meta{color:#555}.text{white-space:pre-wrap;word-break:break-word;margin:.2em 0}.facts{color:#777;font-size:12px}`;

/** Per-conversation spool files: buffered in memory up to a cap, then appended to disk. */
class HtmlWriter implements ArchiveWriter {
  private readonly dir: string;
  private readonly spools = new Map<string, { file: string; buf: string[]; size: number; count: number }>();
  private buffered = 0;
  private readonly target;

  constructor(out: string) {
    this.target = secretOutput(out);
    this.dir = `${out}.parts-${process.pid}`;
    mkdirSync(this.dir, { mode: 0o700 });
  }

  write(r: ArchiveRecord): void {
    let s = this.spools.get(r.conversation);
    if (!s)
      this.spools.set(
        r.conversation,
        (s = { file: join(this.dir, String(this.spools.size)), buf: [], size: 0, count: 0 }),
      );
    const row = htmlRow(r);
    s.buf.push(row);
    s.size += row.length;
    s.count++;
    this.buffered += row.length;
    if (this.buffered > 16 << 20) for (const sp of this.spools.values()) this.spill(sp);
  }

  private spill(s: { file: string; buf: string[]; size: number }): void {
    if (!s.buf.length) return;
    const fd = openSync(s.file, 'a', 0o600);
    writeSync(fd, s.buf.join(''));
    closeSync(fd);
    this.buffered -= s.size;
    s.buf = [];
    s.size = 0;
  }

  close(summary: Summary): void {
    const f = this.target.file;
    const e = escapeHtml;
    f.write(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
        `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
        `<title>Veil archive: ${e(summary.input)}</title><style>${STYLE}</style></head><body>\n` +
        `<h1>Veil archive</h1>\n<p>${e(summary.input)}: ${summary.total} message(s) in ${summary.conversations} ` +
        `conversation(s), ${e(isoTime(summary.first))} to ${e(isoTime(summary.last))}.</p>\n<h2>Summary</h2>\n<table id="summary">` +
        `<tr><th>Status</th><th>Messages</th></tr>\n`,
    );
    for (const [status, n] of Object.entries(summary.byStatus))
      f.write(`<tr><td>${e(status)}</td><td>${n}</td></tr>\n`);
    f.write('</table>\n<h2>Keys</h2>\n<table><tr><th>Key</th><th>Status</th><th>Fingerprint</th><th>Label</th></tr>\n');
    for (const k of summary.keys)
      f.write(
        `<tr><td>${e(k.id)}</td><td>${e(k.status)}</td><td>${e(k.fingerprint)}</td><td>${e(k.label)}</td></tr>\n`,
      );
    f.write('</table>\n<h2>Conversations</h2>\n<ul>\n');
    const names = [...this.spools.keys()].sort();
    names.forEach((name, i) => f.write(`<li><a href="#c${i}">${e(name)}</a> (${this.spools.get(name)!.count})</li>\n`));
    f.write('</ul>\n');
    names.forEach((name, i) => {
      const s = this.spools.get(name)!;
      f.write(`<section id="c${i}"><h2>${e(name)}</h2>\n<ol>\n`);
      this.spill(s);
      f.append(s.file);
      f.write('</ol></section>\n');
    });
    f.write('</body></html>\n');
    this.target.finish();
    rmSync(this.dir, { recursive: true, force: true });
  }

  abort(): void {
    this.target.abort();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

class LineWriter implements ArchiveWriter {
  constructor(
    private readonly emit: (line: string) => void,
    private readonly row: (r: ArchiveRecord) => string,
    private readonly done: () => void,
    readonly abort: () => void,
  ) {}
  write(r: ArchiveRecord): void {
    this.emit(this.row(r));
  }
  close(): void {
    this.done();
  }
}

/** `out` "-" is standard output (named explicitly: plaintext never goes anywhere by default). */
export function openWriter(format: OutputFormat, out: string, stdout: (line: string) => void): ArchiveWriter {
  const row = format === 'csv' ? csvRow : jsonLine;
  const header = format === 'csv' ? CSV_COLUMNS.join(',') : undefined;
  if (out === '-') {
    if (header) stdout(header);
    return new LineWriter(
      stdout,
      row,
      () => undefined,
      () => undefined,
    );
  }
  if (format === 'html') return new HtmlWriter(out);
  const t = secretOutput(out);
  if (header) t.file.write(`${header}\n`);
  return new LineWriter((l) => t.file.write(`${l}\n`), row, t.finish, t.abort);
}
