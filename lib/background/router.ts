/**
 * The background's single entry for protocol requests: decides who is asking (a content script
 * on a protected site, or one of Veil's own pages) and refuses everything else before any
 * handler runs. Modelled on uBlock Origin's privileged ports and Mailvelope's controller checks.
 */
import browser, { type Runtime } from 'webextension-polyfill';
import { CALLERS, type Caller, isEnvelope, type MessageType, type Res } from '../messaging/protocol';
import { siteForUrl } from '../policy/policy';
import { handlers, RequestError, type RequestContext } from './handlers/index';
import type { Keyring } from './keyring';
import { policy, policyReady } from './policy-source';

function callerOf(sender: Runtime.MessageSender): { caller: Caller; url: string } | undefined {
  if (sender.id !== browser.runtime.id || !sender.url) return undefined;
  const extensionOrigin = browser.runtime.getURL('/');
  if (sender.url.startsWith(extensionOrigin)) return { caller: 'extension-page', url: sender.url };
  if (sender.tab) return { caller: 'content', url: sender.url };
  return undefined;
}

export async function route(message: unknown, sender: Runtime.MessageSender, keyring: Keyring): Promise<Res<MessageType>> {
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
    if (!ctx.site && message.type !== 'site/status') {
      return { ok: false, error: { code: 'not-protected', message: 'Veil does not protect this site' } };
    }
  }
  try {
    const handler = handlers[message.type] as (req: unknown, ctx: RequestContext) => Promise<Res<MessageType>>;
    return await handler(message.req, ctx);
  } catch (e) {
    const code = e instanceof RequestError ? 'bad-request' : 'internal';
    return { ok: false, error: { code, message: (e as Error)?.message ?? String(e) } };
  }
}
