/**
 * The secure reader frame (isolated mode): shows decrypted messages, each with its Veil status and
 * the user's security indicator (symbol, phrase and colour), inside the chat's message list.
 * Extension origin: the page can place, hide or resize this frame, but cannot read it.
 *
 * One frame shows one message, or every message of a range in view at once (a frame costs tens of
 * milliseconds of the browser's time to load, a message in an open frame almost nothing): it then
 * lies over the list, clipped by the content script to the messages' places, and puts each message
 * at the place the content script gives it (lib/page/isolated/reader-ranges.ts).
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
import { cleanReaderLayout, type ReaderSlotPlace } from '../messaging/frame-types';
import { t } from '../i18n';
import { applyTheme, indicatorElement, waitForReaderGrants, type Granted } from './secure-frame';

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
  const root = doc.getElementById('readers')!;
  const { slots, layout, port } = await waitForReaderGrants(win, (text) => {
    root.className = 'veil-orphan';
    root.textContent = text;
  });
  applyTheme(doc.body, slots.find(Boolean)!.grant.theme, false, false);
  const views = slots.map((s) => (s ? messageView(doc, s) : failedView(doc)));
  root.className = '';
  root.replaceChildren(...views.map((v) => v.el));
  // One message: it fills the frame. A range (the content script sent its port): each message at
  // its place, and none shown until the content script said where.
  const ranged = !!port;
  let places: (ReaderSlotPlace | null)[] = ranged
    ? (layout?.slots ?? views.map(() => null))
    : [{ top: 0, left: 0, width: -1, height: -1 }];
  if (ranged) root.classList.add('veil-range');
  const place = () => views.forEach((v, i) => v.place(places[i] ?? null, win.innerWidth));
  port?.addEventListener('message', (e: MessageEvent) => {
    const next = cleanReaderLayout(e.data, views.length);
    if (!next) return;
    places = next.slots;
    place();
  });
  port?.start();
  win.addEventListener('resize', place);
  place();
}

interface SlotView {
  el: HTMLElement;
  /** Puts the message at `at` (width -1: the frame's own width), or hides it (null). */
  place(at: ReaderSlotPlace | null, frameWidth: number): void;
}

/** One decrypted message: its text (text only, never HTML), files, status and the user's indicator. */
function messageView(doc: Document, { token, grant }: Granted): SlotView {
  const r = grant.reader!;
  const view = viewOf(r.item, r.author, r.replayed);
  const el = doc.createElement('div');
  el.className = 'veil-reader';
  const text = doc.createElement('span');
  text.className = 'veil-reader-text';
  // Only when the message is what it claims to be.
  const shown =
    r.item.status === 'decrypted' && view.status !== 'moved' && view.status !== 'sender-mismatch'
      ? (r.item.text ?? '')
      : '';
  // A message naming files: its own text, then a box per file (of one fixed height each).
  const { refs, text: caption } = splitFileRefs(shown);
  text.textContent = caption;
  const meta = doc.createElement('span');
  meta.className = 'veil-reader-meta';
  const badge = doc.createElement('span');
  badge.className = `veil-status veil-${view.tone}`;
  badge.dataset.veilStatus = view.status;
  badge.textContent = view.label;
  badge.title = view.detail;
  // The whole indicator: a symbol alone is matched by a look-alike one time in sixteen.
  meta.append(indicatorElement(doc, grant.indicator, true), badge);
  el.append(text, ...refs.map((ref, i) => fileBox(doc, ref, i, token)), meta);
  el.dataset.status = view.status;

  // The whole text's length (which the envelope shows anyway), not the caption's: the page must
  // not learn how long the file names are by subtracting one from the other.
  const bytes = new TextEncoder().encode(shown).length;
  let last = '';
  return {
    el,
    place(at, frameWidth) {
      el.hidden = !at;
      if (!at) return;
      const width = readerWidth(at.width < 0 ? frameWidth : at.width);
      const height = readerHeight(bytes, width) + refs.length * READER_FILE_PX;
      el.style.width = `${width}px`;
      el.style.top = `${at.top}px`;
      el.style.left = `${at.left}px`;
      // In a range: cut at the place's height, so a place the page shrank shows less of this
      // message, never this message over the next one's place.
      el.style.height = at.height < 0 ? '' : `${at.height}px`;
      text.style.height = `${readerHeight(bytes, width) - CHROME_PX}px`;
      if (`${width}/${height}` === last) return;
      last = `${width}/${height}`;
      void request('secure/size', { token, height });
    },
  };
}

/** A message whose token did not work (expired before the frame loaded): says so, nothing else. */
function failedView(doc: Document): SlotView {
  const el = doc.createElement('div');
  el.className = 'veil-reader veil-orphan';
  el.textContent = t('isoReaderOpenFailed');
  return {
    el,
    place(at) {
      el.hidden = !at;
      if (at) Object.assign(el.style, { top: `${at.top}px`, left: `${at.left}px`, width: `${at.width}px` });
      if (at && at.height >= 0) el.style.height = `${at.height}px`;
    },
  };
}
