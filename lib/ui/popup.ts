/**
 * The toolbar popup: for the tab it was opened on, is this site protected, by which policy, with
 * which keys, and is anything wrong with the policy. Extension origin; asks the background through
 * the protocol and never sees key material.
 */
import browser from 'webextension-polyfill';
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import type { KeyInfo } from '../keys/model';
import { request } from '../messaging/client';
import type { TabPolicyStatus } from '../messaging/protocol';
import { policySourceText, renderPolicyErrors } from './policy-view';

function $(doc: Document, id: string): HTMLElement {
  return doc.getElementById(id)!;
}

async function activeTabUrl(): Promise<string | undefined> {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.url;
}

function siteName(s: NonNullable<TabPolicyStatus['site']>): string {
  if (s.adapter === 'custom') return s.custom?.name ?? 'a custom chat';
  return BUILTIN_ADAPTERS.find((a) => a.id === s.adapter)?.name ?? s.adapter;
}

function keyLine(doc: Document, k: KeyInfo): HTMLLIElement {
  const li = doc.createElement('li');
  li.dataset.keyId = k.id;
  li.dataset.status = k.status;
  const scope = k.scope.conversations.join(', ');
  li.textContent = `${k.label} (${k.id}, ${k.fingerprint}) · ${k.status} · ${k.source === 'policy' ? 'from policy' : 'yours'} · ${scope}`;
  return li;
}

export async function startPopup(doc: Document): Promise<void> {
  $(doc, 'open-options').addEventListener('click', (e) => {
    e.preventDefault();
    void browser.runtime.openOptionsPage();
  });
  const url = await activeTabUrl();
  const state = $(doc, 'site-state');
  if (!url) {
    state.dataset.state = 'unknown';
    state.textContent = 'Veil cannot see this tab\'s address.';
    return;
  }
  const res = await request('policy/tab', { url });
  if (!res.ok) {
    state.dataset.state = 'error';
    state.textContent = `Veil: ${res.error.message}`;
    return;
  }
  const { policy, site, keys } = res;
  $(doc, 'site-host').textContent = /^https?:/.test(url) ? new URL(url).host : url;
  $(doc, 'policy-source').textContent = policySourceText(policy);
  $(doc, 'policy-source').dataset.managed = String(policy.managed);
  $(doc, 'errors-slot').replaceChildren(renderPolicyErrors(doc, policy));
  const keyList = $(doc, 'keys');
  keyList.replaceChildren(...keys.map((k) => keyLine(doc, k)));
  if (!site) {
    state.dataset.state = 'unprotected';
    state.textContent = 'Not protected: Veil does not encrypt on this site.';
    $(doc, 'keys-section').hidden = true;
    return;
  }
  const active = keys.filter((k) => k.status === 'active');
  if (policy.errors.length) {
    state.dataset.state = 'failed-closed';
    state.textContent = `Protected (${siteName(site)}), but sending is blocked: the policy is invalid.`;
  } else {
    state.dataset.state = 'protected';
    state.textContent = `Protected: ${siteName(site)} ${policy.managed ? 'by your organisation\'s policy' : 'by Veil\'s defaults'}.`;
  }
  $(doc, 'key-state').textContent = active.length
    ? `${active.length} active key${active.length === 1 ? '' : 's'} for this site.`
    : `No active key for this site: ${policy.requireEncryption ? 'messages cannot be sent' : 'messages go out unencrypted'}.`;
}
