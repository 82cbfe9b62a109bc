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
 * safe. (An encrypt answer that never arrived was never put into the chat.) Only such requests
 * belong here: one lost on the way may be sent twice.
 */
const RETRYABLE = new Set<MessageType>(['site/status', 'encrypt', 'encrypt/preview', 'decrypt']);
/** Back-off before each retry: an MV3 worker that was stopped mid-request needs a moment to start. */
const RETRY_DELAYS_MS = [50, 250, 1_000];
/** How long an askable-again request on the port waits before it is also sent down a fresh port. */
const STALL_MS = 4_000;
const STALLED = Symbol('stalled');
const NO_ANSWER = 'no answer from the Veil background';

/** Name of a content script's long-lived request port (the background routes it like a message). */
export const REQUEST_PORT = 'veil-requests';

/**
 * Content scripts keep one port open to the background instead of opening a message channel per
 * request: a send then costs one hop each way, not a channel set-up too. The background handles a
 * port's requests exactly as messages (same router, same caller checks, the port's sender). If
 * the port closes (the worker stopped, the extension reloaded), requests in flight fail as a
 * closed message channel does, so the usual retry applies, and the next request opens a new one.
 * A port can also go quiet without closing (a request lost while the worker was being replaced):
 * `retire` then sends new requests down a fresh port while the old one keeps the answers it still
 * owes, and closes once it owes none.
 * Extension pages and frames keep plain messages: they send few requests.
 */
class RequestPort {
  private current?: PortChannel;
  private nextId = 0;

  /** Sends on the current port; `rid` names the request for `drop`. */
  send(message: unknown): { answer: Promise<unknown>; rid: number; channel: PortChannel } {
    const channel = (this.current ??= new PortChannel(() => {
      if (this.current === channel) this.current = undefined;
    }));
    const rid = this.nextId++;
    return { answer: channel.send(rid, message), rid, channel };
  }

  /** Stops sending new requests down `channel`; what it still owes may yet arrive. */
  retire(channel: PortChannel): void {
    if (this.current === channel) this.current = undefined;
    channel.retire();
  }
}

class PortChannel {
  private readonly port: Runtime.Port;
  private readonly waiting = new Map<
    number,
    { resolve: (res: unknown) => void; reject: (e: Error) => void; acked?: boolean }
  >();
  private retired = false;
  private closed = false;

  constructor(private readonly onClose: () => void) {
    this.port = browser.runtime.connect({ name: REQUEST_PORT }); // throws once the context is invalidated
    this.port.onMessage.addListener((m: unknown) => {
      const { rid, res, ack } = (m ?? {}) as { rid?: unknown; res?: unknown; ack?: unknown };
      if (typeof rid !== 'number') return;
      const waiter = this.waiting.get(rid);
      if (ack === 1) {
        if (waiter) waiter.acked = true;
        return;
      }
      waiter?.resolve(res);
      this.drop(rid);
    });
    this.port.onDisconnect.addListener(() => this.close());
  }

  send(rid: number, message: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('The message port closed before a response was received.'));
      this.waiting.set(rid, { resolve, reject });
      try {
        this.port.postMessage({ rid, message });
      } catch (e) {
        this.waiting.delete(rid);
        this.close();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Whether the background said it received the request (so it was not lost on the way). */
  received(rid: number): boolean {
    return this.waiting.get(rid)?.acked === true;
  }

  /** Forgets an answer nobody waits for any more (answered, timed out). */
  drop(rid: number): void {
    this.waiting.delete(rid);
    if (this.retired && this.waiting.size === 0) this.close();
  }

  retire(): void {
    this.retired = true;
    if (this.waiting.size === 0) this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    try {
      this.port.disconnect();
    } catch {
      /* already gone */
    }
    this.onClose();
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
    timer = setTimeout(() => reject(new Error(NO_ANSWER)), timeoutMs);
  });
  const sent: PortSend[] = [];
  try {
    const message = { veil: 1, type, req };
    const res = requestPort
      ? await viaPort(requestPort, message, RETRYABLE.has(type) && timeoutMs > 2 * STALL_MS, timeout, sent)
      : await Promise.race([browser.runtime.sendMessage(message), timeout]);
    if (!res || typeof res !== 'object' || !('ok' in res)) throw new Error(NO_ANSWER);
    return { res: res as Res<K> };
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    return {
      res: { ok: false, error: { code: 'unreachable', message: t('errUnreachable', message) } } as Res<K>,
      transportError: message,
    };
  } finally {
    clearTimeout(timer);
    for (const s of sent) s.channel.drop(s.rid);
  }
}

type PortSend = ReturnType<RequestPort['send']>;

/**
 * A request on the content script's port. The background acknowledges each request as it arrives;
 * one that may be asked again and is still unacknowledged after STALL_MS is sent once more down a
 * fresh port (the first may have been lost with a worker that went away without closing the
 * port), and the first successful answer is the one used.
 */
async function viaPort(
  port: RequestPort,
  message: unknown,
  mayAskAgain: boolean,
  timeout: Promise<never>,
  sent: PortSend[],
): Promise<unknown> {
  const first = port.send(message);
  sent.push(first);
  if (!mayAskAgain) return Promise.race([first.answer, timeout]);
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<typeof STALLED>((resolve) => {
    stallTimer = setTimeout(() => resolve(STALLED), STALL_MS);
  });
  try {
    const early = await Promise.race([first.answer, stalled, timeout]);
    if (early !== STALLED) return early;
  } finally {
    clearTimeout(stallTimer);
  }
  // Received and still being worked on: a busy background, not a lost request.
  if (first.channel.received(first.rid)) return Promise.race([first.answer, timeout]);
  port.retire(first.channel);
  const second = port.send(message);
  sent.push(second);
  return Promise.race([firstAnswer([first.answer, second.answer]), timeout]);
}

/**
 * The first successful answer of several; else, once all have come, the first failure answered,
 * and only if none was answered the last transport error.
 */
function firstAnswer(answers: Promise<unknown>[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let left = answers.length;
    let failure: { res: unknown } | undefined;
    const settled = () => --left === 0;
    for (const a of answers)
      a.then(
        (res) => {
          if ((res as { ok?: unknown } | undefined)?.ok === true) return resolve(res);
          failure ??= { res };
          if (settled()) resolve(failure.res);
        },
        (e: unknown) => {
          if (settled()) return failure ? resolve(failure.res) : reject(e);
        },
      );
  });
}
