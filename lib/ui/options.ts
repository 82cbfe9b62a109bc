/**
 * The options page: the user's (or admin's) view of the keyring. Extension origin; talks to the
 * background only through the protocol and never sees raw key material.
 */
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import type { KeyInfo } from '../keys/model';
import { request } from '../messaging/client';

function $(doc: Document, id: string): HTMLElement {
  return doc.getElementById(id)!;
}

function say(el: HTMLElement, tone: 'ok' | 'error', text: string): void {
  el.dataset.tone = tone;
  el.textContent = text;
}

function describeScope(k: KeyInfo): string {
  const site = k.scope.site === '*' ? 'every protected site' : k.scope.site;
  return `${site}: ${k.scope.conversations.join(', ')}`;
}

export async function startOptionsPage(doc: Document): Promise<void> {
  const site = $(doc, 'gen-site') as HTMLSelectElement;
  for (const a of BUILTIN_ADAPTERS) site.append(new Option(a.name, a.id));
  site.append(new Option('Every protected site', '*'));

  const render = async () => {
    const res = await request('keys/list', {});
    const tbody = doc.querySelector('#keys tbody')!;
    tbody.replaceChildren();
    const keys = res.ok ? res.keys : [];
    ($(doc, 'no-keys') as HTMLParagraphElement).hidden = keys.length > 0;
    for (const k of keys) {
      const tr = doc.createElement('tr');
      tr.dataset.keyId = k.id;
      const cells = [k.label, k.id, k.fingerprint, describeScope(k), k.status, new Date(k.createdAt).toLocaleString()];
      cells.forEach((text, i) => {
        const td = doc.createElement('td');
        td.textContent = text;
        if (i === 1 || i === 2) td.className = 'mono';
        if (i === 4) td.className = `status-${k.status}`;
        tr.append(td);
      });
      const td = doc.createElement('td');
      const box = doc.createElement('input');
      box.type = 'checkbox';
      box.className = 'export-pick';
      box.value = k.id;
      box.setAttribute('aria-label', `Export key ${k.label} (${k.id})`);
      td.append(box);
      tr.append(td);
      tbody.append(tr);
    }
  };

  $(doc, 'import-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'import-result');
    const file = ($(doc, 'import-file') as HTMLInputElement).files?.[0];
    const passphrase = ($(doc, 'import-passphrase') as HTMLInputElement).value;
    if (!file) return say(out, 'error', 'Choose a bundle file first.');
    say(out, 'ok', 'Importing… (deriving the key from your passphrase takes a moment)');
    const res = await request('keys/import', { fileText: await file.text(), passphrase }, 120_000);
    if (!res.ok) return say(out, 'error', `Nothing imported: ${res.error.message}`);
    say(out, 'ok', `Imported ${res.imported.length} key(s): ${res.imported.map((k) => `${k.label} (${k.id})`).join(', ')}`);
    ($(doc, 'import-passphrase') as HTMLInputElement).value = '';
    await render();
  });

  $(doc, 'generate-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'generate-result');
    const conversations = ($(doc, 'gen-conversations') as HTMLInputElement).value.split(',').map((s) => s.trim()).filter(Boolean);
    const res = await request('keys/generate', {
      label: ($(doc, 'gen-label') as HTMLInputElement).value,
      scope: { site: site.value, conversations },
    });
    if (!res.ok) return say(out, 'error', res.error.message);
    say(out, 'ok', `Generated ${res.key.label} (${res.key.id}, fingerprint ${res.key.fingerprint}).`);
    await render();
  });

  $(doc, 'export-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'export-result');
    const ids = [...doc.querySelectorAll<HTMLInputElement>('.export-pick:checked')].map((b) => b.value);
    const passphrase = ($(doc, 'export-passphrase') as HTMLInputElement).value;
    say(out, 'ok', 'Encrypting the bundle…');
    const res = await request('keys/export', { ids, passphrase }, 120_000);
    if (!res.ok) return say(out, 'error', res.error.message);
    const link = $(doc, 'export-download') as HTMLAnchorElement;
    link.href = URL.createObjectURL(new Blob([res.fileText], { type: 'application/json' }));
    link.hidden = false;
    say(out, 'ok', `Bundle ready with ${ids.length} key(s). Share the file and the passphrase through different channels.`);
  });

  await render();
}
