/**
 * Files in a secure reader (isolated mode): each file the message names gets a box with its real
 * name, size and type, a Download button and, for images, a decrypted preview. The sealed bytes
 * come from the chat's link through the content script and the background; the plaintext exists
 * only in this frame, and is used only once the background said all of it is authentic and is the
 * very file the message names.
 *
 * Every box has the same fixed height, whatever the file: the page sees the frame's size, and
 * must not learn from it which files are images.
 */
import { base64 } from '@scure/base';
import type { FileRef } from '../crypto/file-ref';
import { t } from '../i18n';
import { fileLabel, PREVIEW_TYPES, saveBlob } from '../i18n/files';
import { request } from '../messaging/client';

/** Height of one file's box (name and button line, preview area, note line); secure-frame.css matches it. */
export const READER_FILE_PX = 168;
/**
 * Files up to this sealed size are opened as the reader loads, whatever they hold: the server sees
 * which files a reader fetches, and must not learn from it which ones are images (nor wait for a
 * click to tell). A larger file is opened by its Download button.
 */
const OPEN_AT_ONCE_BYTES = 20 * 1024 * 1024;

type Opened = { blob: Blob; moved: boolean; name: string; type: string } | { error: string };

async function openFile(token: string, index: number): Promise<Opened> {
  const start = await request('secure/file-open', { token, index });
  if (!start.ok) return { error: start.error.message };
  const parts: Blob[] = [];
  try {
    for (;;) {
      const r = await request('secure/file-pull', { token, sid: start.sid }, 60_000);
      if (!r.ok) return { error: r.error.message };
      if (r.data) parts.push(new Blob([base64.decode(r.data) as Uint8Array<ArrayBuffer>]));
      if (r.done) {
        const type = PREVIEW_TYPES.test(r.type) ? r.type : 'application/octet-stream';
        return { blob: new Blob(parts, { type }), moved: r.moved, name: r.name, type: r.type };
      }
    }
  } catch (e) {
    void request('secure/file-abort', { token, sid: start.sid }).catch(() => undefined);
    return { error: String((e as Error)?.message ?? e) };
  }
}

export function fileBox(doc: Document, ref: FileRef, index: number, token: string): HTMLElement {
  const box = doc.createElement('div');
  box.className = 'veil-file';
  box.dataset.veilFile = ref.id;
  const line = doc.createElement('div');
  line.className = 'veil-file-line';
  const label = doc.createElement('span');
  label.className = 'veil-file-name';
  label.textContent = fileLabel(ref);
  label.title = label.textContent;
  const download = doc.createElement('button');
  download.type = 'button';
  download.className = 'veil-file-download';
  download.textContent = t('fileDownload');
  line.append(download, ' ', label);
  const area = doc.createElement('div');
  area.className = 'veil-file-area';
  const note = doc.createElement('div');
  note.className = 'veil-file-note';
  note.setAttribute('role', 'status');
  box.append(line, area, note);

  let opened: Promise<Opened> | undefined;
  // The file's own header names it (authenticated with the file): saved under that name once opened.
  let name = ref.name;
  const open = () => {
    if (!opened) {
      note.textContent = t('fileOpening');
      opened = openFile(token, index).then((r) => {
        if ('error' in r) {
          opened = undefined; // may be tried again (the chat was still uploading, say)
          note.textContent = r.error;
          box.dataset.veilFileState = 'refused';
        } else {
          name = r.name || ref.name;
          note.textContent = r.moved ? t('fileMoved') : '';
          box.dataset.veilFileState = r.moved ? 'moved' : 'ok';
        }
        return r;
      });
    }
    return opened;
  };
  let ready: Blob | undefined;
  download.addEventListener('click', (e) => {
    if (!e.isTrusted) return;
    if (ready) return saveBlob(doc, ready, name);
    void open().then((r) => {
      if ('error' in r) return;
      // A download from a frame needs the user's click to be recent: a long decrypt asks for one more.
      if (navigator.userActivation?.isActive ?? true) saveBlob(doc, r.blob, name);
      else {
        ready = r.blob;
        download.textContent = t('isoFileSave');
      }
    });
  });
  if (ref.sealedSize <= OPEN_AT_ONCE_BYTES) {
    void open().then((r) => {
      if ('error' in r || !PREVIEW_TYPES.test(r.type)) return;
      const img = doc.createElement('img');
      img.className = 'veil-file-preview';
      img.alt = name;
      img.src = URL.createObjectURL(r.blob);
      area.append(img);
    });
  }
  return box;
}
