/**
 * The options page's isolated mode section: the user's security indicator, and which
 * protected sites run in isolated mode. Extension origin. Policy `mode: "isolated"` shows every
 * site locked on; without it, the user may opt sites in (never below what policy requires).
 */
import { t } from '../i18n';
import { request } from '../messaging/client';
import { indicatorElement } from '../frames/secure-frame';

function $(doc: Document, id: string): HTMLElement {
  return doc.getElementById(id)!;
}

function say(el: HTMLElement, tone: 'ok' | 'error', text: string): void {
  el.dataset.tone = tone;
  el.textContent = text;
}

export async function showIsolatedSection(doc: Document): Promise<void> {
  const out = $(doc, 'isolated-result');
  const symbol = $(doc, 'indicator-symbol') as HTMLInputElement;
  const phrase = $(doc, 'indicator-phrase') as HTMLInputElement;
  const color = $(doc, 'indicator-color') as HTMLInputElement;
  const preview = $(doc, 'indicator-preview');

  const render = async () => {
    const res = await request('isolated/settings', {});
    if (!res.ok) return say(out, 'error', res.error.message);
    symbol.value = res.indicator.symbol;
    phrase.value = res.indicator.phrase;
    color.value = res.indicator.color;
    preview.replaceChildren(indicatorElement(doc, res.indicator, true));
    const tbody = doc.querySelector('#isolated-sites tbody')!;
    tbody.replaceChildren(
      ...res.sites.map((s) => {
        const tr = doc.createElement('tr');
        tr.dataset.site = s.key;
        const name = doc.createElement('td');
        name.textContent = s.name;
        const td = doc.createElement('td');
        const label = doc.createElement('label');
        label.className = 'inline';
        const box = doc.createElement('input');
        box.type = 'checkbox';
        box.className = 'isolated-toggle';
        box.checked = s.mode === 'isolated';
        box.disabled = s.enforced;
        box.addEventListener('change', async () => {
          const r = await request('isolated/set-site-mode', { key: s.key, mode: box.checked ? 'isolated' : 'inline' });
          if (!r.ok) say(out, 'error', r.error.message);
          else say(out, 'ok', box.checked ? t('isoSiteModeIsolated', s.name) : t('isoSiteModeInline', s.name));
          await render();
        });
        label.append(box, doc.createTextNode(` ${s.enforced ? t('isoSiteRequired') : t('isoSiteOptIn')}`));
        td.append(label);
        tr.append(name, td);
        return tr;
      }),
    );
  };

  $(doc, 'indicator-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const res = await request('isolated/set-indicator', {
      indicator: { symbol: symbol.value, phrase: phrase.value, color: color.value },
    });
    if (!res.ok) return say(out, 'error', res.error.message);
    say(out, 'ok', t('isoIndicatorSaved'));
    await render();
  });

  await render();
}
