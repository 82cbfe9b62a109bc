/**
 * What each per-message status says. One place, so every site and mode uses the same words.
 */
import { formatTime, t as lookup, uiLanguage, type MessageKey } from './';
import type { DecryptedItem } from '../messaging/protocol';

/**
 * Each status string is looked up once per language with markers in place of its values, then
 * filled in here: a history shows thousands of badges, and each browser lookup costs about as
 * much as painting the badge. The template is cut at its markers once and values are joined in
 * between, so a value (an author name from the page) is never itself scanned for markers.
 */
const MARKS = /[\uE000-\uE008]/;
/** A template cut at its markers: text, value index, text, value index, ..., text. */
type Template = (string | number)[];
const templates = new Map<string, Template>();
let templateLang = '';

function cut(template: string): Template {
  const out: Template = [];
  let rest = template;
  for (let m = MARKS.exec(rest); m; m = MARKS.exec(rest)) {
    out.push(rest.slice(0, m.index), m[0].charCodeAt(0) - 0xe000);
    rest = rest.slice(m.index + 1);
  }
  out.push(rest);
  return out;
}

function t(key: MessageKey, ...subs: (string | number)[]): string {
  const cacheKey = `${templateLang}\n${key}\n${subs.length}`;
  let template = templates.get(cacheKey);
  if (template === undefined) {
    template = cut(lookup(key, ...subs.map((_, i) => String.fromCharCode(0xe000 + i))));
    templates.set(cacheKey, template);
  }
  let s = '';
  for (const piece of template) s += typeof piece === 'string' ? piece : String(subs[piece] ?? '');
  return s;
}

/** A detail text, or none: `t`, or `silent` where only status, tone and label are wanted. */
type Say = typeof t;
const silent: Say = () => '';

/** The language templates are cached for, read once per status (unit tests switch catalogs). */
function useLanguage(): void {
  templateLang = uiLanguage();
}

export type MessageStatus =
  | 'decrypted'
  | 'unknown-key'
  | 'locked'
  | 'tampered'
  | 'malformed'
  | 'moved'
  | 'sender-mismatch'
  | 'quote-mismatch'
  | 'replayed'
  | 'stale'
  | 'out-of-scope'
  | 'revoked-key'
  | 'unverified'
  | 'pending'
  | 'incomplete'
  | 'not-encrypted';

export interface StatusView {
  status: MessageStatus;
  tone: 'ok' | 'warn' | 'bad' | 'muted';
  label: string;
  detail: string;
}

export function viewOf(r: DecryptedItem, author: string, replayed: boolean): StatusView {
  return quotedView(r, editedView(r, messageView(r, author, replayed, t), t), t);
}

/**
 * viewOf without the detail text (it is ''): for callers that never show a tooltip and judge many
 * messages (the archive writes tens of thousands a second; the detail was most of that cost).
 */
export function briefViewOf(r: DecryptedItem, author: string, replayed: boolean): StatusView {
  return quotedView(r, editedView(r, messageView(r, author, replayed, silent), silent), silent);
}

/** A message quoting others: a quote that does not match its original outweighs everything but a bad status. */
function quotedView(r: DecryptedItem, view: StatusView, d: Say): StatusView {
  if (r.status !== 'decrypted' || !r.quote || view.tone === 'bad') return view;
  if (r.quote === 'mismatch')
    return {
      status: 'quote-mismatch',
      tone: 'bad',
      label: t('statusQuoteMismatchLabel'),
      detail: d('statusQuoteMismatchDetail'),
    };
  const note =
    r.quote === 'verified'
      ? d('statusQuoteVerifiedNote', (r.quotedAuthors ?? []).join(', ') || '?')
      : d('statusQuoteUnseenNote');
  return { ...view, detail: view.detail + note };
}

function editedView(r: DecryptedItem, view: StatusView, d: Say): StatusView {
  if (r.status !== 'decrypted' || !r.editOf) return view;
  // An edit: authentic, but shown in place of another message than the one it names.
  if (r.graftedEdit && view.status !== 'sender-mismatch' && view.status !== 'moved')
    return { status: 'moved', tone: 'bad', label: t('statusGraftedEditLabel'), detail: d('statusGraftedEditDetail') };
  if (view.status !== 'decrypted') return view;
  // The sender's chat named no message: nothing ties the edit to a place, so the user is told.
  const detail = r.editOf.hostId ? d('statusEditedDetail') : d('statusEditedUncheckedDetail');
  return { ...view, label: view.label + t('statusEditedNote'), detail: view.detail + detail };
}

function messageView(r: DecryptedItem, author: string, replayed: boolean, d: Say): StatusView {
  useLanguage();
  const key = !r.keyId
    ? ''
    : r.fingerprint
      ? d('statusKeyWithFingerprint', r.keyId, r.fingerprint)
      : d('statusKey', r.keyId);
  switch (r.status) {
    case 'unknown-key':
      return {
        status: 'unknown-key',
        tone: 'warn',
        label: t('statusUnknownKeyLabel', r.keyId ?? '?'),
        detail: d('statusUnknownKeyDetail', r.keyId ?? '?'),
      };
    case 'locked':
      return { status: 'locked', tone: 'warn', label: t('statusLockedLabel'), detail: d('statusLockedDetail', key) };
    case 'tampered':
      return {
        status: 'tampered',
        tone: 'bad',
        label: t('statusTamperedLabel'),
        detail: d('statusTamperedDetail', key),
      };
    case 'malformed':
      return {
        status: 'malformed',
        tone: 'bad',
        label: t('statusMalformedLabel'),
        detail: d('statusMalformedDetail', r.reason ?? 'invalid'),
      };
    case 'out-of-scope':
      return r.isolatedKey
        ? {
            status: 'out-of-scope',
            tone: 'bad',
            label: t('statusIsolatedKeyLabel'),
            detail: d('statusIsolatedKeyDetail', key),
          }
        : {
            status: 'out-of-scope',
            tone: 'bad',
            label: t('statusOutOfScopeLabel'),
            detail: d('statusOutOfScopeDetail', key),
          };
    case 'decrypted':
      break;
  }
  const sent = r.sentAt && d !== silent ? t('statusSentAt', formatTime(r.sentAt)) : '';
  // Chrome reads "$1$2" as a named placeholder, so key and time travel as one substitution.
  const facts = key + sent;
  if (r.movedFromOtherConversation) {
    return { status: 'moved', tone: 'bad', label: t('statusMovedLabel'), detail: d('statusMovedDetail', facts) };
  }
  if (r.senderMismatch) {
    return {
      status: 'sender-mismatch',
      tone: 'bad',
      label: t('statusSenderMismatchLabel', author),
      detail: d('statusSenderMismatchDetail', author, facts),
    };
  }
  const sig = r.signature;
  if (sig?.state === 'failed') {
    return sig.signedBy
      ? {
          status: 'sender-mismatch',
          tone: 'bad',
          label: t('statusSignedByOtherLabel', sig.signedBy, author),
          detail: d('statusSignatureByOtherDetail', author, sig.signedBy, facts),
        }
      : {
          status: 'sender-mismatch',
          tone: 'bad',
          label: t('statusNotSignedByLabel', author),
          detail: d('statusSignatureFailedDetail', author, facts),
        };
  }
  if (replayed || r.replayed)
    return {
      status: 'replayed',
      tone: 'bad',
      label: t('statusReplayedLabel'),
      detail: d('statusReplayedDetail', facts),
    };
  if (r.staleOnArrival)
    return { status: 'stale', tone: 'bad', label: t('statusStaleLabel'), detail: d('statusStaleDetail', facts) };
  if (r.keyStatus === 'revoked')
    return {
      status: 'revoked-key',
      tone: 'warn',
      label: t('statusRevokedLabel'),
      detail: d('statusRevokedDetail', facts),
    };
  if (sig?.state === 'missing') {
    return {
      status: 'unverified',
      tone: 'warn',
      label: t('statusUnsignedLabel'),
      detail: d('statusUnsignedDetail', author, facts),
    };
  }
  if (sig?.state === 'verified') {
    return {
      status: 'decrypted',
      tone: 'ok',
      label: t('statusVerifiedLabel', author),
      detail: d('statusVerifiedDetail', key, author, sent),
    };
  }
  const unknownSigner = sig?.state === 'unknown-signer' ? d('statusUnknownSignerNote', author) : '';
  return {
    status: 'decrypted',
    tone: 'ok',
    label: t('statusDecryptedLabel'),
    detail: d('statusDecryptedDetail', facts) + unknownSigner,
  };
}

/** A plaintext message in a protected chat (policy `flagUnencrypted`): a vendor that strips the marker shows up. */
export function notEncryptedView(): StatusView {
  return {
    status: 'not-encrypted',
    tone: 'warn',
    label: t('statusNotEncryptedLabel'),
    detail: t('statusNotEncryptedDetail'),
  };
}

/** While the background decrypts (long histories show this briefly per message). */
export function decryptingView(): StatusView {
  return { status: 'pending', tone: 'muted', label: t('statusDecryptingLabel'), detail: t('statusDecryptingDetail') };
}

/** Parts 2..n of a long message that travelled in chunks; its text shows with part 1. */
export function partView(index: number, count: number): StatusView {
  useLanguage();
  return {
    status: 'pending',
    tone: 'muted',
    label: t('statusPartLabel', index + 1, count),
    detail: t('statusPartDetail'),
  };
}

export const CONTINUED_TEXT = (): string => t('statusContinued');

/** Part 1 of a long message while parts are still missing. */
export function incompleteView(have: number, count: number): StatusView {
  useLanguage();
  return {
    status: 'incomplete',
    tone: 'muted',
    label: t('statusIncompleteLabel', have, count),
    detail: t('statusIncompleteDetail'),
  };
}

/** A long message whose parts were posted by different authors. */
export function mixedAuthorsView(): StatusView {
  return { status: 'malformed', tone: 'bad', label: t('statusMalformedLabel'), detail: t('statusPartsAuthorsDetail') };
}

/** The background did not answer: the envelope stays, and the badge says why. */
export function notDecryptedView(why: string): StatusView {
  useLanguage();
  return { status: 'pending', tone: 'warn', label: t('statusNotDecryptedLabel'), detail: why || t('statusNoAnswer') };
}

/** The screen-reader name of a badge: "Veil: Decrypted. End-to-end encrypted with …". */
export function ariaLabelOf(view: StatusView): string {
  useLanguage();
  return t('statusAriaPrefix', view.label.replace(/^[^\p{L}\p{N}]+\s*/u, ''), view.detail);
}
