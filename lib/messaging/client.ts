/**
 * Sending protocol requests from a content script or extension page. A background that cannot
 * be reached (extension reloaded, context invalidated, no answer in time) becomes an ordinary
 * `unreachable` error so callers fail closed instead of throwing.
 */
import browser, { type Runtime } from 'webextension-polyfill';
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

/** Name of a content script's long-lived request port (the background routes it like a message). */
export const REQUEST_PORT = 'veil-requests';

/**
 * Content scripts keep one port open to the background instead of opening a message channel per
 * request: a send then costs one hop each way, not a channel set-up too. The background handles a
 * port's requests exactly as messages (same router, same caller checks, the port's sender). If
 * the port closes (the worker stopped, the extension reloaded), requests in flight fail as a
 * closed message channel does, so the usual retry applies, and the next request opens a new one.
 * Extension pages and frames keep plain messages: they send few requests.
 */
class RequestPort {
  private port?: Runtime.Port;
  private nextId = 0;
  private waiting = new Map<number, { resolve: (res: unknown) => void; reject: (e: Error) => void }>();

  send(message: unknown): Promise<unknown> {
    const port = this.open();
    const rid = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(rid, { resolve, reject });
      try {
        port.postMessage({ rid, message });
      } catch (e) {
        this.waiting.delete(rid);
        this.close();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Forgets an answer nobody waits for any more (timed out). */
  drop(rid: number): void {
    this.waiting.delete(rid);
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  private open(): Runtime.Port {
    if (this.port) return this.port;
    const port = browser.runtime.connect({ name: REQUEST_PORT }); // throws once the context is invalidated
    port.onMessage.addListener((m: unknown) => {
      const { rid, res } = (m ?? {}) as { rid?: unknown; res?: unknown };
      if (typeof rid !== 'number') return;
      this.waiting.get(rid)?.resolve(res);
      this.waiting.delete(rid);
    });
    port.onDisconnect.addListener(() => {
      if (this.port === port) this.close();
    });
    return (this.port = port);
  }

  private close(): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    try {
      this.port?.disconnect();
    } catch {
      /* already gone */
    }
    this.port = undefined;
    for (const w of waiting) w.reject(new Error('The message port closed before a response was received.'));
  }
}

/** In a content script (the page's origin), not an extension page or frame. */
const inContentScript = (() => {
  try {
    return !/^(chrome|moz|safari-web)-extension:$/.test(globalThis.location?.protocol ?? 'chrome-extension:');
  } catch {
    return false;
  }
})();
const requestPort = inContentScript ? new RequestPort() : undefined;

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
    const message = { veil: 1, type, req };
    const answer = requestPort ? requestPort.send(message) : browser.runtime.sendMessage(message);
    const rid = requestPort?.lastId;
    const res = await Promise.race([answer, timeout]).finally(() => rid !== undefined && requestPort!.drop(rid));
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
