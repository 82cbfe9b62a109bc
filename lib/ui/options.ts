/**
 * The options page: the user's (or admin's) view of the keyring. Extension origin; talks to the
 * background only through the protocol and never sees raw key material.
 */
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import type { KeyInfo } from '../keys/model';
import { request } from '../messaging/client';
import { showPolicySection } from './policy-view';
import { showIsolatedSection } from './secure-settings';

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

function fillTable(doc: Document, selector: string, rows: string[][]): void {
  const tbody = doc.querySelector(selector)!;
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = doc.createElement('tr');
    for (const [i, text] of cells.entries()) {
      const td = doc.createElement('td');
      td.textContent = text;
      if (i === 2) td.className = 'mono';
      tr.append(td);
    }
    return tr;
  }));
}

function button(doc: Document, text: string, id: string, onClick: () => void): HTMLButtonElement {
  const b = doc.createElement('button');
  b.type = 'button';
  b.id = id;
  b.className = 'small';
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

function confirmRevoke(doc: Document, k: KeyInfo): boolean {
  const view = doc.defaultView;
  // Tests and kiosk browsers may have no dialogs; revoking is reversible by re-import of a new key only.
  return !view?.confirm || view.confirm(`Revoke ${k.label} (${k.id})? It will never encrypt again and its messages will be flagged.`);
}

export async function startOptionsPage(doc: Document): Promise<void> {
  void showPolicySection(doc); // the enterprise policy in force, and its problems (issue #4)
  void showIsolatedSection(doc); // security indicator and isolated mode per site (issue #6)
  const site = $(doc, 'gen-site') as HTMLSelectElement;
  for (const a of BUILTIN_ADAPTERS) site.append(new Option(a.name, a.id));
  site.append(new Option('Every protected site', '*'));
  const identitySite = $(doc, 'identity-site') as HTMLSelectElement;
  for (const a of BUILTIN_ADAPTERS) identitySite.append(new Option(a.name, a.id));

  const render = async () => {
    const res = await request('keys/list', {});
    const tbody = doc.querySelector('#keys tbody')!;
    tbody.replaceChildren();
    const keys = res.ok ? res.keys : [];
    renderLock(res.ok ? res.lock : 'none');
    fillTable(doc, '#identities tbody', (res.ok ? res.identities : []).map((i) => [i.site, i.userId, i.publicKey]));
    fillTable(doc, '#directory tbody', (res.ok ? res.directory : []).map((d) => [d.site, d.userId, d.publicKey]));
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
      const actions = doc.createElement('td');
      if (k.status === 'active') actions.append(button(doc, 'Rotate', `rotate-${k.id}`, () => act('keys/rotate', k, 'rotated')));
      if (k.status !== 'revoked') actions.append(button(doc, 'Revoke', `revoke-${k.id}`, () => act('keys/set-status', k, 'revoked')));
      tr.append(actions);
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

  const act = async (type: 'keys/rotate' | 'keys/set-status', k: KeyInfo, verb: string) => {
    const out = $(doc, 'keys-result');
    if (verb === 'revoked' && !confirmRevoke(doc, k)) return;
    const res = type === 'keys/rotate'
      ? await request('keys/rotate', { id: k.id })
      : await request('keys/set-status', { id: k.id, status: 'revoked' });
    if (!res.ok) return say(out, 'error', res.error.message);
    say(out, 'ok', type === 'keys/rotate'
      ? `Rotated ${k.label}: new key ${res.key.id} (${res.key.fingerprint}) encrypts from now on; ${k.id} still reads history. Share the new key with your team.`
      : `Revoked ${k.label} (${k.id}): it never encrypts again, and messages under it are flagged.`);
    await render();
  };

  const renderLock = (lock: 'none' | 'locked' | 'unlocked') => {
    const state = $(doc, 'lock-state');
    state.dataset.lock = lock;
    state.textContent = {
      none: 'No passphrase lock: keys are protected by this browser profile only.',
      locked: 'Locked: Veil cannot send or read encrypted messages until you unlock it.',
      unlocked: 'Unlocked. Veil locks itself after 15 minutes without use.',
    }[lock];
    ($(doc, 'unlock-form') as HTMLFormElement).hidden = lock !== 'locked';
    ($(doc, 'passphrase-form') as HTMLFormElement).hidden = lock === 'locked';
    ($(doc, 'lock-button') as HTMLButtonElement).hidden = lock !== 'unlocked';
  };

  $(doc, 'identity-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'identity-result');
    const res = await request('keys/create-identity', { site: identitySite.value, userId: ($(doc, 'identity-user') as HTMLInputElement).value });
    if (!res.ok) return say(out, 'error', res.error.message);
    say(out, 'ok', `Created. Send this public key to your IT team so colleagues can verify you: ${res.publicKey}`);
    await render();
  });

  $(doc, 'unlock-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $(doc, 'unlock-passphrase') as HTMLInputElement;
    const res = await request('keys/unlock', { passphrase: input.value }, 60_000);
    input.value = '';
    if (!res.ok) return say($(doc, 'lock-result'), 'error', res.error.message);
    say($(doc, 'lock-result'), 'ok', 'Unlocked.');
    await render();
  });

  $(doc, 'passphrase-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $(doc, 'new-passphrase') as HTMLInputElement;
    const res = await request('keys/set-passphrase', { passphrase: input.value }, 60_000);
    const removed = !input.value;
    input.value = '';
    if (!res.ok) return say($(doc, 'lock-result'), 'error', res.error.message);
    say($(doc, 'lock-result'), 'ok', removed ? 'Passphrase lock removed.' : 'Passphrase set. Keys are now sealed with it.');
    await render();
  });

  $(doc, 'lock-button').addEventListener('click', async () => {
    await request('keys/lock', {});
    say($(doc, 'lock-result'), 'ok', 'Locked.');
    await render();
  });

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
