/**
 * How Veil's own pages (popup, options) show the policy in force: where it comes from, what it
 * decides, and, for an invalid policy, every problem with the exact setting it concerns. Extension
 * origin; builds DOM with textContent only (policy values are admin input, never markup).
 */
import { t } from '../i18n';
import { siteName } from '../i18n/scope';
import { request } from '../messaging/client';
import type { Policy } from '../policy/policy';

function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  text?: string,
  cls?: string,
): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

export function modeText(mode: Policy['mode']): string {
  return t(mode === 'isolated' ? 'modeIsolated' : 'modeInline');
}

export function policySourceText(p: Policy): string {
  if (!p.managed) return t('policyNone');
  if (p.errors.length) return t(p.fallback === 'last-valid' ? 'policyInvalidKeptSource' : 'policyInvalidSource');
  return t('policyManaged');
}

/** The list of policy problems (path: reason); empty when the policy is fine. */
export function renderPolicyErrors(doc: Document, p: Policy): HTMLElement {
  const box = el(doc, 'div', undefined, 'veil-policy-errors');
  box.id = 'policy-errors';
  box.hidden = p.errors.length === 0;
  box.setAttribute('role', 'alert');
  box.append(
    el(doc, 'p', p.errors.length === 1 ? t('policyInvalidHeadingOne') : t('policyInvalidHeading', p.errors.length)),
  );
  const ul = el(doc, 'ul');
  for (const e of p.errors) {
    const li = el(doc, 'li');
    li.dataset.path = e.path;
    // The problem itself is the validator's (English) text: admins search and paste it as it is.
    li.append(el(doc, 'code', e.path || t('policyWholePolicy')), doc.createTextNode(`: ${e.message}`));
    ul.append(li);
  }
  box.append(ul);
  return box;
}

/** A compact table of what the policy decides. */
export function renderPolicySettings(doc: Document, p: Policy): HTMLElement {
  const table = el(doc, 'table', undefined, 'veil-policy-settings');
  table.id = 'policy-settings';
  const yesNo = (v: boolean) => t(v ? 'yes' : 'no');
  const rows: [string, string][] = [
    [
      t('policyRowSites'),
      p.protectedSites
        .map((s) => (s.matches.length ? `${siteName(s)} (${s.matches.join(', ')})` : siteName(s)))
        .join('; ') || t('none'),
    ],
    [t('policyRowRequire'), p.requireEncryption ? t('policyRequireYes') : t('no')],
    [t('policyRowFlag'), yesNo(p.flagUnencrypted)],
    [t('policyRowUserKeys'), yesNo(p.allowUserKeys)],
    [t('policyRowExport'), yesNo(p.allowKeyExport)],
    [t('policyRowMode'), modeText(p.mode)],
    [t('policyRowKeys'), p.policyKeyIds.join(', ') || t('none')],
  ];
  if (p.managed) table.append(el(doc, 'caption', t('policyReadOnly')));
  for (const [k, v] of rows) {
    const tr = el(doc, 'tr');
    const th = el(doc, 'th', k);
    th.scope = 'row';
    tr.append(th, el(doc, 'td', v));
    table.append(tr);
  }
  return table;
}

/** Fills the options page's policy section (#policy-source, #policy-errors-slot, #policy-settings-slot). */
export async function showPolicySection(doc: Document): Promise<void> {
  const res = await request('policy/get', {});
  const source = doc.getElementById('policy-source');
  if (!source) return;
  if (!res.ok) {
    source.textContent = t('policyReadFailed', res.error.message);
    return;
  }
  source.textContent = policySourceText(res.policy);
  source.dataset.managed = String(res.policy.managed);
  doc.getElementById('policy-errors-slot')?.replaceChildren(renderPolicyErrors(doc, res.policy));
  doc.getElementById('policy-settings-slot')?.replaceChildren(renderPolicySettings(doc, res.policy));
}
