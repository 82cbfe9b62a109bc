/**
 * Every string a person reads comes from `_locales/<lang>/messages.json` (English and Simplified
 * Chinese), chosen by the browser's language. `test/unit/i18n.test.ts` checks that both catalogs
 * have every key and the same placeholders, and that every key the code uses exists.
 */
import english from '../../public/_locales/en/messages.json';

type Catalog = typeof english;
export type MessageKey = keyof Catalog;

interface I18nApi {
  getMessage(key: string, subs?: string[]): string;
  getUILanguage(): string;
}

function api(): I18nApi | undefined {
  const g = globalThis as { browser?: { i18n?: I18nApi }; chrome?: { i18n?: I18nApi } };
  return g.browser?.i18n ?? g.chrome?.i18n;
}

let override: ((key: string, subs: string[]) => string) | undefined;

/** Unit tests (no browser) install a lookup over a catalog file. */
export function setMessageLookup(fn: ((key: string, subs: string[]) => string) | undefined): void {
  override = fn;
  memo.clear();
}

/**
 * Answers already given: the browser's catalog does not change while a page lives, and a history
 * asks for the same few labels thousands of times (each a call into the browser). Small: answers
 * naming a time are new every message, and this must not keep a history's worth of them.
 */
const memo = new Map<string, string>();
const MEMO_MAX = 256;

/**
 * English from the bundled catalog when the browser cannot answer: Node (unit tests, the admin CLI),
 * or a content script whose extension was reloaded under it (its i18n API then throws).
 */
const fallback = catalogLookup(english);

export function t(key: MessageKey, ...subs: (string | number)[]): string {
  const args = subs.map(String);
  const browserApi = override ? undefined : api();
  if (!override && !browserApi) return fallback(key, args) || key; // Node: the bundled catalog, nothing to keep
  const id = args.length ? `${key}${JSON.stringify(args)}` : key; // unambiguous, whatever the arguments hold
  const known = memo.get(id);
  if (known !== undefined) return known;
  let text: string | undefined;
  try {
    text = override ? override(key, args) : browserApi!.getMessage(key, args);
  } catch {
    text = undefined;
  }
  if (!text) return fallback(key, args) || key; // a missing string shows its key, never an empty badge
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(id, text);
  return text;
}

/**
 * The language Veil's strings are in: each catalog names its own language ("uiLang"), which is
 * exactly the catalog the browser picked; getUILanguage() and @@ui_locale can differ from it
 * (headless Chromium reports en-US whatever --lang says, yet picks zh_CN messages).
 */
export function uiLanguage(): string {
  return t('uiLang');
}

/** A key's status word (active, retired, revoked) in the user's language. */
export function keyStatusText(status: 'active' | 'retired' | 'revoked'): string {
  return t(`keyStatus_${status}`);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * A moment as local date and time, `2026-12-02 08:05:03` (ISO 8601 order), in every language.
 * Not the browser's locale format: "12/2/2026" reads as 2 December in one country and 12 February
 * in the next, and the time on a message is evidence. Made from the date's own fields, not with
 * Intl: the first date formatter a chat page makes costs about 17 ms (measured on The Lounge),
 * on the way to showing its first decrypted message.
 */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '?';
  const year = d.getFullYear();
  if (year < 0 || year > 9999) return d.toISOString(); // no four-digit year to write
  return (
    `${pad(year, 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** Replaces the text of every `[data-i18n]` element (and `data-i18n-placeholder|title|aria-label`) in a page. */
export function localizePage(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset.i18n as MessageKey);
  for (const attr of ['placeholder', 'title', 'aria-label'] as const) {
    for (const el of root.querySelectorAll<HTMLElement>(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`) as MessageKey));
    }
  }
  const doc = (root as Document).documentElement;
  if (doc) doc.lang = uiLanguage();
}

/** A catalog lookup as Chrome does it: $1..$9 substitutions, $$ for a dollar sign. */
export function catalogLookup(catalog: Record<string, { message: string }>): (key: string, subs: string[]) => string {
  return (key, subs) =>
    catalog[key]?.message.replace(/\$(\d|\$)/g, (_, d: string) => (d === '$' ? '$' : (subs[Number(d) - 1] ?? ''))) ??
    '';
}
