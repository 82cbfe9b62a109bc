/**
 * Attachments: the content script streams a file the user attached through here, piece by piece,
 * and gets back only the sealed `.veil` bytes and the reference the message will carry; for a
 * received file it streams the sealed bytes in and gets plaintext pieces that it may use only once
 * `file/open-finish` said the whole file is authentic and is the one the message names.
 * Each session is bound to the tab and frame that started it and holds about two 64 KiB chunks.
 */
import { base64 } from '@scure/base';
import { bytesToHex, concatBytes, randomBytes } from '@noble/ciphers/utils.js';
import { FileOpener, FileSealer, FileStreamError, peekFileHeader } from '../../crypto/file-stream';
import type { DerivedKey } from '../../crypto/envelope';
import type { FileRef } from '../../crypto/file-ref';
import { scopeSpecificity } from '../../keys/model';
import { sendsBlocked, UNMANAGED_DEFAULTS } from '../../policy/policy';
import { FILE_PIECE_BYTES } from '../../messaging/protocol';
import { t } from '../../i18n';
import { LockedError } from '../keys/wrapping';
import { policy } from '../policy-source';
import { modeFor } from '../isolated/site-mode';
import type { FrameRef } from '../isolated/capabilities';
import { checkString, fail, type Handlers, type RequestContext, RequestError } from './common';
import { keysOfIsolatedChats } from './content';

const MAX_SESSIONS = 16;
/** Per tab: a page that re-renders or drips downloads can only crowd out its own sessions. */
const MAX_SESSIONS_PER_TAB = 4;
const IDLE_MS = 60_000;
export const HEADER_PEEK = 29;

type Session =
  | { kind: 'seal'; owner: string; sealer: FileSealer; meta: Omit<FileRef, 'id' | 'sha256' | 'sealedSize'>; at: number }
  | {
      kind: 'open';
      owner: string;
      at: number;
      ctx: { conversationId: string; senderId: string };
      site: string;
      sha256: string;
      sealedSize: number;
      received: number;
      head: Uint8Array;
      opener?: FileOpener;
    };

const sessions = new Map<string, Session>();

function ownerOf(frame: FrameRef | undefined): string {
  if (!frame) throw new RequestError('no calling frame');
  return `${frame.tabId}/${frame.frameId}/${frame.documentId ?? ''}`;
}

function sweep(now = Date.now()): void {
  for (const [sid, s] of sessions) if (now - s.at > IDLE_MS) sessions.delete(sid);
}

function open<K extends Session['kind']>(sid: unknown, kind: K, ctx: RequestContext): Extract<Session, { kind: K }> {
  const s = typeof sid === 'string' ? sessions.get(sid) : undefined;
  // Another tab or frame never reaches a session: it would be an oracle for someone else's file.
  if (!s || s.kind !== kind || s.owner !== ownerOf(ctx.frame)) throw new RequestError('no such file session');
  s.at = Date.now();
  return s as Extract<Session, { kind: K }>;
}

function newSession(s: Session): string {
  sweep();
  const tab = s.owner.split('/')[0];
  const mine = [...sessions].filter(([, o]) => o.owner.split('/')[0] === tab).sort((a, b) => a[1].at - b[1].at);
  for (const [sid] of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_TAB + 1))) sessions.delete(sid);
  if (sessions.size >= MAX_SESSIONS) throw new RequestError('too many files at once');
  const sid = bytesToHex(randomBytes(16));
  sessions.set(sid, s);
  return sid;
}

export function piece(data: unknown): Uint8Array {
  if (typeof data !== 'string' || data.length > Math.ceil(FILE_PIECE_BYTES / 3) * 4)
    throw new RequestError('bad file piece');
  try {
    return base64.decode(data);
  } catch {
    throw new RequestError('bad file piece');
  }
}

export const out = (pieces: Uint8Array[]) => base64.encode(pieces.length === 1 ? pieces[0]! : concatBytes(...pieces));

/** What the user reads when a received file cannot be opened. */
export function fileErrorText(e: FileStreamError | 'swapped'): string {
  if (e === 'swapped') return t('fileSwapped');
  switch (e.code) {
    case 'truncated':
      return t('fileTruncated');
    case 'unknown-key':
      return t('fileUnknownKey');
    case 'malformed':
      return t('fileMalformed');
    default:
      return t('fileTampered');
  }
}

async function refuseUnlessInline(ctx: RequestContext) {
  // Isolated mode has no way to attach or show files yet: its page side never handles plaintext.
  if ((await modeFor(ctx.site)) === 'isolated') return fail('forbidden', t('errIsolatedOnly'));
  if (sendsBlocked(policy())) return fail('policy', t('errPolicyInvalid'));
  return undefined;
}

export const fileHandlers: Handlers<
  | 'file/seal-start'
  | 'file/seal-push'
  | 'file/seal-finish'
  | 'file/open-start'
  | 'file/open-push'
  | 'file/open-finish'
  | 'file/abort'
> = {
  async 'file/seal-start'(req, ctx) {
    const refused = await refuseUnlessInline(ctx);
    if (refused) return refused;
    const conversationId = checkString(req.conversationId, 'conversationId', 512);
    const senderId = checkString(req.senderId, 'senderId', 256);
    const started = await startSealer(ctx, {
      conversationId,
      senderId,
      name: req.name,
      type: req.type,
      size: req.size,
    });
    if (!('sealer' in started)) return started;
    const sid = newSession({ kind: 'seal', owner: ownerOf(ctx.frame), ...started, at: Date.now() });
    return { ok: true, sid, fileName: started.fileName };
  },

  async 'file/seal-push'(req, ctx) {
    const s = open(req.sid, 'seal', ctx);
    try {
      return { ok: true, data: out(s.sealer.push(piece(req.data))) };
    } catch (e) {
      sessions.delete(req.sid);
      if (e instanceof FileStreamError) return fail('file', t('fileChanged'));
      throw e;
    }
  },

  async 'file/seal-finish'(req, ctx) {
    const s = open(req.sid, 'seal', ctx);
    sessions.delete(req.sid);
    let data: string;
    try {
      data = out(s.sealer.finish());
    } catch (e) {
      if (e instanceof FileStreamError) return fail('file', t('fileChanged'));
      throw e;
    }
    return { ok: true, data, ref: refOf(s.sealer, s.meta) };
  },

  async 'file/open-start'(req, ctx) {
    if ((await modeFor(ctx.site)) === 'isolated') return fail('forbidden', t('errIsolatedOnly'));
    const conversationId = checkString(req.conversationId, 'conversationId', 512);
    const senderId = checkString(req.author, 'author', 256);
    if (typeof req.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(req.sha256)) throw new RequestError('bad digest');
    if (!Number.isSafeInteger(req.sealedSize) || req.sealedSize < 0) throw new RequestError('bad size');
    const sid = newSession({
      kind: 'open',
      owner: ownerOf(ctx.frame),
      at: Date.now(),
      ctx: { conversationId, senderId },
      site: ctx.site!.adapter,
      sha256: req.sha256,
      sealedSize: req.sealedSize,
      received: 0,
      head: new Uint8Array(0),
    });
    return { ok: true, sid };
  },

  async 'file/open-push'(req, ctx) {
    const s = open(req.sid, 'open', ctx);
    const bytes = piece(req.data);
    s.received += bytes.length;
    if (s.received > s.sealedSize) {
      sessions.delete(req.sid);
      return fail('file', fileErrorText('swapped'));
    }
    try {
      if (!s.opener) {
        // The key is named in the header: look it up (it may be locked, or out of this chat's scope).
        s.head = concatBytes(s.head, bytes);
        if (s.head.length < HEADER_PEEK) return { ok: true, data: '' };
        const failed = await prepareOpener(s, ctx);
        if (failed) {
          sessions.delete(req.sid);
          return failed;
        }
        const head = s.head;
        s.head = new Uint8Array(0);
        return { ok: true, data: out(s.opener!.push(head)) };
      }
      return { ok: true, data: out(s.opener.push(bytes)) };
    } catch (e) {
      sessions.delete(req.sid);
      if (e instanceof FileStreamError) return fail('file', fileErrorText(e));
      throw e;
    }
  },

  async 'file/open-finish'(req, ctx) {
    const s = open(req.sid, 'open', ctx);
    sessions.delete(req.sid);
    try {
      if (!s.opener) {
        if (s.head.length < HEADER_PEEK) throw new FileStreamError('truncated');
        const failed = await prepareOpener(s, ctx);
        if (failed) return failed;
        s.opener!.push(s.head);
      }
      const opener = s.opener!;
      const last = opener.finish();
      // Authentic is not enough: it must be the very file the message names (not another one of
      // this conversation the server swapped in).
      if (s.received !== s.sealedSize || bytesToHex(opener.digest()) !== s.sha256)
        return fail('file', fileErrorText('swapped'));
      const h = opener.header!;
      return {
        ok: true,
        data: out(last),
        name: h.name,
        type: h.type,
        size: h.size,
        movedFromOtherConversation: h.movedFromOtherConversation,
        senderMismatch: h.senderMismatch,
      };
    } catch (e) {
      if (e instanceof FileStreamError) return fail('file', fileErrorText(e));
      throw e;
    }
  },

  async 'file/abort'(req, ctx) {
    const s = typeof req.sid === 'string' ? sessions.get(req.sid) : undefined;
    if (s && s.owner === ownerOf(ctx.frame)) sessions.delete(req.sid);
    return { ok: true };
  },
};

/**
 * A sealer for one file the user attached, under the conversation's key, if policy lets files be
 * encrypted here and the file is within the size limit; else the reason.
 */
export async function startSealer(
  ctx: RequestContext,
  file: { conversationId: string; senderId: string; name: unknown; type: unknown; size: unknown },
): Promise<
  | { sealer: FileSealer; meta: Omit<FileRef, 'id' | 'sha256' | 'sealedSize'>; fileName: string }
  | ReturnType<typeof fail>
> {
  const { conversationId, senderId } = file;
  const name = typeof file.name === 'string' ? file.name.slice(0, 512) : '';
  const type = typeof file.type === 'string' ? file.type.slice(0, 255) : '';
  const p = policy();
  if ((p.attachments ?? UNMANAGED_DEFAULTS.attachments) !== 'encrypt') return fail('policy', t('fileBlockedPolicy'));
  const max = p.maxAttachmentBytes ?? UNMANAGED_DEFAULTS.maxAttachmentBytes;
  const size = file.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new RequestError('bad file size');
  if (size > max) return fail('file', t('fileTooLarge', t('fileLabel', 1, 1), Math.floor(max / 1024 / 1024)));
  ctx.keyring.noteUserAction(); // attaching is the user's doing (trusted input only)
  const rec = await ctx.keyring.encryptionKey(ctx.site!.adapter, conversationId);
  if (!rec) return fail('no-key', t(p.managed ? 'errNoKeyManaged' : 'errNoKey', conversationId));
  let key: DerivedKey;
  try {
    key = (await ctx.keyring.derivedFor(rec.id))!;
  } catch (e) {
    if (e instanceof LockedError) return fail('locked', t('errLocked'));
    throw e;
  }
  const fileId = randomBytes(16);
  const meta = { name, type, size };
  const sealer = new FileSealer(
    key,
    meta,
    { conversationId, senderId },
    { sentAt: Date.now(), fileId, fileKey: randomBytes(32) },
  );
  return { sealer, meta, fileName: `${bytesToHex(fileId)}.veil` };
}

/** The reference a finished sealer's message carries. */
export function refOf(sealer: FileSealer, meta: Omit<FileRef, 'id' | 'sha256' | 'sealedSize'>): FileRef {
  return { id: bytesToHex(sealer.fileId), sha256: bytesToHex(sealer.digest()), sealedSize: sealer.sealedSize, ...meta };
}

/** Finds the header's key (scope-checked like a message's) and starts the opener, or says why not. */
async function prepareOpener(s: Extract<Session, { kind: 'open' }>, ctx: RequestContext) {
  const r = await openerFor(s.head, ctx, { site: s.site, ...s.ctx, inline: true });
  if ('ok' in r) return r;
  s.opener = r.opener;
  return undefined;
}

/**
 * The opener for a sealed file whose first bytes are `head`: its key named in the header, in scope
 * for this site and conversation like a message's. `inline`: nor a key any isolated chat uses (its
 * files are not opened into an inline page).
 */
export async function openerFor(
  head: Uint8Array,
  ctx: RequestContext,
  where: { site: string; conversationId: string; senderId: string; inline: boolean },
): Promise<{ opener: FileOpener } | ReturnType<typeof fail>> {
  const peek = peekFileHeader(head);
  if (!peek) return fail('file', fileErrorText(new FileStreamError('malformed')));
  const keyId = bytesToHex(peek.keyId);
  const rec = await ctx.keyring.get(keyId);
  if (
    !rec ||
    scopeSpecificity(rec.scope, where.site, where.conversationId) < 0 ||
    (where.inline && (await keysOfIsolatedChats())(rec))
  )
    return fail('file', fileErrorText(new FileStreamError('unknown-key')));
  let key: DerivedKey | undefined;
  try {
    key = await ctx.keyring.derivedFor(keyId);
  } catch (e) {
    if (e instanceof LockedError) return fail('locked', t('errLocked'));
    throw e;
  }
  if (!key) return fail('file', fileErrorText(new FileStreamError('unknown-key')));
  const k = key;
  const opener = new FileOpener((id) => (bytesToHex(id) === keyId ? k : undefined), {
    conversationId: where.conversationId,
    senderId: where.senderId,
  });
  return { opener };
}
