/**
 * The personal security indicator (anti-spoofing): a symbol, a short phrase and a colour
 * the user chose, shown in every secure frame. The page never learns it (it is stored in the
 * background's IndexedDB and handed only to Veil's own frames and pages), so a page that draws a
 * look-alike Veil composer cannot draw the user's indicator in it. Pure: no DOM, no browser APIs
 * (beyond the i18n lookup of its error sentences).
 */
import { t } from '../i18n';

export interface SecurityIndicator {
  /** One to four characters, typically emoji. */
  symbol: string;
  /** One to 32 characters of the user's choosing. */
  phrase: string;
  /** `#rrggbb`. */
  color: string;
}

const SYMBOLS = ['🦉', '🌵', '🍋', '🐙', '🪁', '🧭', '🦊', '🌻', '🐳', '🍄', '🪐', '🦜', '🌶️', '🐝', '🍉', '🦔'];
const WORDS = [
  'amber',
  'cobalt',
  'juniper',
  'marble',
  'saffron',
  'tundra',
  'velvet',
  'willow',
  'quartz',
  'harbor',
  'meadow',
  'lantern',
];
const COLORS = ['#7a3ea8', '#0f6e6e', '#a8501e', '#1f5fa8', '#8a1f4f', '#4f6b12'];

function pick<T>(list: readonly T[], random: (n: number) => number): T {
  return list[random(list.length)]!;
}

/**
 * Until the user chooses, Veil makes one up at random: the page cannot guess it either, and the
 * options page shows it so the user learns it (and can change it).
 */
export function randomIndicator(random: (n: number) => number): SecurityIndicator {
  return {
    symbol: pick(SYMBOLS, random),
    phrase: `${pick(WORDS, random)} ${pick(WORDS, random)} ${10 + random(90)}`,
    color: pick(COLORS, random),
  };
}

/** Validates an indicator from a request; returns the cleaned value or an error sentence. */
export function checkIndicator(v: unknown): SecurityIndicator | string {
  const i = v as Partial<SecurityIndicator> | null;
  if (!i || typeof i !== 'object') return t('errIndicatorMissing');
  const symbol = typeof i.symbol === 'string' ? i.symbol.trim() : '';
  const phrase = typeof i.phrase === 'string' ? i.phrase.trim() : '';
  const color = typeof i.color === 'string' ? i.color.trim().toLowerCase() : '';
  const symbolLength = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(symbol)].length;
  if (symbolLength < 1 || symbolLength > 4) return t('errIndicatorSymbol');
  if (phrase.length < 1 || phrase.length > 32 || /\p{Cc}/u.test(phrase)) return t('errIndicatorPhrase');
  if (!/^#[0-9a-f]{6}$/.test(color)) return t('errIndicatorColor');
  return { symbol, phrase, color };
}
