/**
 * Where the page shows a message outside the message list: the conversation list's previews, a
 * thread's preview (the adapter's `selectors.previews`) and the page title. Veil puts a neutral
 * label ("🔒 Encrypted message") in place of every envelope there, so nobody reads "VEIL1…". With
 * policy `previews: "decrypt"` (inline mode only) a preview whose conversation the adapter can tell
 * (`previewConversationAttribute`) then shows the decrypted text. The title never does: browsers
 * keep titles in their history (synced, on disk) and show them in window lists. Runs in a
 * MutationObserver callback, so the envelope is replaced before the browser paints it. Desktop notifications are labelled in the page's own world
 * (lib/main-world/notification-labels.ts).
 */
import type { SiteAdapter } from '../adapters/types';
import { findEnvelopes } from '../crypto/codec';
import { t } from '../i18n';

/** Asks the background for the plaintext of envelope texts shown as previews of a conversation. */
export type PreviewDecrypt = (conversationId: string, texts: string[]) => Promise<(string | null)[]>;

/** Decrypted previews kept by envelope text: a conversation list's worth, many times over. */
const MAX_KNOWN = 512;
/** Envelope texts asked for at once, per conversation, and conversations asked about at once. */
const MAX_ASK = 64;
const MAX_CONVERSATIONS = 16;
/** Changes in one callback above which the whole page is searched once instead of around each. */
const MANY_RECORDS = 64;

/** `text` with each envelope (also a truncated or malformed one) replaced by its plaintext if known, else `label`. */
export function maskEnvelopes(text: string, label: string, known?: Map<string, string | null>): string {
  const found = findEnvelopes(text);
  if (!found.length) return text;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + (known?.get(text.slice(f.start, f.end)) ?? label);
    at = f.end;
  }
  return out + text.slice(at);
}

/** Keeps envelopes out of the adapter's preview places and the page title. */
export function watchPreviews(doc: Document, adapter: SiteAdapter, decrypt?: PreviewDecrypt): MutationObserver {
  const label = t('previewEncryptedLabel');
  const places = adapter.selectors.previews ?? [];
  const attr = decrypt ? adapter.previewConversationAttribute : undefined;
  // Answers by envelope text: the plaintext, or null where it did not open (not asked again).
  const known = new Map<string, string | null>();
  // What Veil wrote into each preview text node, and what the page had put there: when an
  // answer arrives, only what still shows Veil's label is written again.
  const written = new WeakMap<Text, { raw: string; shown: string }>();
  const watched = new Set<WeakRef<Text>>();
  const maskTitle = () => {
    const masked = maskEnvelopes(doc.title, label);
    if (masked !== doc.title) doc.title = masked;
  };

  const pending = new Map<string, Set<string>>();
  let asking = false;
  const ask = (conversationId: string, envelope: string) => {
    let set = pending.get(conversationId);
    if (!set) {
      if (pending.size >= MAX_CONVERSATIONS) return; // asked again when that preview changes
      pending.set(conversationId, (set = new Set()));
    }
    if (set.size < MAX_ASK) set.add(envelope);
    if (!asking) {
      asking = true;
      queueMicrotask(() => void flush());
    }
  };
  const flush = async () => {
    const batch = [...pending.entries()];
    pending.clear();
    asking = false;
    for (const [conversationId, set] of batch) {
      const texts = [...set];
      const plain = await decrypt!(conversationId, texts).catch(() => []);
      texts.forEach((env, i) => {
        const p = plain[i];
        known.delete(env);
        known.set(env, typeof p === 'string' ? p : null);
        for (const oldest of known.keys()) {
          if (known.size <= MAX_KNOWN) break;
          known.delete(oldest);
        }
      });
    }
    repaint();
  };
  const repaint = () => {
    for (const ref of watched) {
      const node = ref.deref();
      const w = node && written.get(node);
      if (!node || !w || !node.isConnected || node.data !== w.shown) {
        watched.delete(ref);
        continue;
      }
      const shown = maskEnvelopes(w.raw, label, known);
      if (shown !== node.data) node.data = w.shown = shown;
    }
  };

  const maskTextNodes = (root: Node, conversationId: string | undefined) => {
    const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n as Text;
      const found = findEnvelopes(text.data);
      if (!found.length) continue;
      const raw = text.data;
      if (conversationId) {
        for (const f of found) {
          const env = raw.slice(f.start, f.end);
          if (f.kind === 'envelope' && !known.has(env)) ask(conversationId, env);
        }
        if (watched.size > MAX_KNOWN) repaintPrune();
        watched.add(new WeakRef(text));
      }
      const shown = maskEnvelopes(raw, label, known);
      written.set(text, { raw, shown });
      text.data = shown;
    }
  };
  const repaintPrune = () => {
    for (const ref of watched) if (!ref.deref()?.isConnected) watched.delete(ref);
    // Still too many on the page: the oldest keep the label they show.
    for (const ref of watched) {
      if (watched.size <= MAX_KNOWN) break;
      watched.delete(ref);
    }
  };
  const conversationOf = (place: Element): string | undefined => {
    if (!attr) return undefined;
    const v = place.closest(`[${CSS.escape(attr)}]`)?.getAttribute(attr);
    return v && v.length <= 512 ? v : undefined;
  };
  // One selector list: each change costs one `closest` and one query, whatever the number of places.
  const placesSelector = places.join(', ');
  const maskUnder = (root: Element) => {
    if (!places.length) return; // '' is no selector: an adapter without preview places has nothing here
    const place = root.closest(placesSelector);
    if (place) return maskTextNodes(place, conversationOf(place));
    for (const el of root.querySelectorAll(placesSelector)) maskTextNodes(el, conversationOf(el));
  };
  const observer = new MutationObserver((records) => {
    maskTitle();
    if (!places.length) return;
    // A history load (and Veil's own painting of it) is thousands of records: then one query of
    // the whole page costs less than looking around each change.
    if (records.length > MANY_RECORDS) {
      for (const el of doc.querySelectorAll(placesSelector)) maskTextNodes(el, conversationOf(el));
      return;
    }
    // Each element is looked at once, and a node still under the record's target is covered by it.
    const seen = new Set<Element>();
    const visit = (el: Element) => {
      if (seen.has(el)) return;
      seen.add(el);
      maskUnder(el);
    };
    for (const r of records) {
      const target = r.target instanceof Element ? r.target : r.target.parentElement;
      if (!target) continue;
      if (r.type === 'childList') {
        for (const n of r.addedNodes) if (n instanceof Element && n.parentNode !== r.target) visit(n);
      }
      visit(target);
    }
  });
  observer.observe(doc, { childList: true, subtree: true, characterData: true });
  maskTitle();
  if (doc.documentElement) maskUnder(doc.documentElement);
  return observer;
}
