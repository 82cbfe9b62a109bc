/**
 * The secure reader frame (isolated mode, issue #6): shows one decrypted message, with its Veil
 * status and the user's security indicator, inside the chat's message list. Extension origin:
 * the page can place, hide or resize this frame, but cannot read it.
 */
import { localizePage } from '../i18n';
import { request } from '../messaging/client';
import { viewOf } from '../i18n/status-text';
import { applyTheme, indicatorElement, waitForGrant } from './secure-frame';

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
  applyTheme(doc.body, grant.theme, false);
  const view = viewOf(r.item, r.author, r.replayed);
  const text = doc.getElementById('text')!;
  // Text only (textContent), and only when the message is what it claims to be.
  if (r.item.status === 'decrypted' && view.status !== 'moved' && view.status !== 'sender-mismatch')
    text.textContent = r.item.text ?? '';
  const meta = doc.getElementById('meta')!;
  const badge = doc.createElement('span');
  badge.className = `veil-status veil-${view.tone}`;
  badge.dataset.veilStatus = view.status;
  badge.textContent = view.label;
  badge.title = view.detail;
  meta.append(indicatorElement(doc, grant.indicator, false), badge);
  root.dataset.status = view.status;

  // Sized to content: report the height whenever it changes (wrapping changes with the width).
  let last = -1;
  const report = () => {
    const h = Math.ceil(doc.documentElement.getBoundingClientRect().height);
    if (h === last) return;
    last = h;
    void request('secure/size', { token, height: h });
  };
  new ResizeObserver(report).observe(doc.body);
  report();
}
