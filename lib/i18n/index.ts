/**
 * Every string a person reads comes from `_locales/<lang>/messages.json` (English and Simplified
 * Chinese), chosen by the browser's language. `test/unit/i18n.test.ts` checks that both catalogs
 * have every key and the same placeholders, and that every key the code uses exists.
 */
type Catalog = typeof import('../../public/_locales/en/messages.json');
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
}

export function t(key: MessageKey, ...subs: (string | number)[]): string {
  const args = subs.map(String);
  const text = override ? override(key, args) : api()?.getMessage(key, args);
  return text || key; // a missing string shows its key, never an empty badge
}

export function uiLanguage(): string {
  return api()?.getUILanguage() ?? 'en';
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString(uiLanguage());
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
  return (key, subs) => catalog[key]?.message.replace(/\$(\d|\$)/g, (_, d: string) => (d === '$' ? '$' : subs[Number(d) - 1] ?? '')) ?? '';
}
