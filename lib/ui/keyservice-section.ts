/**
 * The options page's key service section (only when the policy names a key service): who is
 * signed in, when the keys were last fetched and until when they work offline, what blocks
 * sends, and two buttons: "Sign in" (the identity window) and "Refresh keys now" (a silent fetch,
 * e.g. after IT added the user to a group). Extension origin; no token or key ever reaches it.
 */
import { formatTime, t } from '../i18n';
import { request } from '../messaging/client';
import type { KeyServiceView } from '../messaging/protocol';

function lines(v: KeyServiceView): string[] {
  const out = [t('optKsService', v.service ?? '')];
  if (v.subject) out.push(t('optKsSignedInAs', v.subject));
  if (v.releasedAt !== undefined) out.push(t('optKsFetched', formatTime(v.releasedAt), String(v.keys)));
  if (v.expiresAt !== undefined && !v.blocked) out.push(t('optKsOfflineUntil', formatTime(v.expiresAt)));
  return out;
}

export async function showKeyServiceSection(doc: Document, onKeysChanged: () => void): Promise<void> {
  const section = doc.getElementById('keyservice-section');
  if (!section) return;
  const state = doc.getElementById('ks-state')!;
  const out = doc.getElementById('ks-result')!;
  const signIn = doc.getElementById('ks-sign-in') as HTMLButtonElement;
  const refresh = doc.getElementById('ks-refresh') as HTMLButtonElement;

  const show = (v: KeyServiceView) => {
    section.hidden = !v.service;
    state.replaceChildren(
      ...lines(v).map((text) => {
        const li = doc.createElement('li');
        li.textContent = text;
        return li;
      }),
    );
    out.dataset.tone = v.blocked ? 'error' : 'ok';
    out.textContent = v.blocked ? (v.detail ? `${v.blocked} (${v.detail})` : v.blocked) : '';
    refresh.disabled = !v.subject; // nobody to refresh for until the first sign-in
  };

  const act = async (signingIn: boolean) => {
    for (const b of [signIn, refresh]) b.disabled = true;
    out.dataset.tone = 'ok';
    out.textContent = signingIn ? t('optKsSigningIn') : t('optKsRefreshing');
    const res = await request('keyservice/refresh', { signIn: signingIn }, 300_000);
    signIn.disabled = false;
    if (!res.ok) {
      refresh.disabled = false;
      out.dataset.tone = 'error';
      out.textContent = res.error.message;
      return;
    }
    show(res);
    if (!res.blocked) out.textContent = t('optKsDone', String(res.keys));
    onKeysChanged();
  };
  signIn.addEventListener('click', () => void act(true));
  refresh.addEventListener('click', () => void act(false));

  const res = await request('keyservice/status', {});
  if (res.ok) show(res);
}
