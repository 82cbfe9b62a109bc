/**
 * The background's single entry for protocol requests: decides who is asking (a content script
 * on a protected site, or one of Veil's own pages) and refuses everything else before any
 * handler runs. Modelled on uBlock Origin's privileged ports and Mailvelope's controller checks.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { CALLERS, type Caller, isEnvelope, type MessageType, type Res } from '../messaging/protocol';
import { siteForUrl } from '../policy/policy';
import { extensionOrigins, isSecureFramePage, originOf, type FrameRef } from './isolated/capabilities';
import { handlers, RequestError, type RequestContext } from './handlers/index';
import type { Keyring } from './keyring';
import { policy, policyReady } from './policy-source';

function callerOf(sender: Runtime.MessageSender): { caller: Caller; url: string } | undefined {
  if (sender.id !== browser.runtime.id || !sender.url) return undefined;
  const origins = extensionOrigins();
  if (origins.includes(originOf(sender.url))) {
    // Isolated mode's frames are extension pages living inside an untrusted page: they get only
    // the 'secure-frame' calls, never the keyring and policy calls of Veil's own pages.
    if (isSecureFramePage(sender.url, origins)) {
      return sender.tab && sender.frameId !== undefined && sender.frameId !== 0
        ? { caller: 'secure-frame', url: sender.url }
        : undefined;
    }
    return { caller: 'extension-page', url: sender.url };
  }
  if (sender.tab) return { caller: 'content', url: sender.url };
  return undefined;
}

/** Where a request came from, for capabilities bound to a tab and frame (isolated mode). */
function frameOf(sender: Runtime.MessageSender): FrameRef | undefined {
  if (sender.tab?.id === undefined || sender.frameId === undefined) return undefined;
  // Chrome's documentId tells a frame's documents apart across navigations; Firefox has none.
  const documentId = (sender as { documentId?: string }).documentId;
  return { tabId: sender.tab.id, frameId: sender.frameId, documentId, url: sender.url ?? '', tabUrl: sender.tab.url };
}

export async function route(
  message: unknown,
  sender: Runtime.MessageSender,
  keyring: Keyring,
): Promise<Res<MessageType>> {
  if (!isEnvelope(message)) return { ok: false, error: { code: 'bad-request', message: 'not a Veil request' } };
  const who = callerOf(sender);
  if (!who || CALLERS[message.type] !== who.caller) {
    return { ok: false, error: { code: 'forbidden', message: `${message.type} is not allowed from here` } };
  }
  // After a service-worker restart, answer with the enterprise policy, not the defaults.
  await policyReady();
  const ctx: RequestContext = { keyring };
  if (who.caller === 'content') {
    ctx.site = siteForUrl(policy(), who.url);
    ctx.frame = frameOf(sender);
    if (!ctx.site && message.type !== 'site/status') {
      return { ok: false, error: { code: 'not-protected', message: 'Veil does not protect this site' } };
    }
  }
  if (who.caller === 'secure-frame') {
    // A secure frame works only inside a tab showing a protected site (the top page's URL).
    ctx.frame = frameOf(sender);
    ctx.site = ctx.frame?.tabUrl ? siteForUrl(policy(), ctx.frame.tabUrl) : undefined;
    if (!ctx.site || !ctx.frame)
      return { ok: false, error: { code: 'not-protected', message: 'Veil does not protect this site' } };
  }
  try {
    const handler = handlers[message.type] as (req: unknown, ctx: RequestContext) => Promise<Res<MessageType>>;
    return await handler(message.req, ctx);
  } catch (e) {
    const code = e instanceof RequestError ? 'bad-request' : 'internal';
    return { ok: false, error: { code, message: (e as Error)?.message ?? String(e) } };
  }
}
