/**
 * Isolated mode: requests from content scripts that place secure frames, from the
 * secure frames themselves, and from the options page. The logic of tokens and modes lives in
 * lib/isolated/background/; this file checks requests and wires them together.
 *
 * Plaintext flows only between a secure frame and this file: the composer's text comes in and
 * goes out as envelopes to the content script; a reader's text goes to the one frame bound to its
 * token. The content script (and so the page) gets envelopes, sizes and warnings, nothing else.
 */
import browser from 'webextension-polyfill';
import { hexToBytes } from '@noble/ciphers/utils.js';
import { BUILTIN_ADAPTERS } from '../../adapters/registry';
import { t } from '../../i18n';
import { toInfo } from '../../keys/model';
import type { AttachedFile, HostCommand, HostCommandMap, HostEnvelope } from '../../messaging/protocol';
import { CapabilityRegistry, isFramePageOf, type Capability, validReaderTexts } from '../isolated/capabilities';
import { Drafts, MAX_DRAFT_FILES } from '../isolated/drafts';
import { readerFiles } from '../isolated/reader-files';
import { encodeFileRef, parseFileRef, splitFileRefs, withFileRefs, type FileRef } from '../../crypto/file-ref';
import { isolatedSettings } from '../isolated/settings';
import { modeDecision, modeFor } from '../isolated/site-mode';
import { checkIndicator } from '../../messaging/indicator';
import { policyIsolates, siteKey } from '../../policy/site-mode';
import {
  cleanTheme,
  COMPOSER_FRAME_KINDS,
  type ComposerFrameSpec,
  type ReaderSpec,
  SECURE_FRAME_PAGES,
  TOKEN_PATTERN,
} from '../../messaging/frame-types';
import { decryptItem, judgeReplays } from '../decrypt';
import { briefViewOf } from '../../i18n/status-text';
import { judgeQuotes, quoteBook } from '../quote-book';
import { replayLog } from '../replay-log';
import { indexDecrypted } from '../search/service';
import { policy } from '../policy-source';
import { checkString, fail, type Handlers, type RequestContext, RequestError } from './common';
import { encryptText, stableHostIds } from './content';

export const capabilities = new CapabilityRegistry();
const drafts = new Drafts();
try {
  browser.tabs?.onRemoved.addListener((tabId) => drafts.dropTab(tabId));
} catch {
  // no tabs API here (tests): drafts then go by count and age only
}

type IsolatedMessages =
  | 'isolated/open-frame'
  | 'secure/redeem'
  | 'secure/send'
  | 'secure/draft'
  | 'secure/size'
  | 'secure/event'
  | 'isolated/settings'
  | 'isolated/set-site-mode'
  | 'isolated/set-indicator';

export const NOT_ISOLATED = t('errIsolatedFramesOnly');
export const BAD_TOKEN = t('errBadFrameToken');

/** Sends a command to the content script that minted `cap`; any failure becomes an error result. */
export async function host<K extends HostCommand>(
  cap: Capability,
  type: K,
  req: HostCommandMap[K]['req'],
  timeoutMs = 15_000,
): Promise<HostCommandMap[K]['res']> {
  const envelope: HostEnvelope<K> = { veilHost: 1, type, req };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const res = await Promise.race([
      browser.tabs.sendMessage(cap.tabId, envelope, { frameId: cap.hostFrameId }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(t('errNoAnswerFromPage'))), timeoutMs);
      }),
    ]);
    if (!res || typeof res !== 'object' || !('ok' in res)) throw new Error(t('errNoAnswerFromPage'));
    return res as HostCommandMap[K]['res'];
  } catch (e) {
    return {
      ok: false,
      error: { code: 'unreachable', message: t('errLostPage', (e as Error).message) },
    } as HostCommandMap[K]['res'];
  } finally {
    clearTimeout(timer);
  }
}

export function token(req: { token?: unknown }): string {
  if (typeof req.token !== 'string' || !TOKEN_PATTERN.test(req.token)) throw new RequestError('bad token');
  return req.token;
}

/** A message as the page shows it: only Veil envelopes, at most one maximal message's worth. */
function readerSpec(r: ReaderSpec | undefined): ReaderSpec {
  if (!r || !validReaderTexts(r.texts) || typeof r.author !== 'string') throw new RequestError('bad reader spec');
  return {
    conversationId: checkString(r.conversationId, 'conversationId', 512),
    author: r.author.slice(0, 256),
    texts: [...r.texts],
    hostMessageId: typeof r.hostMessageId === 'string' ? r.hostMessageId.slice(0, 256) : undefined,
  };
}

function composerSpec(c: ComposerFrameSpec | undefined): Capability['composer'] {
  const kind = c?.kind ?? 'main';
  if (!COMPOSER_FRAME_KINDS.includes(kind)) throw new RequestError('unknown composer kind');
  // An edit box on a message that is not one Veil envelope: covered all the same, and refuses to send.
  return kind === 'edit' && c?.edit ? { kind, edit: readerSpec(c.edit) } : { kind };
}

/**
 * An edit's composer: the message it opened on, decrypted as written by the signed-in user (the
 * page's claim, as for every send). Binds the edit to it; the text goes to the composer frame only.
 */
async function openEdit(
  cap: Capability,
  token: string,
  ctx: RequestContext,
  context: { conversationId: string; senderId: string },
): Promise<{ text?: string; error?: string }> {
  const c = cap.composer!;
  const spec = c.edit;
  if (!spec) return { error: t('isoEditNotYours') };
  // Minted before a worker restart: its texts were not kept (capabilities.ts).
  if (!spec.texts.length) return { error: t('isoEditReopen') };
  // Where the user signs on this site, only a message signed by the user's own identity is theirs
  // to edit: the page's claim of who is signed in then counts for nothing here.
  const own = (await ctx.keyring.identities()).filter((i) => i.site === ctx.site!.adapter);
  const identity = own.find((i) => i.userId === context.senderId);
  const mine =
    spec.author === context.senderId &&
    spec.conversationId === context.conversationId &&
    (own.length === 0 || !!identity);
  const request = { id: '0', texts: spec.texts, author: context.senderId, hostId: spec.hostMessageId };
  const signerKey = identity && hexToBytes(identity.publicKey);
  const item = mine
    ? await decryptItem(ctx.keyring, spec.conversationId, request, ctx.site!.adapter, { signerKey })
    : undefined;
  if (
    !item ||
    item.status !== 'decrypted' ||
    !item.messageId ||
    item.senderMismatch ||
    item.movedFromOtherConversation ||
    (signerKey ? item.signature?.state !== 'verified' : item.signature?.state === 'failed')
  )
    return { error: t('isoEditNotYours') };
  c.editOf = { messageId: item.messageId, hostId: spec.hostMessageId ?? '' };
  c.author = context.senderId;
  // The frame shows the words to edit; the message's files stay with the edit without being shown as text.
  const { refs, text } = splitFileRefs(item.text ?? '');
  c.editFiles = refs;
  capabilities.changed(token);
  return { text };
}

/** File references a secure composer sends with its message, each well-formed (at most one message's worth). */
function attachedRefs(files: AttachedFile[] | undefined): FileRef[] {
  if (files === undefined) return [];
  if (!Array.isArray(files) || files.length > MAX_DRAFT_FILES) throw new RequestError('bad files');
  return files.map((f) => {
    const ref =
      f && typeof f === 'object' && f.ref && typeof f.ref === 'object' ? parseFileRef(encodeFileRef(f.ref)) : undefined;
    if (!ref || typeof f.conversationId !== 'string') throw new RequestError('bad files');
    return ref;
  });
}

export async function isolatedHere(ctx: RequestContext): Promise<boolean> {
  return !!ctx.site && (await modeFor(ctx.site)) === 'isolated';
}

export const isolatedHandlers: Handlers<IsolatedMessages> = {
  async 'isolated/open-frame'(req, ctx) {
    if (!ctx.frame || !(await isolatedHere(ctx))) return fail('forbidden', NOT_ISOLATED);
    if (!Object.hasOwn(SECURE_FRAME_PAGES, req.kind)) throw new RequestError('unknown frame kind');
    const handle = checkString(req.handle, 'handle', 64);
    // Only Veil envelopes, at most one maximal message's worth: a page cannot park data here.
    const reader = req.kind === 'reader' ? readerSpec(req.reader) : undefined;
    const composer = req.kind === 'composer' ? composerSpec(req.composer) : undefined;
    const theme = cleanTheme(req.theme);
    return {
      ok: true,
      token: await capabilities.mint(ctx.frame, { kind: req.kind, handle, theme, reader, composer }),
      url: browser.runtime.getURL(SECURE_FRAME_PAGES[req.kind]),
    };
  },

  async 'secure/redeem'(req, ctx) {
    if (!(await isolatedHere(ctx))) return fail('forbidden', NOT_ISOLATED);
    const cap = await capabilities.redeem(token(req), ctx.frame!);
    if (!cap || !isFramePageOf(ctx.frame!.url, cap.kind)) return fail('forbidden', BAD_TOKEN);
    const { indicator } = await isolatedSettings.get();
    const grant = { kind: cap.kind, indicator, theme: cap.theme };
    if (cap.kind === 'reader') {
      const r = cap.reader!;
      // Minted before a worker restart and never redeemed: its texts were not kept (capabilities.ts).
      if (r.texts.length === 0) return fail('forbidden', BAD_TOKEN);
      const request = { id: '0', texts: r.texts, author: r.author, hostId: r.hostMessageId };
      const item = await decryptItem(ctx.keyring, r.conversationId, request, ctx.site!.adapter);
      // Across loads and tabs: the persistent log; within this tab: every host id (stable or not).
      await judgeReplays(replayLog, r.conversationId, [{ item: request, result: item }], stableHostIds(ctx.site));
      judgeQuotes(quoteBook, `isolated:${ctx.site!.adapter}`, r.conversationId, [{ item: request, result: item }]);
      indexDecrypted(ctx.site!.adapter, r.conversationId, ctx.frame!.tabUrl, [{ item: request, result: item }]);
      const replayed =
        item.status === 'decrypted' &&
        (!!item.replayed || capabilities.replayed(cap.tabId, item.messageId, r.hostMessageId));
      // The files this message names: this reader may open them (and only them), from the chat's
      // links; none when the reader shows no text (a moved message, another sender's).
      const shown =
        item.status === 'decrypted' &&
        !['moved', 'sender-mismatch'].includes(briefViewOf(item, r.author, replayed).status);
      const refs = shown ? splitFileRefs(item.text ?? '').refs : [];
      if (refs.length) readerFiles.note(token(req), { conversationId: r.conversationId, author: r.author, refs });
      return { ok: true, ...grant, reader: { item, author: r.author, replayed } };
    }
    void host(cap, 'host/frame-event', { handle: cap.handle, event: 'ready' });
    const context = await host(cap, 'host/compose-context', { handle: cap.handle });
    if (!context.ok) return { ok: true, ...grant, composer: { error: context.error.message } };
    const key = await ctx.keyring.encryptionKey(ctx.site!.adapter, context.conversationId);
    const info = key && toInfo(key);
    const kind = cap.composer?.kind ?? 'main';
    if (cap.composer) {
      cap.composer.conversationId = context.conversationId;
      capabilities.changed(token(req));
    }
    const edit = kind === 'edit' ? await openEdit(cap, token(req), ctx, context) : {};
    const error = info ? edit.error : t('errNoKeyIsolated');
    // What the user typed and attached in the composer this one replaces (the page re-rendered or removed its box).
    const draft = drafts.take({ tabId: cap.tabId, kind, conversationId: context.conversationId });
    const draftFiles = draft?.files.map((ref) => ({ ref, conversationId: context.conversationId }));
    return {
      ok: true,
      ...grant,
      composer: {
        kind,
        ...(info ? { keyLabel: info.label, fingerprint: info.fingerprint } : {}),
        ...edit,
        ...(draft?.text ? { draft: draft.text } : {}),
        ...(draftFiles?.length ? { draftFiles } : {}),
        error,
      },
    };
  },

  async 'secure/send'(req, ctx) {
    if (!(await isolatedHere(ctx))) return fail('forbidden', NOT_ISOLATED);
    const cap = await capabilities.forFrame(token(req), ctx.frame!, 'composer');
    if (!cap) return fail('forbidden', BAD_TOKEN);
    if (typeof req.text !== 'string') throw new RequestError('text is missing');
    // Where to send is read from the page at send time; the page decides it in any mode (it routes).
    const context = await host(cap, 'host/compose-context', { handle: cap.handle });
    if (!context.ok) return context;
    // Files attached in this composer go with this message (the chat links its uploads to it), and
    // only to the conversation they were sealed for.
    const files = attachedRefs(req.files);
    if (files.length && (cap.composer?.kind ?? 'main') !== 'main') throw new RequestError('files from a reply box');
    if (req.files?.some((f) => f.conversationId !== context.conversationId))
      return fail('file', t('isoFileConversationChanged'));
    if (!req.text.trim() && !files.length) throw new RequestError('text is missing');
    // An edit goes out bound to the message its box opened on, by its author only, in one piece.
    const c = cap.composer;
    let edit = {};
    if (c?.kind === 'edit') {
      if (!c.editOf)
        return fail('forbidden', c.edit && !c.edit.texts.length ? t('isoEditReopen') : t('isoEditNotYours'));
      if (c.author !== context.senderId || c.edit?.conversationId !== context.conversationId)
        return fail('forbidden', t('isoEditNotYours'));
      edit = { editOf: c.editOf, allowChunks: false };
    }
    const text = withFileRefs(req.text, [...files, ...(c?.kind === 'edit' ? (c.editFiles ?? []) : [])]);
    const enc = await encryptText({ ...context, text, ...edit }, ctx, { place: 'isolated' });
    if (!enc.ok) return enc;
    const put = await host(cap, 'host/put-envelopes', { handle: cap.handle, envelopes: enc.envelopes }, 60_000);
    if (!put.ok) return put;
    return { ok: true, fingerprint: enc.fingerprint, parts: enc.envelopes.length };
  },

  async 'secure/draft'(req, ctx) {
    const cap = await capabilities.forFrame(token(req), ctx.frame!, 'composer');
    if (!cap) return fail('forbidden', BAD_TOKEN);
    if (typeof req.text !== 'string') throw new RequestError('text is missing');
    const conversationId = cap.composer?.conversationId;
    const files = attachedRefs(req.files?.filter((f) => f.conversationId === conversationId));
    if (conversationId) drafts.keep({ tabId: cap.tabId, kind: cap.composer!.kind, conversationId }, req.text, files);
    return { ok: true };
  },

  async 'secure/size'(req, ctx) {
    const cap = await capabilities.forFrame(token(req), ctx.frame!);
    if (!cap) return fail('forbidden', BAD_TOKEN);
    const height = Math.max(0, Math.min(20_000, Math.ceil(Number(req.height) || 0)));
    return host(cap, 'host/frame-size', { handle: cap.handle, height });
  },

  async 'secure/event'(req, ctx) {
    const cap = await capabilities.forFrame(token(req), ctx.frame!);
    if (!cap) return fail('forbidden', BAD_TOKEN);
    if (!['focus', 'blur', 'pointerdown', 'tab', 'shift-tab', 'attach'].includes(req.event))
      throw new RequestError('unknown event');
    return host(cap, 'host/frame-event', { handle: cap.handle, event: req.event });
  },

  async 'isolated/settings'() {
    const { indicator } = await isolatedSettings.get();
    const sites = await Promise.all(
      policy().protectedSites.map(async (s) => {
        const d = await modeDecision(s);
        const name =
          s.adapter === 'custom'
            ? (s.custom?.name ?? t('isoCustomChatName'))
            : (BUILTIN_ADAPTERS.find((a) => a.id === s.adapter)?.name ?? s.adapter);
        return { key: siteKey(s), name, mode: d.mode, enforced: d.enforced };
      }),
    );
    // One row per site key (several match lists can share an adapter).
    // When the policy isolates only some of a key's entries, the row shows the user's own switch.
    const byKey = new Map<string, (typeof sites)[number]>();
    for (const s of sites) if (!byKey.get(s.key) || byKey.get(s.key)!.enforced) byKey.set(s.key, s);
    const unique = [...byKey.values()];
    return { ok: true, indicator, sites: unique };
  },

  async 'isolated/set-site-mode'(req) {
    const key = checkString(req.key, 'key', 300);
    if (req.mode !== 'inline' && req.mode !== 'isolated') throw new RequestError('unknown mode');
    if (!policy().protectedSites.some((s) => siteKey(s) === key)) return fail('bad-request', t('errSiteNotProtected'));
    // Policy isolates this site (globally or by its own entry): the user cannot make it inline.
    if (
      req.mode === 'inline' &&
      policy()
        .protectedSites.filter((s) => siteKey(s) === key)
        .every((s) => policyIsolates(policy(), s))
    ) {
      return fail('policy', t('errIsolatedRequired'));
    }
    await isolatedSettings.setSiteMode(key, req.mode);
    return { ok: true };
  },

  async 'isolated/set-indicator'(req) {
    const checked = checkIndicator(req.indicator);
    if (typeof checked === 'string') return fail('bad-request', checked);
    await isolatedSettings.setIndicator(checked);
    return { ok: true, indicator: checked };
  },
};
