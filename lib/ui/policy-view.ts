/**
 * How Veil's own pages (popup, options) show the policy in force: where it comes from, what it
 * decides, and, for an invalid policy, every problem with the exact setting it concerns. Extension
 * origin; builds DOM with textContent only (policy values are admin input, never markup).
 */
import { request } from '../messaging/client';
import type { Policy } from '../policy/policy';

function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

export function policySourceText(p: Policy): string {
  if (!p.managed) return 'No enterprise policy: Veil\'s defaults apply.';
  if (p.errors.length) return 'Enterprise policy: INVALID. Veil blocks sending on protected sites until IT fixes it.';
  return 'Enterprise policy (managed by your organisation).';
}

/** The list of policy problems (path: reason); empty when the policy is fine. */
export function renderPolicyErrors(doc: Document, p: Policy): HTMLElement {
  const box = el(doc, 'div', undefined, 'veil-policy-errors');
  box.id = 'policy-errors';
  box.hidden = p.errors.length === 0;
  box.setAttribute('role', 'alert');
  box.append(el(doc, 'p', `The enterprise policy is invalid (${p.errors.length} problem${p.errors.length === 1 ? '' : 's'}):`));
  const ul = el(doc, 'ul');
  for (const e of p.errors) {
    const li = el(doc, 'li');
    li.dataset.path = e.path;
    li.append(el(doc, 'code', e.path || '(whole policy)'), doc.createTextNode(`: ${e.message}`));
    ul.append(li);
  }
  box.append(ul);
  return box;
}

/** A compact table of what the policy decides. */
export function renderPolicySettings(doc: Document, p: Policy): HTMLElement {
  const table = el(doc, 'table', undefined, 'veil-policy-settings');
  table.id = 'policy-settings';
  const rows: [string, string][] = [
    ['Protected sites', p.protectedSites.map((s) => `${s.adapter === 'custom' ? s.custom?.name ?? 'custom' : s.adapter} (${s.matches.join(', ')})`).join('; ') || 'none'],
    ['Require encryption', p.requireEncryption ? 'yes: unencryptable sends are blocked' : 'no'],
    ['Flag unencrypted messages', p.flagUnencrypted ? 'yes' : 'no'],
    ['Users may add their own keys', p.allowUserKeys ? 'yes' : 'no'],
    ['Policy keys may be exported', p.allowKeyExport ? 'yes' : 'no'],
    ['Mode', p.mode],
    ['Keys from policy', p.policyKeyIds.join(', ') || 'none'],
  ];
  for (const [k, v] of rows) {
    const tr = el(doc, 'tr');
    tr.append(el(doc, 'th', k), el(doc, 'td', v));
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
    source.textContent = `Veil could not read its policy: ${res.error.message}`;
    return;
  }
  source.textContent = policySourceText(res.policy);
  source.dataset.managed = String(res.policy.managed);
  doc.getElementById('policy-errors-slot')?.replaceChildren(renderPolicyErrors(doc, res.policy));
  doc.getElementById('policy-settings-slot')?.replaceChildren(renderPolicySettings(doc, res.policy));
}
