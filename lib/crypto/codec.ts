/**
 * Text framing of Veil envelopes: `VEIL` + version digit + base58 body + `0`.
 *
 * Why this alphabet: chats rewrite `:` (emoji shortcodes), treat `_ * ~ \`` as markdown and
 * `/` `.` as links or commands. The body uses base58 in Monero's block form (8 bytes -> 11
 * characters, linear time; @scure/base `base58xmr`), which has no `0 O I l`. So the marker's `I`
 * and the terminating `0` can never occur inside a body, which lets the parser find envelopes in
 * surrounding text and skip whitespace / zero-width characters that hosts insert.
 * Spec: docs/wire-format.md. Pure: no DOM, no browser APIs.
 */
import { base58xmr } from '@scure/base';

export const MARKER = 'VEIL';
export const CURRENT_VERSION = 1;
export const TERMINATOR = '0';

/** Characters hosts insert into long words: zero-width space/joiners, word joiner, BOM, soft hyphen. */
const IGNORABLE = '\\s\\u200B-\\u200D\\u2060\\uFEFF\\u00AD';
const B58 = '1-9A-HJ-NP-Za-km-z';
const GAP = `[${IGNORABLE}]*`;
/** An envelope candidate: marker (possibly split by ignorables), version digit, body, terminator. */
const ENVELOPE_RE = new RegExp(`V${GAP}E${GAP}I${GAP}L${GAP}(\\d)((?:${GAP}[${B58}])+)(${GAP}${TERMINATOR})?`, 'g');
const STRIP_RE = new RegExp(`[${IGNORABLE}]`, 'g');
/** A text that is one envelope and nothing else, unbroken: what ENVELOPE_RE would find, found faster. */
const WHOLE_RE = new RegExp(`^${MARKER}(\\d)([${B58}]+)${TERMINATOR}$`);

export function encodeEnvelopeText(frame: Uint8Array): string {
  return `${MARKER}${CURRENT_VERSION}${base58xmr.encode(frame)}${TERMINATOR}`;
}

export type FoundEnvelope =
  | { kind: 'envelope'; start: number; end: number; version: number; frame: Uint8Array }
  | { kind: 'malformed'; start: number; end: number; version: number; reason: string };

/**
 * Finds every envelope in `text` (e.g. a message's textContent). Anything that starts like an
 * envelope but cannot be decoded is reported as malformed, never silently shown as plain text.
 */
export function findEnvelopes(text: string): FoundEnvelope[] {
  if (!text.includes('V')) return []; // fast path for ordinary messages
  const whole = WHOLE_RE.exec(text);
  if (whole && Number(whole[1]) === CURRENT_VERSION) {
    const end = text.length;
    try {
      return [{ kind: 'envelope', start: 0, end, version: CURRENT_VERSION, frame: base58xmr.decode(whole[2]!) }];
    } catch {
      return [{ kind: 'malformed', start: 0, end, version: CURRENT_VERSION, reason: 'invalid encoding' }];
    }
  }
  const found: FoundEnvelope[] = [];
  for (const m of text.matchAll(ENVELOPE_RE)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    const version = Number(m[1]);
    if (!m[3]) {
      found.push({ kind: 'malformed', start, end, version, reason: 'truncated (no end mark)' });
      continue;
    }
    if (version !== CURRENT_VERSION) {
      found.push({ kind: 'malformed', start, end, version, reason: `unsupported version ${version}` });
      continue;
    }
    const body = (m[2] ?? '').replace(STRIP_RE, '');
    try {
      found.push({ kind: 'envelope', start, end, version, frame: base58xmr.decode(body) });
    } catch {
      found.push({ kind: 'malformed', start, end, version, reason: 'invalid encoding' });
    }
  }
  return found;
}
