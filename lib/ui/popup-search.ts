/**
 * The popup's search box over the messages this browser has read decrypted (the background's
 * local index). Results name the conversation, the author and whether Veil verified them, when,
 * and a snippet whose matches are marked: every piece goes in with textContent, never as HTML,
 * since the text is what someone else wrote. A click brings the chat back to the front, the message in view.
 */
import { formatTime, t, uiLanguage } from '../i18n';
import { request } from '../messaging/client';
import type { SearchResult } from '../messaging/protocol';

const DEBOUNCE_MS = 200;

function $(doc: Document, id: string): HTMLElement {
  return doc.getElementById(id)!;
}

function signatureText(s: SearchResult['signature']): string {
  if (s === 'verified') return t('searchVerified');
  if (s === 'failed') return t('searchSignatureFailed');
  return t('searchUnverified');
}

function resultItem(doc: Document, r: SearchResult, onOpen: (id: number) => void): HTMLLIElement {
  const li = doc.createElement('li');
  const button = doc.createElement('button');
  button.type = 'button';
  button.className = 'veil-search-hit';
  button.dataset.id = String(r.id);
  button.title = t('searchOpenHint');
  const meta = doc.createElement('span');
  meta.className = 'veil-search-meta';
  const conv = doc.createElement('span');
  conv.className = 'veil-search-conversation';
  conv.textContent = t('searchIn', r.conversationId);
  const author = doc.createElement('span');
  author.className = 'veil-search-author';
  author.textContent = r.author;
  const sig = doc.createElement('span');
  sig.className = 'veil-search-signature';
  sig.dataset.state = r.signature ?? 'none';
  sig.textContent = signatureText(r.signature);
  const time = doc.createElement('time');
  time.dateTime = new Date(r.sentAt).toISOString();
  time.textContent = formatTime(r.sentAt);
  meta.append(author, ' · ', sig, ' · ', conv, ' · ', time);
  const text = doc.createElement('span');
  text.className = 'veil-search-snippet';
  // dir=auto: a Hebrew or Arabic message reads right to left inside a left-to-right popup.
  text.dir = 'auto';
  for (const part of r.snippet) {
    if (part.hit) {
      const mark = doc.createElement('mark');
      mark.textContent = part.text;
      text.append(mark);
    } else text.append(doc.createTextNode(part.text));
  }
  button.append(meta, text);
  button.addEventListener('click', () => onOpen(r.id));
  li.append(button);
  return li;
}

/** `url`: the active tab when Veil protects it (results from that chat only); otherwise every chat. */
export function startSearch(doc: Document, url: string | undefined): void {
  const input = $(doc, 'search-input') as HTMLInputElement;
  const state = $(doc, 'search-state');
  const list = $(doc, 'search-results');
  const label = t(url ? 'searchLabelSite' : 'searchLabelAll');
  input.placeholder = label;
  input.setAttribute('aria-label', label);
  let asked = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const say = (text: string, tone: 'info' | 'error' = 'info') => {
    state.textContent = text;
    state.dataset.tone = tone;
  };

  const open = async (id: number) => {
    const res = await request('search/open', { id });
    if (!res.ok) say(res.error.message, 'error');
    else window.close();
  };

  const run = async () => {
    const mine = ++asked;
    const res = await request('search/query', { query: input.value, ...(url ? { url } : {}) });
    if (mine !== asked) return; // a newer query is on its way
    list.dataset.state = 'done';
    if (!res.ok) return say(t('errGeneric', res.error.message), 'error');
    if (!res.enabled) {
      $(doc, 'search-form').hidden = true;
      $(doc, 'search-clear').hidden = true;
      list.replaceChildren();
      return say(t('searchOff'));
    }
    list.replaceChildren(...res.results.map((r) => resultItem(doc, r, (id) => void open(id))));
    if (input.value.trim() && res.results.length === 0) say(t('searchNoResults'));
    else say(t('searchCount', res.messages.toLocaleString(uiLanguage())));
  };

  $(doc, 'search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(timer);
    void run();
  });
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void run(), DEBOUNCE_MS);
  });
  $(doc, 'search-clear').addEventListener('click', async () => {
    const res = await request('search/clear', {});
    if (!res.ok) return say(t('errGeneric', res.error.message), 'error');
    list.replaceChildren();
    say(t('searchCleared'));
  });
  void run();
}
