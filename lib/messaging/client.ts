/**
 * Sending protocol requests from a content script or extension page. A background that cannot
 * be reached (extension reloaded, context invalidated, no answer in time) becomes an ordinary
 * `unreachable` error so callers fail closed instead of throwing.
 */
import browser from 'webextension-polyfill';
import { t } from '../i18n';
import type { MessageType, Req, Res } from './protocol';

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Requests that change nothing in the background until their answer is used: asking again is
 * safe. (An encrypt answer that never arrived was never put into the chat.)
 */
const RETRYABLE = new Set<MessageType>(['site/status', 'encrypt', 'encrypt/preview', 'decrypt']);
/** Back-off before each retry: an MV3 worker that was stopped mid-request needs a moment to start. */
const RETRY_DELAYS_MS = [50, 250, 1_000];

/**
 * A worker stopped while it handled the request closes the message port; the next attempt wakes
 * a fresh one. An invalidated context (extension reloaded or removed) never comes back.
 */
function isTransient(message: string): boolean {
  return (
    !/context invalidated/i.test(message) &&
    /message port closed|message channel closed|Receiving end does not exist|Could not establish connection/i.test(
      message,
    )
  );
}

export async function request<K extends MessageType>(
  type: K,
  req: Req<K>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Res<K>> {
  for (let attempt = 0; ; attempt++) {
    const { res, transportError } = await requestOnce(type, req, timeoutMs);
    const retry = transportError !== undefined && isTransient(transportError) && RETRYABLE.has(type);
    if (!retry || attempt >= RETRY_DELAYS_MS.length) return res;
    await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
  }
}

async function requestOnce<K extends MessageType>(
  type: K,
  req: Req<K>,
  timeoutMs: number,
): Promise<{ res: Res<K>; transportError?: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer from the Veil background')), timeoutMs);
  });
  try {
    const res = await Promise.race([browser.runtime.sendMessage({ veil: 1, type, req }), timeout]);
    if (!res || typeof res !== 'object' || !('ok' in res)) throw new Error('no answer from the Veil background');
    return { res: res as Res<K> };
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    return {
      res: { ok: false, error: { code: 'unreachable', message: t('errUnreachable', message) } } as Res<K>,
      transportError: message,
    };
  } finally {
    clearTimeout(timer);
  }
}
