/**
 * The secure reader frame (isolated mode): shows one decrypted message, with its Veil status and
 * the user's security indicator (symbol, phrase and colour), inside the chat's message list.
 * Extension origin: the page can place, hide or resize this frame, but cannot read it.
 *
 * Geometry is all the page can measure, so it must not depend on the words. The page controls
 * the frame's width and would otherwise control its font too: sweeping the width and watching the
 * height would show where lines wrap. So the font is Veil's own (the page's font theme is
 * ignored), the text is laid out in widths of fixed steps, and the height the page gets depends
 * only on the message's length (which the envelope shows anyway) and the width step: a message
 * longer than its box scrolls inside the frame.
 */
import { splitFileRefs } from '../crypto/file-ref';
import { localizePage } from '../i18n';
import { request } from '../messaging/client';
import { viewOf } from '../i18n/status-text';
import { fileBox, READER_FILE_PX } from './reader-files';
import { applyTheme, indicatorElement, waitForGrant } from './secure-frame';

/** Text lines and the status line are this tall (secure-frame.css fixes font and line height). */
export const READER_LINE_PX = 20;
/** Layout widths are multiples of this, between one step and MAX_WIDTH_PX. */
export const READER_WIDTH_STEP_PX = 80;
const MAX_WIDTH_PX = 960;
/** Generous average advance of Veil's reader font per UTF-8 byte: a length-only line estimate. */
const PX_PER_BYTE = 8;
const MAX_LINES = 24;
/** Status line plus the reader's own padding (secure-frame.css). */
const CHROME_PX = READER_LINE_PX + 4;

/** The layout width for a frame `width` pixels wide: a step, never more than the frame shows. */
export function readerWidth(width: number): number {
  const steps = Math.floor(Math.max(0, width) / READER_WIDTH_STEP_PX);
  return Math.min(MAX_WIDTH_PX, Math.max(1, steps) * READER_WIDTH_STEP_PX);
}

/** The frame's height for a message of `bytes` UTF-8 bytes laid out `width` pixels wide. */
export function readerHeight(bytes: number, width: number): number {
  const lines = Math.min(MAX_LINES, Math.max(1, Math.ceil((bytes * PX_PER_BYTE) / width)));
  return CHROME_PX + lines * READER_LINE_PX;
}

export async function startSecureReader(doc: Document): Promise<void> {
  localizePage(doc);
  const win = doc.defaultView!;
  const root = doc.getElementById('reader')!;
  const { token, grant } = await waitForGrant(win, (text) => {
    root.className = 'veil-orphan';
    root.textContent = text;
  });
  const r = grant.reader;
  if (!r) return;
  applyTheme(doc.body, grant.theme, false, false);
  const view = viewOf(r.item, r.author, r.replayed);
  const text = doc.getElementById('text')!;
  // Text only (textContent), and only when the message is what it claims to be.
  const shown =
    r.item.status === 'decrypted' && view.status !== 'moved' && view.status !== 'sender-mismatch'
      ? (r.item.text ?? '')
      : '';
  // A message naming files: its own text, then a box per file (of one fixed height each).
  const { refs, text: caption } = splitFileRefs(shown);
  text.textContent = caption;
  text.after(...refs.map((ref, i) => fileBox(doc, ref, i, token)));
  const meta = doc.getElementById('meta')!;
  const badge = doc.createElement('span');
  badge.className = `veil-status veil-${view.tone}`;
  badge.dataset.veilStatus = view.status;
  badge.textContent = view.label;
  badge.title = view.detail;
  // The whole indicator: a symbol alone is matched by a look-alike one time in sixteen.
  meta.append(indicatorElement(doc, grant.indicator, true), badge);
  root.dataset.status = view.status;

  // The whole text's length (which the envelope shows anyway), not the caption's: the page must
  // not learn how long the file names are by subtracting one from the other.
  const bytes = new TextEncoder().encode(shown).length;
  let last = '';
  const layout = () => {
    const width = readerWidth(win.innerWidth);
    const textHeight = readerHeight(bytes, width) - CHROME_PX;
    const height = readerHeight(bytes, width) + refs.length * READER_FILE_PX;
    root.style.width = `${width}px`;
    text.style.height = `${textHeight}px`;
    if (`${width}/${height}` === last) return;
    last = `${width}/${height}`;
    void request('secure/size', { token, height });
  };
  win.addEventListener('resize', layout);
  layout();
}
