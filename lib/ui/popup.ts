/**
 * The toolbar popup: for the tab it was opened on, one glance answers "am I protected here, and by
 * whom?" (a verdict, the site, the policy, the key that encrypts), plus anything wrong with the
 * policy and, when Veil is locked, the way to unlock. Extension origin; asks the background through
 * the protocol and never sees key material.
 */
import { sendsBlocked } from '../policy/policy';
import browser from 'webextension-polyfill';
import { keyStatusText, localizePage, t } from '../i18n';
import { scopeText, siteName } from '../i18n/scope';
import type { KeyInfo } from '../keys/model';
import { request } from '../messaging/client';
import { policySourceText, renderPolicyErrors } from './policy-view';
import { startSearch } from './popup-search';

type Verdict = 'protected' | 'unprotected' | 'failed-closed' | 'locked' | 'no-key' | 'error' | 'unknown';

const ICONS: Record<Verdict, string> = {
  protected: '🔒',
  unprotected: '○',
  'failed-closed': '⛔',
  locked: '🔒',
  'no-key': '🔑',
  error: '⚠',
  unknown: '?',
};

function $(doc: Document, id: string): HTMLElement {
  return doc.getElementById(id)!;
}

async function activeTabUrl(): Promise<string | undefined> {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.url;
}

function keyLine(doc: Document, k: KeyInfo): HTMLLIElement {
  const li = doc.createElement('li');
  li.dataset.keyId = k.id;
  li.dataset.status = k.status;
  li.textContent = t(
    'popupKeyItem',
    k.label,
    k.id,
    k.fingerprint,
    keyStatusText(k.status),
    t(k.source === 'policy' ? 'keySourcePolicy' : k.source === 'keyservice' ? 'keySourceService' : 'keySourceYours'),
    scopeText(k.scope),
  );
  return li;
}

/** The verdict block: one word, a sentence, and the state the CSS colours (and tests read). */
function verdict(doc: Document, state: Verdict, title: string, sentence: string): void {
  $(doc, 'verdict').dataset.state = state;
  $(doc, 'verdict-icon').textContent = ICONS[state];
  $(doc, 'verdict-title').textContent = title;
  const line = $(doc, 'site-state');
  line.dataset.state = state;
  line.textContent = sentence;
}

function openOptions(section?: string): void {
  if (section) void browser.tabs.create({ url: browser.runtime.getURL(`/options.html#${section}`) });
  else void browser.runtime.openOptionsPage();
}

export async function startPopup(doc: Document): Promise<void> {
  localizePage(doc);
  $(doc, 'open-options').addEventListener('click', (e) => {
    e.preventDefault();
    openOptions();
  });
  $(doc, 'unlock-button').addEventListener('click', () => openOptions('lock'));
  const url = await activeTabUrl();
  if (!url) {
    verdict(doc, 'unknown', t('popupNotProtected'), t('popupNoUrl'));
    startSearch(doc, undefined);
    return;
  }
  $(doc, 'site-host').textContent = /^https?:/.test(url) ? new URL(url).host : url;
  const [res, keyring] = await Promise.all([request('policy/tab', { url }), request('keys/list', {})]);
  if (!res.ok) {
    verdict(doc, 'error', t('popupBlocked'), t('errGeneric', res.error.message));
    return;
  }
  const { policy, site, keys } = res;
  startSearch(doc, site ? url : undefined);
  $(doc, 'policy-source').textContent = policySourceText(policy);
  $(doc, 'policy-source').dataset.managed = String(policy.managed);
  $(doc, 'errors-slot').replaceChildren(renderPolicyErrors(doc, policy));
  $(doc, 'keys').replaceChildren(...keys.map((k) => keyLine(doc, k)));
  if (!site) {
    verdict(doc, 'unprotected', t('popupNotProtected'), t('popupNotProtectedDetail'));
    $(doc, 'keys-section').hidden = true;
    return;
  }
  const name = siteName(site);
  const locked = keyring.ok && keyring.lock === 'locked';
  const active = keys.filter((k) => k.status === 'active');
  if (sendsBlocked(policy)) {
    verdict(doc, 'failed-closed', t('popupBlocked'), t('popupBlockedDetail', name));
  } else if (locked) {
    verdict(doc, 'locked', t('popupLocked'), t('popupLockedDetail', name));
    $(doc, 'unlock-button').hidden = false;
  } else if (!active.length) {
    verdict(
      doc,
      'no-key',
      t('popupNoKeyTitle'),
      t(policy.requireEncryption ? 'popupNoKeyDetail' : 'popupNoKeyDetailPlain', name),
    );
  } else {
    verdict(
      doc,
      'protected',
      t('popupProtected'),
      t(policy.managed ? 'popupProtectedBy' : 'popupProtectedByDefaults', name),
    );
  }
  $(doc, 'key-state').textContent = active.length
    ? t('popupActiveKeys', active.length)
    : t(policy.requireEncryption ? 'popupNoActiveKey' : 'popupNoActiveKeyPlain');
}
