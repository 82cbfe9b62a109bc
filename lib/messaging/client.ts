/**
 * Sending protocol requests from a content script or extension page. A background that cannot
 * be reached (extension reloaded, context invalidated, no answer in time) becomes an ordinary
 * `unreachable` error so callers fail closed instead of throwing.
 */
import browser from 'webextension-polyfill';
import { t } from '../i18n';
import type { MessageType, Req, Res } from './protocol';

const DEFAULT_TIMEOUT_MS = 15_000;

export async function request<K extends MessageType>(
  type: K,
  req: Req<K>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<Res<K>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer from the Veil background')), timeoutMs);
  });
  try {
    const res = await Promise.race([browser.runtime.sendMessage({ veil: 1, type, req }), timeout]);
    if (!res || typeof res !== 'object' || !('ok' in res)) throw new Error('no answer from the Veil background');
    return res as Res<K>;
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    return {
      ok: false,
      error: { code: 'unreachable', message: t('errUnreachable', message) },
    } as Res<K>;
  } finally {
    clearTimeout(timer);
  }
}
