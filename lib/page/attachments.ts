/**
 * Files the user attaches in a protected chat, whichever way: the file picker (an <input
 * type=file>), drag and drop, or paste. Veil takes each trusted event in the capture phase on
 * window (registered at document_start, before any page listener), so the chat's own handlers
 * never see the plaintext File: for a file input the FileList is emptied in that same listener,
 * before the 'change' event a page waits for. The bytes go to the background in pieces, come back
 * sealed, and the chat then gets one opaque `<fileId>.veil` file per file through the same way
 * (the input's FileList, a drop or a paste event carrying it), and the reference goes into the
 * next message Veil encrypts (lib/page/send-guard.ts).
 *
 * Only the user's own input acts: a drop, paste or change the page scripts carries files the page
 * already has, so Veil lets it be and neither encrypts nor uploads anything for it.
 * Fail closed: a file Veil cannot encrypt is not handed to the page at all, and the line under
 * the composer says why. Not covered (docs/security.md): files the page reads without an event
 * Veil sees (showOpenFilePicker, navigator.clipboard.read): the page needs the user's permission.
 */
import { base64 } from '@scure/base';
import { queryFirst, type SiteAdapter } from '../adapters/types';
import type { FileRef } from '../crypto/file-ref';
import { t } from '../i18n';
import { request } from '../messaging/client';
import { FILE_PIECE_BYTES, type SiteStatus } from '../messaging/protocol';
import type { ComposerStatus } from './composer-status';

type Mode =
  | { kind: 'starting' }
  | { kind: 'armed'; adapter: SiteAdapter; policy: 'encrypt' | 'block' | 'allow'; maxBytes: number }
  | { kind: 'blocked'; message: string }
  | { kind: 'off' };

const FILE_EVENTS = ['input', 'change', 'drop', 'paste'] as const;

const isFileInput = (el: unknown): el is HTMLInputElement => el instanceof HTMLInputElement && el.type === 'file';

/** An element's shadow root, closed ones too (Chrome: chrome.dom; Firefox: on the element). */
function shadowOf(el: Element): ShadowRoot | null {
  const chromeDom = (globalThis as { chrome?: { dom?: { openOrClosedShadowRoot?(e: Element): ShadowRoot | null } } })
    .chrome?.dom;
  if (chromeDom?.openOrClosedShadowRoot) return chromeDom.openOrClosedShadowRoot(el);
  const own = (el as Element & { openOrClosedShadowRoot?: ShadowRoot | null }).openOrClosedShadowRoot;
  return own ?? el.shadowRoot;
}

/** A file input holding files inside `host`'s shadow trees, however deep (bounded). */
function fileInputInside(host: Element, depth = 0): HTMLInputElement | undefined {
  const root = depth < 8 ? shadowOf(host) : null;
  if (!root) return undefined;
  for (const el of root.querySelectorAll('*')) {
    if (isFileInput(el) && el.files?.length) return el;
    const inner = fileInputInside(el, depth + 1);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * The file input an input/change event is about, if any. From window, an input inside a closed
 * shadow root shows only its host as the target (and 'change' does not leave the shadow tree at
 * all): the input is then found through the host's shadow root, so a web component's picker is
 * sealed like any other.
 */
function fileInputOf(e: Event): HTMLInputElement | undefined {
  const el = e.composedPath()[0];
  if (isFileInput(el)) return el;
  return e.type === 'input' && el instanceof Element ? fileInputInside(el) : undefined;
}

/**
 * How the line under the composer names a file: by position, never by name. That line is in the
 * page, and the page never gets the file (nor its name) otherwise.
 */
const label = (i: number, n: number) => t('fileLabel', i + 1, n);

function filesOf(e: Event): File[] {
  if (e.type === 'drop') return [...((e as DragEvent).dataTransfer?.files ?? [])];
  if (e.type === 'paste') return [...((e as ClipboardEvent).clipboardData?.files ?? [])];
  return [...(fileInputOf(e)?.files ?? [])];
}

export class AttachmentGuard {
  private mode: Mode = { kind: 'starting' };
  /** Files handed to the page, waiting for the message that names them, per conversation. */
  private refs: { ref: FileRef; conversationId: string }[] = [];
  private working = 0;

  constructor(
    private readonly win: Window,
    private readonly status: ComposerStatus,
  ) {}

  install(): void {
    for (const type of FILE_EVENTS) this.win.addEventListener(type, this.onEvent, true);
  }

  arm(adapter: SiteAdapter, site: Pick<SiteStatus, 'attachments' | 'maxAttachmentBytes'>): void {
    this.mode = {
      kind: 'armed',
      adapter,
      policy: site.attachments ?? 'encrypt',
      maxBytes: site.maxAttachmentBytes ?? 256 * 1024 * 1024,
    };
  }

  /** No file may reach the page (isolated mode, a broken policy or adapter). */
  block(message: string): void {
    this.mode = { kind: 'blocked', message };
  }

  disarm(): void {
    this.mode = { kind: 'off' };
  }

  /** True while a file is being encrypted: a send now would go without its reference. */
  get busy(): boolean {
    return this.working > 0;
  }

  /**
   * The references of files handed to the page in this conversation since the last send (cleared
   * once that send went out). A single-page chat may switch conversations meanwhile: a file attached
   * in one never goes with a message in another.
   */
  pendingRefs(): FileRef[] {
    const conversationId = this.mode.kind === 'armed' ? this.mode.adapter.conversationId(document) : undefined;
    return this.refs.filter((r) => r.conversationId === conversationId).map((r) => r.ref);
  }

  sent(refs: FileRef[]): void {
    this.refs = this.refs.filter((r) => !refs.includes(r.ref));
  }

  private onEvent = (e: Event): void => {
    if (this.mode.kind === 'off' || !e.isTrusted) return; // the page's own events carry its own files
    const input = fileInputOf(e);
    if ((e.type === 'input' || e.type === 'change') && !input) return;
    if (this.mode.kind === 'armed' && this.mode.policy === 'allow') return;
    const files = filesOf(e);
    if (files.length === 0) {
      // The 'change' after the 'input' Veil already took (its FileList is empty now): not the page's.
      if (input) e.stopImmediatePropagation();
      return;
    }
    // From here on the page must not see these files: stop the event and empty the input now,
    // in this listener, before any page code runs.
    e.preventDefault();
    e.stopImmediatePropagation();
    if (input) input.files = new DataTransfer().files;
    const mode = this.mode;
    if (mode.kind === 'starting') return this.tell('error', t('composerStarting'));
    if (mode.kind === 'blocked') return this.tell('error', mode.message);
    if (mode.policy === 'block') return this.tell('error', t('fileBlockedPolicy'));
    const tooBig = files.findIndex((f) => f.size > mode.maxBytes);
    if (tooBig >= 0)
      return this.tell(
        'error',
        t('fileTooLarge', label(tooBig, files.length), Math.floor(mode.maxBytes / 1024 / 1024)),
      );
    const target = input ?? (e.composedPath()[0] as EventTarget | undefined) ?? this.win.document;
    const at = e instanceof MouseEvent ? { clientX: e.clientX, clientY: e.clientY } : {};
    void this.encryptAll(mode.adapter, files, (sealed) => giveToChat(e.type, target, sealed, at));
  };

  private async encryptAll(adapter: SiteAdapter, files: File[], hand: (sealed: File[]) => void): Promise<void> {
    this.working++;
    const done: { file: File; ref: FileRef; conversationId: string }[] = [];
    try {
      for (const [i, file] of files.entries()) {
        this.tell('busy', t('fileEncrypting', label(i, files.length)), adapter);
        const r = await this.encryptOne(adapter, file);
        if ('error' in r) {
          // Nothing of this drop or paste reaches the page: the user attaches again, all or nothing.
          this.tell('error', t('fileNotAttached', label(i, files.length), r.error), adapter);
          return;
        }
        done.push(r);
      }
      hand(done.map((d) => d.file));
      this.refs.push(...done.map(({ ref, conversationId }) => ({ ref, conversationId })));
      this.tell('ready', t('fileEncrypted', files.length === 1 ? label(0, 1) : t('fileCount', files.length)), adapter);
    } catch (e) {
      this.tell('error', t('fileNotAttached', label(0, files.length), String(e)), adapter);
    } finally {
      this.working--;
    }
  }

  /** Streams one file through the background; the sealed bytes only ever exist here as a Blob. */
  private async encryptOne(
    adapter: SiteAdapter,
    file: File,
  ): Promise<{ file: File; ref: FileRef; conversationId: string } | { error: string }> {
    const conversationId = adapter.conversationId(document);
    const senderId = adapter.currentUser(document);
    if (!conversationId || !senderId) return { error: t('composerNoContext') };
    const start = await request('file/seal-start', {
      conversationId,
      senderId,
      name: file.name || 'pasted',
      type: file.type,
      size: file.size,
    });
    if (!start.ok) return { error: start.error.message };
    const parts: Blob[] = [];
    try {
      for (let at = 0; at < file.size; at += FILE_PIECE_BYTES) {
        const bytes = new Uint8Array(await file.slice(at, at + FILE_PIECE_BYTES).arrayBuffer());
        const res = await request('file/seal-push', { sid: start.sid, data: base64.encode(bytes) });
        if (!res.ok) return { error: res.error.message };
        if (res.data) parts.push(new Blob([base64.decode(res.data) as Uint8Array<ArrayBuffer>]));
      }
      const end = await request('file/seal-finish', { sid: start.sid });
      if (!end.ok) return { error: end.error.message };
      parts.push(new Blob([base64.decode(end.data) as Uint8Array<ArrayBuffer>]));
      const sealed = new File(parts, start.fileName, { type: 'application/octet-stream' });
      return { file: sealed, ref: end.ref, conversationId };
    } catch (e) {
      void request('file/abort', { sid: start.sid });
      throw e;
    }
  }

  private tell(state: 'busy' | 'ready' | 'error', text: string, adapter?: SiteAdapter): void {
    const a = adapter ?? (this.mode.kind === 'armed' ? this.mode.adapter : undefined);
    const anchor = a && queryFirst<HTMLElement>(document, a.selectors.composer);
    if (anchor) this.status.attach(anchor);
    this.status.show(state, text);
  }
}

/**
 * Gives the page sealed files as if the user had attached them that way: a file input gets them in
 * its FileList (with the input and change events a page waits for), else a drop or paste event
 * carrying them. Veil's own listeners ignore these events (not trusted).
 */
export function giveToChat(
  type: string,
  target: EventTarget,
  files: File[],
  at: { clientX?: number; clientY?: number } = {},
): void {
  const dt = new DataTransfer();
  // Firefox shows a page only the data items its own principal added: from a content script they
  // are added through the page's view of the object (its realm then adds them).
  const items = ((dt as DataTransfer & { wrappedJSObject?: DataTransfer }).wrappedJSObject ?? dt).items;
  for (const f of files) items.add(f);
  const init = { bubbles: true, cancelable: true, composed: true };
  if (target instanceof HTMLInputElement) {
    target.files = dt.files;
    target.dispatchEvent(new Event('input', init));
    target.dispatchEvent(new Event('change', init));
  } else if (type === 'drop') {
    target.dispatchEvent(new DragEvent('drop', { ...init, ...at, dataTransfer: dt }));
  } else {
    const paste = new ClipboardEvent('paste', { ...init, clipboardData: dt });
    // Firefox's ClipboardEvent takes no `clipboardData` in its init (its init has dataType and data
    // only): there the page reads the files from the event's own property instead.
    if (!paste.clipboardData?.files.length) {
      const forPage = (paste as ClipboardEvent & { wrappedJSObject?: object }).wrappedJSObject ?? paste;
      Object.defineProperty(forPage, 'clipboardData', { value: dt, configurable: true });
    }
    target.dispatchEvent(paste);
  }
}
