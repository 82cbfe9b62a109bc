/**
 * The review step of importing a key bundle (options page): what the bundle would change, with
 * the changes that matter marked, and buttons to confirm or cancel. A bundle is written by
 * whoever sent it; before it decides which key encrypts a conversation, lets the user sign as
 * someone, or changes who counts as verified, the user sees it and says yes.
 */
import { t } from '../i18n';
import { adapterName, scopeText } from '../i18n/scope';
import type { ImportPlan } from '../messaging/protocol';

const shortKey = (hex: string) => `${hex.slice(0, 16)}…`;

/** One line per change; `warn` lines change who encrypts or who is verified. */
export function planLines(plan: ImportPlan): { text: string; warn: boolean }[] {
  const lines: { text: string; warn: boolean }[] = [];
  for (const k of plan.keys) {
    lines.push({ text: t('optPreviewNewKey', k.label, k.id, k.fingerprint), warn: false });
    for (const old of k.replaces)
      lines.push({ text: t('optPreviewReplaces', scopeText(k.scope), `${old.label} (${old.id})`), warn: true });
  }
  for (const i of plan.identities)
    lines.push({ text: t('optPreviewIdentity', i.userId, adapterName(i.site), shortKey(i.publicKey)), warn: true });
  for (const d of plan.directory) {
    if (d.change === 'added')
      lines.push({
        text: t('optPreviewPersonAdded', d.userId, adapterName(d.site), shortKey(d.publicKey)),
        warn: true,
      });
    if (d.change === 'changed')
      lines.push({
        text: t(
          'optPreviewPersonChanged',
          d.userId,
          adapterName(d.site),
          shortKey(d.previousKey ?? ''),
          shortKey(d.publicKey),
        ),
        warn: true,
      });
  }
  if (lines.length === 0) lines.push({ text: t('optPreviewNothing'), warn: false });
  return lines;
}

/**
 * Shows the plan under `anchor` and resolves true when the user confirms, false on cancel.
 * The panel is removed either way.
 */
export function reviewImport(doc: Document, anchor: HTMLElement, plan: ImportPlan): Promise<boolean> {
  doc.getElementById('import-preview')?.remove();
  const panel = doc.createElement('div');
  panel.id = 'import-preview';
  panel.setAttribute('role', 'group');
  panel.setAttribute('aria-labelledby', 'import-preview-h');
  const h = doc.createElement('p');
  h.id = 'import-preview-h';
  h.textContent = t('optImportReview');
  const list = doc.createElement('ul');
  for (const line of planLines(plan)) {
    const li = doc.createElement('li');
    li.textContent = line.text;
    if (line.warn) li.dataset.tone = 'warn';
    list.append(li);
  }
  const confirm = doc.createElement('button');
  confirm.type = 'button';
  confirm.id = 'import-confirm';
  confirm.textContent = t('optImportConfirm');
  const cancel = doc.createElement('button');
  cancel.type = 'button';
  cancel.id = 'import-cancel';
  cancel.className = 'small';
  cancel.textContent = t('optImportCancel');
  panel.append(h, list, confirm, cancel);
  anchor.after(panel);
  confirm.focus();
  return new Promise((resolve) => {
    const done = (yes: boolean) => {
      panel.remove();
      resolve(yes);
    };
    confirm.addEventListener('click', () => done(true), { once: true });
    cancel.addEventListener('click', () => done(false), { once: true });
  });
}
