/**
 * Shapes shared by the three sides of a secure frame (content script, background, frame).
 * Pure types and checks: no DOM, no browser APIs.
 */

/** The extension pages that run as secure frames inside a protected chat. */
export const SECURE_FRAME_PAGES = { composer: '/secure-composer.html', reader: '/secure-reader.html' } as const;
export type SecureFrameKind = keyof typeof SECURE_FRAME_PAGES;

/**
 * How a frame should look to blend into the chat: read by the content script from the host's
 * computed styles. Page-controlled, so only ever applied as individual CSS property values.
 */
export interface FrameTheme {
  color?: string;
  background?: string;
  fontFamily?: string;
  fontSize?: string;
  lineHeight?: string;
  borderRadius?: string;
  border?: string;
  padding?: string;
}

const THEME_KEYS: (keyof FrameTheme)[] = [
  'color',
  'background',
  'fontFamily',
  'fontSize',
  'lineHeight',
  'borderRadius',
  'border',
  'padding',
];

/** Keeps only short string values of known properties. */
export function cleanTheme(v: unknown): FrameTheme {
  const out: FrameTheme = {};
  if (!v || typeof v !== 'object') return out;
  for (const k of THEME_KEYS) {
    const s = (v as Record<string, unknown>)[k];
    // No url(), image-set() or escapes: a theme value must never make the frame fetch anything.
    if (typeof s === 'string' && s.length <= 200 && !/[;{}<>\\]|url\(|image|attr\(|var\(|@/i.test(s)) out[k] = s;
  }
  return out;
}

/** What a reader frame shows: one message, as the host displays it (texts = envelope texts). */
export interface ReaderSpec {
  conversationId: string;
  author: string;
  texts: string[];
  hostMessageId?: string;
}

/** Which of the chat's compose boxes a secure composer stands in for (lib/adapters/types.ts). */
export type ComposerFrameKind = 'main' | 'edit' | 'thread' | 'other';
export const COMPOSER_FRAME_KINDS: readonly ComposerFrameKind[] = ['main', 'edit', 'thread', 'other'];

/**
 * A secure composer's box. `edit`: the message its edit box opened on, as the page shows it (the
 * background decrypts it into the frame only, and binds the edit to it).
 */
export interface ComposerFrameSpec {
  kind: ComposerFrameKind;
  edit?: ReaderSpec;
}

/** A capability token: 32 random bytes, base64url. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The only message a secure frame accepts from its parent window: its token. */
export interface TokenHandOver {
  veilFrameToken: string;
}

export function isTokenHandOver(v: unknown): v is TokenHandOver {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as TokenHandOver).veilFrameToken === 'string' &&
    TOKEN_PATTERN.test((v as TokenHandOver).veilFrameToken) &&
    Object.keys(v).length === 1
  );
}

/** Messages one reader frame shows at most (the messages in view at once, in one frame). */
export const MAX_READER_SLOTS = 32;

/**
 * The only message a reader frame accepts from its parent window: one token per message it shows
 * and, for several, where each one sits (the content script keeps the places up to date over the
 * MessagePort sent with it, which the page cannot reach).
 */
export interface ReaderHandOver {
  veilReaderTokens: string[];
  layout?: ReaderLayout;
}

/** Each message's box in a reader frame, in CSS pixels from the frame's top left; null: not shown. */
export interface ReaderLayout {
  slots: (ReaderSlotPlace | null)[];
}

export interface ReaderSlotPlace {
  top: number;
  left: number;
  width: number;
  /** What the page shows of the message's place: the message is cut there, never spills into another. */
  height: number;
}

export function isReaderHandOver(v: unknown): v is ReaderHandOver {
  if (!v || typeof v !== 'object') return false;
  const tokens = (v as ReaderHandOver).veilReaderTokens;
  const keys = Object.keys(v);
  return (
    Array.isArray(tokens) &&
    tokens.length >= 1 &&
    tokens.length <= MAX_READER_SLOTS &&
    tokens.every((t) => typeof t === 'string' && TOKEN_PATTERN.test(t)) &&
    keys.every((k) => k === 'veilReaderTokens' || k === 'layout')
  );
}

/** Places a frame can use: finite, within bounds, one per slot (anything else: undefined). */
export function cleanReaderLayout(v: unknown, slots: number): ReaderLayout | undefined {
  const list = v && typeof v === 'object' ? (v as ReaderLayout).slots : undefined;
  if (!Array.isArray(list) || list.length !== slots) return undefined;
  const ok = (n: unknown, min: number) => typeof n === 'number' && Number.isFinite(n) && n >= min && n <= 1e6;
  const out: (ReaderSlotPlace | null)[] = [];
  for (const s of list) {
    if (s === null) out.push(null);
    else if (s && typeof s === 'object' && ok(s.top, 0) && ok(s.left, 0) && ok(s.width, 0) && ok(s.height, 0))
      out.push({ top: s.top, left: s.left, width: s.width, height: s.height });
    else return undefined;
  }
  return { slots: out };
}
