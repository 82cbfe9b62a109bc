/**
 * The options page: the user's (or admin's) view of the keyring. Extension origin; talks to the
 * background only through the protocol and never sees raw key material.
 */
import browser from 'webextension-polyfill';
import { BUILTIN_ADAPTERS, builtinAdapter } from '../adapters/registry';
import { formatTime, keyStatusText, localizePage, t, uiLanguage } from '../i18n';
import { adapterName, scopeText, siteName } from '../i18n/scope';
import { siteKey } from '../policy/site-mode';
import type { KeyInfo } from '../keys/model';
import { request } from '../messaging/client';
import { buildDiagnostics } from './diagnostics';
import { showKeyServiceSection } from './keyservice-section';
import { modeText, showPolicySection } from './policy-view';
import { showIsolatedSection } from './isolated-settings';
import { reviewImport } from './import-preview';

function $(doc: Document, id: string): HTMLElement {
  return doc.getElementById(id)!;
}

function say(el: HTMLElement, tone: 'ok' | 'error', text: string, busy = false): void {
  el.dataset.tone = tone;
  el.dataset.busy = String(busy); // "working…" lines are ok-toned but not a result yet
  el.textContent = text;
}

function fillTable(doc: Document, selector: string, rows: string[][]): void {
  const tbody = doc.querySelector(selector)!;
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = doc.createElement('tr');
      for (const [i, text] of cells.entries()) {
        const td = doc.createElement('td');
        td.textContent = text;
        if (i === 2) td.className = 'mono';
        tr.append(td);
      }
      return tr;
    }),
  );
}

function button(doc: Document, text: string, id: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = doc.createElement('button');
  b.type = 'button';
  b.id = id;
  b.className = 'small';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

function confirmRevoke(doc: Document, k: KeyInfo): boolean {
  const view = doc.defaultView;
  // Tests and kiosk browsers may have no dialogs; revoking is reversible by re-import of a new key only.
  return !view?.confirm || view.confirm(t('optConfirmRevoke', k.label, k.id));
}

export async function startOptionsPage(doc: Document): Promise<void> {
  localizePage(doc);
  void showPolicySection(doc);
  void showSites(doc);
  doc.getElementById('diagnostics-button')?.addEventListener('click', () => void downloadDiagnostics(doc)); // the enterprise policy in force, and its problems
  void showIsolatedSection(doc); // security indicator and isolated mode per site
  const site = $(doc, 'gen-site') as HTMLSelectElement;
  for (const a of BUILTIN_ADAPTERS) site.append(new Option(a.name, a.id));
  site.append(new Option(t('optEverySite'), '*'));
  const identitySite = $(doc, 'identity-site') as HTMLSelectElement;
  for (const a of BUILTIN_ADAPTERS) identitySite.append(new Option(a.name, a.id));

  const render = async () => {
    const res = await request('keys/list', {});
    const tbody = doc.querySelector('#keys tbody')!;
    tbody.replaceChildren();
    const keys = res.ok ? res.keys : [];
    renderLock(res.ok ? res.lock : 'none');
    fillTable(
      doc,
      '#identities tbody',
      (res.ok ? res.identities : []).map((i) => [adapterName(i.site), i.userId, i.publicKey]),
    );
    fillTable(
      doc,
      '#directory tbody',
      (res.ok ? res.directory : []).map((d) => [adapterName(d.site), d.userId, d.publicKey]),
    );
    ($(doc, 'no-keys') as HTMLParagraphElement).hidden = keys.length > 0;
    for (const k of keys) {
      const tr = doc.createElement('tr');
      tr.dataset.keyId = k.id;
      const cells = [
        k.label,
        k.id,
        k.fingerprint,
        scopeText(k.scope),
        keyStatusText(k.status),
        formatTime(k.createdAt),
      ];
      cells.forEach((text, i) => {
        const td = doc.createElement('td');
        td.textContent = text;
        if (i === 1 || i === 2) td.className = 'mono';
        if (i === 4) td.className = `status-${k.status}`;
        tr.append(td);
      });
      const actions = doc.createElement('td');
      if (k.status === 'active') {
        actions.append(
          button(doc, t('optRotate'), `rotate-${k.id}`, t('optRotateAria', k.label, k.id), () =>
            act('keys/rotate', k, 'rotated'),
          ),
        );
      }
      if (k.status !== 'revoked') {
        actions.append(
          button(doc, t('optRevoke'), `revoke-${k.id}`, t('optRevokeAria', k.label, k.id), () =>
            act('keys/set-status', k, 'revoked'),
          ),
        );
      }
      tr.append(actions);
      const td = doc.createElement('td');
      const box = doc.createElement('input');
      box.type = 'checkbox';
      box.className = 'export-pick';
      box.value = k.id;
      box.setAttribute('aria-label', t('optExportPick', k.label, k.id));
      td.append(box);
      tr.append(td);
      tbody.append(tr);
    }
  };

  const act = async (type: 'keys/rotate' | 'keys/set-status', k: KeyInfo, verb: string) => {
    const out = $(doc, 'keys-result');
    if (verb === 'revoked' && !confirmRevoke(doc, k)) return;
    const res =
      type === 'keys/rotate'
        ? await request('keys/rotate', { id: k.id })
        : await request('keys/set-status', { id: k.id, status: 'revoked' });
    if (!res.ok) return say(out, 'error', res.error.message);
    say(
      out,
      'ok',
      type === 'keys/rotate'
        ? t('optRotated', k.label, res.key.id, res.key.fingerprint, k.id)
        : t('optRevoked', k.label, k.id),
    );
    await render();
  };

  const renderLock = (lock: 'none' | 'locked' | 'unlocked') => {
    const state = $(doc, 'lock-state');
    state.dataset.lock = lock;
    state.textContent = t(
      ({ none: 'optLockNone', locked: 'optLockLocked', unlocked: 'optLockUnlocked' } as const)[lock],
    );
    ($(doc, 'unlock-form') as HTMLFormElement).hidden = lock !== 'locked';
    ($(doc, 'passphrase-form') as HTMLFormElement).hidden = lock === 'locked';
    ($(doc, 'lock-button') as HTMLButtonElement).hidden = lock !== 'unlocked';
  };

  $(doc, 'identity-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'identity-result');
    const res = await request('keys/create-identity', {
      site: identitySite.value,
      userId: ($(doc, 'identity-user') as HTMLInputElement).value,
    });
    if (!res.ok) return say(out, 'error', res.error.message);
    say(out, 'ok', t('optIdentityCreated', res.publicKey));
    await render();
  });

  $(doc, 'unlock-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $(doc, 'unlock-passphrase') as HTMLInputElement;
    const res = await request('keys/unlock', { passphrase: input.value }, 60_000);
    input.value = '';
    if (!res.ok) return say($(doc, 'lock-result'), 'error', res.error.message);
    say($(doc, 'lock-result'), 'ok', t('optUnlocked'));
    await render();
  });

  $(doc, 'passphrase-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $(doc, 'new-passphrase') as HTMLInputElement;
    const res = await request('keys/set-passphrase', { passphrase: input.value }, 60_000);
    const removed = !input.value;
    input.value = '';
    if (!res.ok) return say($(doc, 'lock-result'), 'error', res.error.message);
    say($(doc, 'lock-result'), 'ok', removed ? t('optPassphraseRemoved') : t('optPassphraseSet'));
    await render();
  });

  $(doc, 'lock-button').addEventListener('click', async () => {
    await request('keys/lock', {});
    say($(doc, 'lock-result'), 'ok', t('optLocked'));
    await render();
  });

  $(doc, 'import-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'import-result');
    const file = ($(doc, 'import-file') as HTMLInputElement).files?.[0];
    const passphrase = ($(doc, 'import-passphrase') as HTMLInputElement).value;
    if (!file) return say(out, 'error', t('optChooseFile'));
    say(out, 'ok', t('optImporting'), true);
    // Two steps: what the bundle would change first, written only once the user confirms it.
    const fileText = await file.text();
    const preview = await request('keys/import-preview', { fileText, passphrase }, 120_000);
    if (!preview.ok) return say(out, 'error', t('optImportFailed', preview.error.message));
    say(out, 'ok', t('optImportReview'), true);
    if (!(await reviewImport(doc, out, preview.plan))) return say(out, 'ok', t('optImportCancelled'));
    say(out, 'ok', t('optImporting'), true);
    const res = await request('keys/import', { fileText, passphrase, confirm: preview.plan.digest }, 120_000);
    if (!res.ok) return say(out, 'error', t('optImportFailed', res.error.message));
    say(out, 'ok', t('optImported', res.imported.length, res.imported.map((k) => `${k.label} (${k.id})`).join(', ')));
    ($(doc, 'import-passphrase') as HTMLInputElement).value = '';
    await render();
  });

  $(doc, 'generate-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'generate-result');
    const conversations = ($(doc, 'gen-conversations') as HTMLInputElement).value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const res = await request('keys/generate', {
      label: ($(doc, 'gen-label') as HTMLInputElement).value,
      scope: { site: site.value, conversations },
    });
    if (!res.ok) return say(out, 'error', res.error.message);
    say(out, 'ok', t('optGenerated', res.key.label, res.key.id, res.key.fingerprint));
    await render();
  });

  $(doc, 'export-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $(doc, 'export-result');
    const ids = [...doc.querySelectorAll<HTMLInputElement>('.export-pick:checked')].map((b) => b.value);
    const passphrase = ($(doc, 'export-passphrase') as HTMLInputElement).value;
    say(out, 'ok', t('optExporting'), true);
    const res = await request('keys/export', { ids, passphrase }, 120_000);
    if (!res.ok) return say(out, 'error', res.error.message);
    const link = $(doc, 'export-download') as HTMLAnchorElement;
    link.href = URL.createObjectURL(new Blob([res.fileText], { type: 'application/json' }));
    link.hidden = false;
    say(out, 'ok', t('optExported', ids.length));
  });

  void showKeyServiceSection(doc, () => void render());
  await render();
  revealTarget(doc);
}

/** Opened at a section (a blocked send's "Unlock Veil", the popup's links): show it and focus its first field. */
function revealTarget(doc: Document): void {
  const id = doc.defaultView?.location.hash.slice(1);
  const section = id ? doc.getElementById(id) : null;
  if (!section) return;
  section.scrollIntoView({ block: 'start' });
  const field = section.querySelector<HTMLElement>(
    'form:not([hidden]) input:not([type="hidden"]), button:not([hidden])',
  );
  field?.focus({ preventScroll: true });
}

/**
 * The protected sites in force, with their addresses and mode (isolated mode may be per site).
 * On an unmanaged install these are the user's own choice: a form adds a chat (one of Veil's
 * adapters and its address, checked by the background) and each row can be removed.
 */
async function showSites(doc: Document): Promise<void> {
  const tbody = doc.querySelector('#sites-table tbody');
  if (!tbody) return;
  const [res, modes] = await Promise.all([request('policy/get', {}), request('isolated/settings', {})]);
  if (!res.ok) return;
  const userChooses = !res.policy.managed;
  $(doc, 'sites-unmanaged').hidden = !userChooses;
  const form = $(doc, 'site-add-form') as HTMLFormElement;
  form.hidden = !userChooses;
  const rows = res.policy.protectedSites.flatMap((s) =>
    userChooses ? s.matches.map((m) => ({ ...s, matches: [m] })) : [s],
  );
  const trs = rows.map((s) => {
    const tr = doc.createElement('tr');
    tr.dataset.adapter = s.adapter;
    const mode = modes.ok ? modes.sites.find((m) => m.key === siteKey(s))?.mode : undefined;
    for (const [i, text] of [
      siteName(s),
      s.matches.join(', ') || t('optSitesNoAddress'),
      modeText(mode ?? res.policy.mode),
    ].entries()) {
      const td = doc.createElement('td');
      td.textContent = text;
      if (i === 1 && s.matches.length) td.className = 'mono';
      tr.append(td);
    }
    const actions = doc.createElement('td');
    const pattern = s.matches[0];
    if (userChooses && pattern) {
      tr.dataset.pattern = pattern;
      actions.append(
        button(
          doc,
          t('optSitesRemove'),
          `remove-site-${rows.indexOf(s)}`,
          t('optSitesRemoveAria', pattern),
          () =>
            void changeSites(
              doc,
              request('sites/remove', { adapter: s.adapter, pattern }),
              t('optSitesRemoved', pattern),
            ),
        ),
      );
    }
    tr.append(actions);
    return tr;
  });
  if (!trs.length) {
    const tr = doc.createElement('tr');
    const td = doc.createElement('td');
    td.colSpan = 4;
    td.textContent = t('optSitesNone');
    tr.append(td);
    trs.push(tr);
  }
  tbody.replaceChildren(...trs);
  if (userChooses && !form.dataset.wired) wireSiteForm(doc, form);
}

function wireSiteForm(doc: Document, form: HTMLFormElement): void {
  form.dataset.wired = 'true';
  const adapter = $(doc, 'site-adapter') as HTMLSelectElement;
  const address = $(doc, 'site-address') as HTMLInputElement;
  for (const a of BUILTIN_ADAPTERS) adapter.append(new Option(a.name, a.id));
  // Suggest the adapter's usual address, if it has one (self-hosted chats have none).
  const suggest = () =>
    (address.placeholder = builtinAdapter(adapter.value)?.defaultMatches[0] ?? 'https://chat.example.com/*');
  adapter.addEventListener('change', suggest);
  suggest();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = address.value.trim();
    void changeSites(doc, request('sites/add', { adapter: adapter.value, address: text }), '').then((ok) => {
      if (ok) address.value = '';
    });
  });
}

/** Applies an add or remove, says how it went, and redraws the table. */
async function changeSites(
  doc: Document,
  pending: ReturnType<typeof request<'sites/add'>>,
  okText: string,
): Promise<boolean> {
  const out = $(doc, 'sites-result');
  say(out, 'ok', '…', true);
  const res = await pending;
  if (!res.ok) {
    say(out, 'error', res.error.message);
    return false;
  }
  const added = res.sites.at(-1)?.matches[0] ?? '';
  say(out, 'ok', okText || t('optSitesAdded', added));
  await showSites(doc);
  return true;
}

/** Builds the diagnostics file from what Veil's pages may see (no secrets) and offers it as a download. */
async function downloadDiagnostics(doc: Document): Promise<void> {
  const [policy, keys, modes] = await Promise.all([
    request('policy/get', {}),
    request('keys/list', {}),
    request('isolated/settings', {}),
  ]);
  const scripts = await browser.scripting.getRegisteredContentScripts().catch(() => []);
  const data = buildDiagnostics({
    version: browser.runtime.getManifest().version,
    userAgent: navigator.userAgent,
    language: uiLanguage(),
    policy: policy.ok ? policy.policy : undefined,
    policyError: policy.ok ? undefined : policy.error.message,
    keys: keys.ok ? keys.keys : [],
    lock: keys.ok ? keys.lock : undefined,
    identities: keys.ok ? keys.identities : [],
    directorySize: keys.ok ? keys.directory.length : 0,
    contentScripts: scripts,
    sites: modes.ok ? modes.sites : [],
  });
  const name = `veil-diagnostics-${new Date().toISOString().slice(0, 10)}.json`;
  const link = $(doc, 'diagnostics-download') as HTMLAnchorElement;
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' }));
  link.download = name;
  link.click();
  say($(doc, 'diagnostics-result'), 'ok', t('optDiagReady', name));
}
