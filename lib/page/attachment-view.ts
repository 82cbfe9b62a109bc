/**
 * Received attachments (inline mode): a decrypted message whose text names sealed files
 * (lib/crypto/file-ref.ts) shows each file's real name, size and type with a Download button, and
 * images a decrypted preview. The sealed bytes are fetched from the link the chat shows in the
 * same message (`<fileId>.veil`), streamed through the background, and used only once the
 * background said the whole file is authentic and is exactly the file the message names (its
 * SHA-256): a tampered, truncated or swapped file yields nothing but the reason.
 */
import { base64 } from '@scure/base';
import { splitFileRefs, type FileRef } from '../crypto/file-ref';
import { t } from '../i18n';
import { fileLabel, PREVIEW_TYPES, saveBlob } from '../i18n/files';
import { FILE_PIECE_BYTES, type MessageType, type Req, type Res } from '../messaging/protocol';

/** lib/messaging/client.ts's `request`, handed in (the renderer is tested without a browser). */
export type Requester = <K extends MessageType>(type: K, req: Req<K>) => Promise<Res<K>>;

/** Previews are decrypted without a click only up to this size. */
const PREVIEW_MAX_BYTES = 20 * 1024 * 1024;

/** The link to sealed file `fileId` (hex) in the chat's message element. */
export function linkFor(message: Element, fileId: string): HTMLAnchorElement | undefined {
  const name = `${fileId}.veil`;
  for (const a of message.querySelectorAll<HTMLAnchorElement>('a[href]')) {
    if (a.getAttribute('download') === name || a.textContent?.trim() === name) return a;
  }
  return undefined;
}

export interface FileContext {
  conversationId: string;
  author: string;
  /** The chat's message element (where its link to the sealed file is). */
  message: Element;
  request: Requester;
}

/**
 * Fills `into` with the message's own text and one box per attached file; returns false when the
 * text names no file (the caller shows it as ordinary text).
 */
export function renderFileMessage(into: HTMLElement, text: string, ctx: FileContext): boolean {
  const { refs, text: caption } = splitFileRefs(text);
  if (!refs.length) return false;
  const doc = into.ownerDocument;
  into.textContent = caption; // text only, never HTML
  for (const ref of refs) into.append(fileBox(doc, ref, ctx));
  return true;
}

function fileBox(doc: Document, ref: FileRef, ctx: FileContext): HTMLElement {
  const box = doc.createElement('span');
  box.className = 'veil-file';
  box.dataset.veilFile = ref.id;
  const label = doc.createElement('span');
  label.className = 'veil-file-name';
  label.textContent = fileLabel(ref);
  const note = doc.createElement('span');
  note.className = 'veil-file-note';
  note.setAttribute('role', 'status');
  const download = doc.createElement('button');
  download.type = 'button';
  download.className = 'veil-file-download';
  download.textContent = t('fileDownload');
  box.append(label, ' ', download, ' ', note);
  let busy = false;
  const run = async (use: (blob: Blob) => void) => {
    if (busy) return;
    busy = true;
    note.textContent = t('fileOpening');
    const r = await openAttached(ref, ctx);
    busy = false;
    if ('error' in r) {
      note.textContent = r.error;
      box.dataset.veilFileState = 'refused';
      return;
    }
    note.textContent = r.moved ? t('fileMoved') : '';
    box.dataset.veilFileState = r.moved ? 'moved' : 'ok';
    use(r.blob);
  };
  download.addEventListener('click', (e) => {
    e.preventDefault();
    e.stopPropagation();
    if (!e.isTrusted) return; // the page cannot make Veil fetch, decrypt and save a file
    void run((blob) => saveBlob(doc, blob, ref.name));
  });
  if (PREVIEW_TYPES.test(ref.type) && ref.size <= PREVIEW_MAX_BYTES) {
    const img = doc.createElement('img');
    img.className = 'veil-file-preview';
    img.alt = ref.name;
    const cached = previews.get(previewKey(ref, ctx));
    if (cached) {
      // A repaint of the same message (the page re-rendered it) shows the preview already opened.
      previews.delete(previewKey(ref, ctx));
      previews.set(previewKey(ref, ctx), cached);
      note.textContent = cached.moved ? t('fileMoved') : '';
      box.dataset.veilFileState = cached.moved ? 'moved' : 'ok';
      img.src = cached.url;
      box.prepend(img);
    } else {
      void run((blob) => {
        img.src = rememberPreview(previewKey(ref, ctx), {
          url: URL.createObjectURL(blob),
          moved: box.dataset.veilFileState === 'moved',
        });
        box.prepend(img);
      });
    }
  }
  return box;
}

/**
 * Decrypted previews by file and context, most recent last. Bounded: the page can make Veil repaint
 * a message as often as it likes, and each repaint must not fetch, decrypt and hold the image again.
 */
const previews = new Map<string, { url: string; moved: boolean }>();
const MAX_PREVIEWS = 64;
const previewKey = (ref: FileRef, ctx: FileContext) => `${ctx.conversationId}\n${ctx.author}\n${ref.sha256}`;

function rememberPreview(key: string, shown: { url: string; moved: boolean }): string {
  previews.set(key, shown);
  for (const [old, { url }] of previews) {
    if (previews.size <= MAX_PREVIEWS) break;
    previews.delete(old);
    URL.revokeObjectURL(url);
  }
  return shown.url;
}

/** Fetches the sealed file from the chat and has the background open it; plaintext only if all of it is good. */
async function openAttached(
  ref: FileRef,
  ctx: FileContext,
): Promise<{ blob: Blob; moved: boolean } | { error: string }> {
  const link = linkFor(ctx.message, ref.id);
  if (!link) return { error: t('fileNotInMessage') };
  const { request } = ctx;
  const start = await request('file/open-start', {
    conversationId: ctx.conversationId,
    author: ctx.author,
    sha256: ref.sha256,
    sealedSize: ref.sealedSize,
  });
  if (!start.ok) return { error: start.error.message };
  const parts: Blob[] = [];
  const push = async (bytes: Uint8Array): Promise<string | undefined> => {
    const res = await request('file/open-push', { sid: start.sid, data: base64.encode(bytes) });
    if (!res.ok) return res.error.message;
    if (res.data) parts.push(new Blob([base64.decode(res.data) as Uint8Array<ArrayBuffer>]));
    return undefined;
  };
  try {
    const res = await fetch(link.href, { credentials: 'include' });
    if (!res.ok || !res.body) return { error: t('fileNotInMessage') };
    const reader = res.body.getReader();
    let held: Uint8Array = new Uint8Array(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (value) held = held.length ? concat(held, value) : value;
      while (held.length >= FILE_PIECE_BYTES || (done && held.length)) {
        const err = await push(held.subarray(0, FILE_PIECE_BYTES));
        if (err) return { error: err };
        held = held.subarray(FILE_PIECE_BYTES);
      }
      if (done) break;
    }
    const end = await request('file/open-finish', { sid: start.sid });
    if (!end.ok) return { error: end.error.message };
    parts.push(new Blob([base64.decode(end.data) as Uint8Array<ArrayBuffer>]));
    const type = PREVIEW_TYPES.test(end.type) ? end.type : 'application/octet-stream';
    return { blob: new Blob(parts, { type }), moved: end.movedFromOtherConversation || end.senderMismatch };
  } catch (e) {
    void request('file/abort', { sid: start.sid });
    return { error: String(e) };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
