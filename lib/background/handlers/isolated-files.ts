/**
 * Files in isolated mode. The user attaches a file inside the secure composer frame (its own
 * picker, a drop or a paste there): the frame streams the plaintext here, and the sealed bytes go
 * to the content script, which gives the chat the `.veil` file the way its adapter uploads. The
 * file's reference goes back to the frame, which sends it with its next message (secure/send checks
 * it was sealed for that conversation). A reader frame opens a file
 * its message names: the content script fetches the sealed bytes from the chat's link, and the
 * plaintext goes to that reader frame only, once all of it proved authentic.
 * The plaintext never crosses the page or the content script, in either direction.
 */
import { bytesToHex, concatBytes } from '@noble/ciphers/utils.js';
import type { FileRef } from '../../crypto/file-ref';
import { FileStreamError, type FileOpener, type FileSealer } from '../../crypto/file-stream';
import { t } from '../../i18n';
import { sendsBlocked } from '../../policy/policy';
import type { Capability } from '../isolated/capabilities';
import { readerFiles } from '../isolated/reader-files';
import { policy } from '../policy-source';
import { fail, type Handlers, type RequestContext, RequestError } from './common';
import { fileErrorText, HEADER_PEEK, openerFor, out, piece, refOf, startSealer } from './files';
import { BAD_TOKEN, capabilities, host, isolatedHere, NOT_ISOLATED, token } from './isolated';

/**
 * Sessions per tab and kind, and in all: a reader opening previews never crowds out a file the
 * user is attaching, and one tab's readers crowd out only that tab's other readers.
 */
const MAX_PER_TAB = { seal: 4, open: 8 } as const;
const MAX_SESSIONS = 32;
const IDLE_MS = 60_000;

type Session = { owner: string; tabId: number; token: string; at: number } & (
  | {
      kind: 'seal';
      cap: Capability;
      sealer: FileSealer;
      meta: Omit<FileRef, 'id' | 'sha256' | 'sealedSize'>;
      fileName: string;
      conversationId: string;
      /** Sealed pieces the content script was sent so far (it must hold as many when handing the file over). */
      pieces: number;
    }
  | {
      kind: 'open';
      ref: FileRef;
      conversationId: string;
      author: string;
      received: number;
      head: Uint8Array;
      opener?: FileOpener;
    }
);

const sessions = new Map<string, Session>();
let nextSid = 0;

function ownerOf(ctx: RequestContext): string {
  const f = ctx.frame;
  if (!f) throw new RequestError('no calling frame');
  return `${f.tabId}/${f.frameId}/${f.documentId ?? ''}`;
}

function forget(sid: string): void {
  const s = sessions.get(sid);
  sessions.delete(sid);
  // What the content script kept of a file being attached goes too.
  if (s?.kind === 'seal') void host(s.cap, 'host/file-drop', { handle: s.cap.handle, sid });
}

function newSession(s: Session): string {
  const now = Date.now();
  for (const [sid, o] of sessions) if (now - o.at > IDLE_MS) forget(sid);
  const mine = [...sessions].filter(([, o]) => o.tabId === s.tabId && o.kind === s.kind);
  for (const [sid] of mine.slice(0, Math.max(0, mine.length - MAX_PER_TAB[s.kind] + 1))) forget(sid);
  if (sessions.size >= MAX_SESSIONS) throw new RequestError('too many files at once');
  const sid = `f${++nextSid}`;
  sessions.set(sid, s);
  return sid;
}

/** The caller's session: only the frame that started it, with the token it started it under. */
function sessionOf<K extends Session['kind']>(
  req: { sid?: unknown; token?: unknown },
  kind: K,
  ctx: RequestContext,
): Extract<Session, { kind: K }> {
  const s = typeof req.sid === 'string' ? sessions.get(req.sid) : undefined;
  if (!s || s.kind !== kind || s.owner !== ownerOf(ctx) || s.token !== req.token)
    throw new RequestError('no such file session');
  s.at = Date.now();
  return s as Extract<Session, { kind: K }>;
}

async function capFor(req: { token?: unknown }, ctx: RequestContext, kind: 'composer' | 'reader') {
  if (!(await isolatedHere(ctx))) return undefined;
  return capabilities.forFrame(token(req), ctx.frame!, kind);
}

const bytesOf = (pieces: Uint8Array[]) => pieces.reduce((n, p) => n + p.length, 0);

type FileMessages =
  | 'secure/file-seal-start'
  | 'secure/file-seal-push'
  | 'secure/file-seal-finish'
  | 'secure/file-open'
  | 'secure/file-pull'
  | 'secure/file-abort';

export const isolatedFileHandlers: Handlers<FileMessages> = {
  async 'secure/file-seal-start'(req, ctx) {
    if (!(await isolatedHere(ctx))) return fail('forbidden', NOT_ISOLATED);
    const cap = await capFor(req, ctx, 'composer');
    if (!cap) return fail('forbidden', BAD_TOKEN);
    // The chat links an upload to the next message of its main box: files go from there only.
    if ((cap.composer?.kind ?? 'main') !== 'main') return fail('forbidden', t('isoFileMainOnly'));
    if (sendsBlocked(policy())) return fail('policy', t('errPolicyInvalid'));
    const context = await host(cap, 'host/compose-context', { handle: cap.handle });
    if (!context.ok) return context;
    const started = await startSealer(ctx, { ...context, name: req.name, type: req.type, size: req.size });
    if (!('sealer' in started)) return started;
    const sid = newSession({
      kind: 'seal',
      owner: ownerOf(ctx),
      tabId: cap.tabId,
      token: req.token,
      at: Date.now(),
      cap,
      ...started,
      conversationId: context.conversationId,
      pieces: 0,
    });
    return { ok: true, sid };
  },

  async 'secure/file-seal-push'(req, ctx) {
    const cap = await capFor(req, ctx, 'composer');
    if (!cap) return fail('forbidden', BAD_TOKEN);
    const s = sessionOf(req, 'seal', ctx);
    let sealed: Uint8Array[];
    try {
      sealed = s.sealer.push(piece(req.data));
    } catch (e) {
      forget(req.sid);
      if (e instanceof FileStreamError) return fail('file', t('fileChanged'));
      throw e;
    }
    if (!bytesOf(sealed)) return { ok: true };
    s.pieces++;
    const r = await host(cap, 'host/file-piece', { handle: cap.handle, sid: req.sid, data: out(sealed) });
    if (!r.ok) forget(req.sid);
    return r;
  },

  async 'secure/file-seal-finish'(req, ctx) {
    const cap = await capFor(req, ctx, 'composer');
    if (!cap) return fail('forbidden', BAD_TOKEN);
    const s = sessionOf(req, 'seal', ctx);
    let last: Uint8Array[];
    try {
      last = s.sealer.finish();
    } catch (e) {
      forget(req.sid);
      if (e instanceof FileStreamError) return fail('file', t('fileChanged'));
      throw e;
    }
    // The file is bound to the conversation it was sealed for: never handed to another one.
    const context = await host(cap, 'host/compose-context', { handle: cap.handle });
    if (!context.ok || context.conversationId !== s.conversationId) {
      forget(req.sid);
      return context.ok ? fail('file', t('isoFileConversationChanged')) : context;
    }
    sessions.delete(req.sid);
    const handed = await host(
      cap,
      'host/file-hand',
      { handle: cap.handle, sid: req.sid, data: out(last), fileName: s.fileName, pieces: s.pieces },
      60_000,
    );
    if (!handed.ok) return handed;
    return { ok: true, ref: refOf(s.sealer, s.meta), conversationId: s.conversationId };
  },

  async 'secure/file-open'(req, ctx) {
    if (!(await isolatedHere(ctx))) return fail('forbidden', NOT_ISOLATED);
    const cap = await capFor(req, ctx, 'reader');
    const files = cap && readerFiles.get(req.token);
    if (!cap || !files) return fail('forbidden', BAD_TOKEN);
    const ref = Number.isInteger(req.index) ? files.refs[req.index] : undefined;
    if (!ref) throw new RequestError('no such file');
    const sid = newSession({
      kind: 'open',
      owner: ownerOf(ctx),
      tabId: cap.tabId,
      token: req.token,
      at: Date.now(),
      ref,
      conversationId: files.conversationId,
      author: files.author,
      received: 0,
      head: new Uint8Array(0),
    });
    return { ok: true, sid };
  },

  async 'secure/file-pull'(req, ctx) {
    const cap = await capFor(req, ctx, 'reader');
    if (!cap) return fail('forbidden', BAD_TOKEN);
    const s = sessionOf(req, 'open', ctx);
    const end = (r: ReturnType<typeof fail>) => {
      sessions.delete(req.sid);
      return r;
    };
    const r = await host(
      cap,
      'host/file-read',
      { handle: cap.handle, fileId: s.ref.id, at: s.received, sealedSize: s.ref.sealedSize },
      60_000,
    );
    if (!r.ok) return end(r);
    let bytes: Uint8Array;
    try {
      bytes = piece(r.data);
    } catch (e) {
      sessions.delete(req.sid);
      throw e;
    }
    // Another file than the message names: more bytes than it has, or fewer.
    const past = s.received + bytes.length;
    if (past > s.ref.sealedSize || (r.end && past < s.ref.sealedSize) || (!r.end && !bytes.length))
      return end(fail('file', fileErrorText('swapped')));
    s.received = past;
    try {
      const plain: Uint8Array[] = [];
      if (!s.opener) {
        s.head = concatBytes(s.head, bytes);
        if (s.head.length >= HEADER_PEEK || s.received === s.ref.sealedSize) {
          const where = { site: ctx.site!.adapter, conversationId: s.conversationId, senderId: s.author };
          const o = await openerFor(s.head, ctx, { ...where, inline: false });
          if (!('opener' in o)) return end(o);
          s.opener = o.opener;
          plain.push(...s.opener.push(s.head));
          s.head = new Uint8Array(0);
        }
      } else {
        plain.push(...s.opener.push(bytes));
      }
      // Done only once the download ended too: a byte past the named size makes it another file.
      if (!r.end) return { ok: true, done: false, data: out(plain) };
      sessions.delete(req.sid);
      const opener = s.opener!;
      plain.push(...opener.finish());
      // Authentic is not enough: it must be the very file the message names.
      if (bytesToHex(opener.digest()) !== s.ref.sha256) return end(fail('file', fileErrorText('swapped')));
      const h = opener.header!;
      return {
        ok: true,
        done: true,
        data: out(plain),
        name: h.name,
        type: h.type,
        size: h.size,
        moved: h.movedFromOtherConversation || h.senderMismatch,
      };
    } catch (e) {
      if (e instanceof FileStreamError) return end(fail('file', fileErrorText(e)));
      sessions.delete(req.sid);
      throw e;
    }
  },

  async 'secure/file-abort'(req, ctx) {
    const s = typeof req.sid === 'string' ? sessions.get(req.sid) : undefined;
    if (s && s.owner === ownerOf(ctx) && s.token === req.token) forget(req.sid);
    return { ok: true };
  },
};
