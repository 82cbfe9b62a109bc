/**
 * Where the page shows a message outside the message list: the conversation list's previews, a
 * thread's preview (the adapter's `selectors.previews`) and the page title. Veil puts a neutral
 * label ("🔒 Encrypted message") in place of every envelope there, so nobody reads "VEIL1…", and no
 * plaintext is put there either. Runs in a MutationObserver callback, so the envelope is replaced
 * before the browser paints it. Desktop notifications are labelled in the page's own world
 * (lib/main-world/notification-labels.ts).
 */
import { closestAny, type SiteAdapter } from '../adapters/types';
import { findEnvelopes } from '../crypto/codec';
import { t } from '../i18n';

/** `text` with each envelope (also a truncated or malformed one) replaced by `label`. */
export function maskEnvelopes(text: string, label: string): string {
  const found = findEnvelopes(text);
  if (!found.length) return text;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + label;
    at = f.end;
  }
  return out + text.slice(at);
}

function maskTextNodes(root: Node, label: string): void {
  const doc = root.ownerDocument ?? (root as Document);
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n as Text;
    const masked = maskEnvelopes(text.data, label);
    if (masked !== text.data) text.data = masked;
  }
}

/** Keeps envelopes out of the adapter's preview places and the page title. */
export function watchPreviews(doc: Document, adapter: SiteAdapter): MutationObserver {
  const label = t('previewEncryptedLabel');
  const places = adapter.selectors.previews ?? [];
  const maskTitle = () => {
    const masked = maskEnvelopes(doc.title, label);
    if (masked !== doc.title) doc.title = masked;
  };
  const maskUnder = (root: Element) => {
    const place = places.length ? closestAny(root, places) : null;
    if (place) return maskTextNodes(place, label);
    for (const sel of places) for (const el of root.querySelectorAll(sel)) maskTextNodes(el, label);
  };
  const observer = new MutationObserver((records) => {
    maskTitle();
    if (!places.length) return;
    for (const r of records) {
      const target = r.target instanceof Element ? r.target : r.target.parentElement;
      if (!target) continue;
      if (r.type === 'childList') {
        for (const n of r.addedNodes) if (n instanceof Element) maskUnder(n);
      }
      maskUnder(target);
    }
  });
  observer.observe(doc, { childList: true, subtree: true, characterData: true });
  maskTitle();
  if (doc.documentElement) maskUnder(doc.documentElement);
  return observer;
}
