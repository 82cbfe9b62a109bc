/**
 * The first-run page, opened once after an unmanaged install: choose the chats Veil
 * protects (an unmanaged install protects none until the user says so; the options page's
 * "Protected sites" does it), get a key (import the
 * bundle IT or a colleague gave you, or create one for the team) and pick the security indicator
 * isolated mode's frames show. A managed install has nothing to do here and is told so (the
 * background normally does not open this page for it; policy can arrive after the page opened).
 * Extension origin; talks to the background through the protocol only.
 */
import { localizePage, t } from '../i18n';
import { request } from '../messaging/client';

function $<T extends HTMLElement = HTMLElement>(doc: Document, id: string): T {
  return doc.getElementById(id) as T;
}

function say(el: HTMLElement, tone: 'ok' | 'error', text: string): void {
  el.dataset.tone = tone;
  el.textContent = text;
}

export async function startWelcome(doc: Document): Promise<void> {
  localizePage(doc);
  const [policy, keys, isolated] = await Promise.all([
    request('policy/get', {}),
    request('keys/list', {}),
    request('isolated/settings', {}),
  ]);
  if (policy.ok && policy.policy.managed) {
    $(doc, 'welcome-managed').hidden = false;
    $(doc, 'welcome-steps').hidden = true;
    doc.body.dataset.welcome = 'managed';
    return;
  }
  doc.body.dataset.welcome = 'steps';
  const keysOut = $(doc, 'w-keys-result');
  const showKeyCount = (n: number) => {
    const p = $(doc, 'have-keys');
    p.hidden = n === 0;
    p.textContent = t('welcomeHaveKeys', n);
  };
  showKeyCount(keys.ok ? keys.keys.length : 0);
  $<HTMLInputElement>(doc, 'w-create-label').value = t('welcomeCreateDefault');

  $(doc, 'w-import-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = $<HTMLInputElement>(doc, 'w-import-file').files?.[0];
    if (!file) return say(keysOut, 'error', t('optChooseFile'));
    say(keysOut, 'ok', t('optImporting'));
    const passphrase = $<HTMLInputElement>(doc, 'w-import-passphrase');
    const res = await request('keys/import', { fileText: await file.text(), passphrase: passphrase.value }, 120_000);
    passphrase.value = '';
    if (!res.ok) return say(keysOut, 'error', t('optImportFailed', res.error.message));
    say(
      keysOut,
      'ok',
      t('optImported', res.imported.length, res.imported.map((k) => `${k.label} (${k.id})`).join(', ')),
    );
    await refreshCount();
  });

  $(doc, 'w-create-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const label = $<HTMLInputElement>(doc, 'w-create-label').value;
    const res = await request('keys/generate', { label, scope: { site: '*', conversations: ['*'] } });
    if (!res.ok) return say(keysOut, 'error', res.error.message);
    say(keysOut, 'ok', t('optGenerated', res.key.label, res.key.id, res.key.fingerprint));
    await refreshCount();
  });

  const refreshCount = async () => {
    const list = await request('keys/list', {});
    showKeyCount(list.ok ? list.keys.length : 0);
  };

  // The indicator step exists only where isolated mode does.
  if (!isolated.ok) {
    $(doc, 'step-indicator').hidden = true;
    return;
  }
  const symbol = $<HTMLInputElement>(doc, 'w-indicator-symbol');
  const phrase = $<HTMLInputElement>(doc, 'w-indicator-phrase');
  const color = $<HTMLInputElement>(doc, 'w-indicator-color');
  symbol.value = isolated.indicator.symbol;
  phrase.value = isolated.indicator.phrase;
  color.value = isolated.indicator.color;
  $(doc, 'w-indicator-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const res = await request('isolated/set-indicator', {
      indicator: { symbol: symbol.value, phrase: phrase.value, color: color.value },
    });
    const out = $(doc, 'w-indicator-result');
    if (!res.ok) return say(out, 'error', res.error.message);
    say(out, 'ok', t('welcomeIndicatorSaved'));
  });
}
