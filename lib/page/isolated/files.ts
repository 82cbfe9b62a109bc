/**
 * The content script's side of isolated mode's files: sealed bytes only, in both directions.
 * - A file the user attached in the secure composer arrives from the background already sealed,
 *   piece by piece; once whole, the chat gets it as `<fileId>.veil` the way its adapter uploads
 *   (its file input, else a paste into its compose box).
 * - A reader opening a file its message names: the sealed file is fetched from the chat's link in
 *   that message (with the page's own credentials) and handed to the background piece by piece.
 * Only the background sends these commands (lib/page/isolated/isolated-page.ts checks the sender).
 */
import { base64 } from '@scure/base';
import { closestAny, queryFirst, type SiteAdapter } from '../../adapters/types';
import { FILE_PIECE_BYTES } from '../../messaging/protocol';
import { giveToChat } from '../attachments';
import { linkFor } from '../attachment-view';
import type { SecureFrame } from './frame-host';

/** Files being sealed at once (the background allows a few per tab). */
const MAX_SEALING = 8;
/** Sealed files fetched for readers, kept while they are read piece by piece. */
const MAX_FETCHED = 8;

export class IsolatedFiles {
  private sealing = new Map<string, Blob[]>();
  private fetched = new Map<string, SealedDownload>();

  constructor(
    private readonly doc: Document,
    private readonly adapter: SiteAdapter,
    private readonly readerFrame: (handle: string) => SecureFrame | undefined,
  ) {}

  piece(sid: string, data: string): void {
    let parts = this.sealing.get(sid);
    if (!parts) {
      if (this.sealing.size >= MAX_SEALING) this.sealing.delete(this.sealing.keys().next().value!);
      this.sealing.set(sid, (parts = []));
    }
    parts.push(new Blob([base64.decode(data) as Uint8Array<ArrayBuffer>]));
  }

  drop(sid: string): void {
    this.sealing.delete(sid);
  }

  /** The whole sealed file to the chat; the error to show when it is incomplete or the page has nowhere to take it. */
  hand(sid: string, data: string, fileName: string, pieces: number, box: HTMLElement): string | undefined {
    const parts = this.sealing.get(sid) ?? [];
    this.sealing.delete(sid);
    // A piece dropped meanwhile (too many files at once): never a cut file to the chat.
    if (parts.length !== pieces) return 'incomplete';
    parts.push(new Blob([base64.decode(data) as Uint8Array<ArrayBuffer>]));
    const file = new File(parts, fileName, { type: 'application/octet-stream' });
    const declared = this.adapter.selectors.fileInput ?? [];
    const input = queryFirst<HTMLInputElement>(this.doc, declared.length ? declared : ['input[type="file"]']);
    if (input instanceof HTMLInputElement && input.type === 'file') giveToChat('change', input, [file]);
    else if (box.isConnected) giveToChat('paste', box, [file]);
    else return 'no file input';
    return undefined;
  }

  /**
   * Sealed bytes of a reader's file from `at`, as they arrive. The download stops one byte past
   * `sealedSize`: the page's server cannot make Veil hold more than the message names.
   */
  async read(
    handle: string,
    fileId: string,
    at: number,
    sealedSize: number,
  ): Promise<{ data: string; end: boolean } | { error: string }> {
    const frame = this.readerFrame(handle);
    const message = frame?.host.isConnected ? closestAny(frame.host, this.adapter.selectors.message) : null;
    if (!message || !/^[0-9a-f]{32}$/.test(fileId) || ![at, sealedSize].every((n) => Number.isSafeInteger(n) && n >= 0))
      return { error: 'no such file' };
    const key = `${handle}\n${fileId}`;
    let d = this.fetched.get(key);
    if (!d) {
      const link = linkFor(message, fileId);
      if (!link) return { error: 'not in message' };
      d = new SealedDownload(link.href, sealedSize + 1);
      this.fetched.set(key, d);
      if (this.fetched.size > MAX_FETCHED) this.fetched.delete(this.fetched.keys().next().value!);
    }
    const piece = await d.piece(at);
    if (!piece) {
      this.fetched.delete(key);
      return { error: 'not in message' };
    }
    if (piece.end) this.fetched.delete(key); // read to its end: not kept
    return { data: base64.encode(piece.bytes), end: piece.end };
  }
}

/**
 * A sealed file downloading from the chat, read piece by piece as it arrives (a large file's first
 * piece does not wait for its last). At most `max` bytes are kept; then the download is cancelled.
 */
class SealedDownload {
  private parts: Blob[] = [];
  private size = 0;
  private state: 'loading' | 'done' | 'failed' = 'loading';
  private wake: (() => void)[] = [];

  constructor(url: string, max: number) {
    void this.run(url, max);
  }

  private async run(url: string, max: number): Promise<void> {
    try {
      const res = await fetch(url, { credentials: 'include' });
      if (!res.ok || !res.body) throw new Error(String(res.status));
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const take = value.subarray(0, Math.max(0, max - this.size));
        this.parts.push(new Blob([take as Uint8Array<ArrayBuffer>]));
        this.size += take.length;
        this.notify();
        if (this.size >= max) {
          void reader.cancel();
          break;
        }
      }
      this.state = 'done';
    } catch {
      this.state = 'failed';
    }
    this.notify();
  }

  private notify(): void {
    for (const w of this.wake.splice(0)) w();
  }

  /** The bytes from `at` (up to FILE_PIECE_BYTES) once they are here; `end`: the file ends with them. */
  async piece(at: number): Promise<{ bytes: Uint8Array; end: boolean } | undefined> {
    while (this.state === 'loading' && this.size < at + FILE_PIECE_BYTES)
      await new Promise<void>((r) => this.wake.push(r));
    if (this.state === 'failed') return undefined;
    const bytes = new Uint8Array(await new Blob(this.parts).slice(at, at + FILE_PIECE_BYTES).arrayBuffer());
    return { bytes, end: this.state === 'done' && at + bytes.length >= this.size };
  }
}
