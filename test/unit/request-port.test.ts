/**
 * The content script's request port (lib/messaging/client.ts) against a background that loses a
 * request without closing the port, as a worker being replaced can: a request that may be asked
 * again goes down a fresh port instead of ending in "background unreachable". A background that
 * acknowledged the request and is only slow is waited for, not asked twice.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

interface FakePort {
  name: string;
  posted: { rid: number; message: { type: string } }[];
  disconnected: boolean;
  answer(rid: number, res: unknown): void;
  fireDisconnect(): void;
  onMessage: { addListener(fn: (m: unknown) => void): void };
  onDisconnect: { addListener(fn: () => void): void };
  postMessage(m: unknown): void;
  disconnect(): void;
}

/**
 * What each newly connected port does with a request: acknowledge and answer it at once,
 * acknowledge it only (a busy background), or lose it (no acknowledgement, no answer).
 */
type Mode = 'answer' | 'busy' | 'swallow';
let behaviour: Mode[] = [];
const ports: FakePort[] = [];

function fakePort(mode: Mode): FakePort {
  const onMessage: ((m: unknown) => void)[] = [];
  const onDisconnect: (() => void)[] = [];
  const port: FakePort = {
    name: 'veil-requests',
    posted: [],
    disconnected: false,
    answer: (rid, res) => onMessage.forEach((fn) => fn({ rid, res })),
    fireDisconnect: () => onDisconnect.forEach((fn) => fn()),
    onMessage: { addListener: (fn) => void onMessage.push(fn) },
    onDisconnect: { addListener: (fn) => void onDisconnect.push(fn) },
    postMessage(m) {
      const sent = m as { rid: number; message: { type: string } };
      port.posted.push(sent);
      if (mode === 'swallow') return;
      queueMicrotask(() => onMessage.forEach((fn) => fn({ rid: sent.rid, ack: 1 })));
      if (mode === 'answer') queueMicrotask(() => port.answer(sent.rid, { ok: true, port: ports.indexOf(port) }));
    },
    disconnect() {
      port.disconnected = true;
    },
  };
  return port;
}

vi.mock('webextension-polyfill', () => ({
  default: {
    runtime: {
      connect: () => {
        const port = fakePort(behaviour.shift() ?? 'answer');
        ports.push(port);
        return port;
      },
      sendMessage: () => Promise.reject(new Error('not used in a content script')),
    },
  },
}));

// A content script runs in the page's origin (the client picks its port there).
(globalThis as { location?: unknown }).location = { protocol: 'https:' };
let request: (typeof import('../../lib/messaging/client'))['request'];

beforeEach(async () => {
  // A fresh content script each time: no port left open by the test before.
  vi.resetModules();
  ({ request } = await import('../../lib/messaging/client'));
  vi.useFakeTimers();
  ports.length = 0;
});
afterEach(() => vi.useRealTimers());

describe('request port', () => {
  it('a request lost on a port that stays open is asked again down a fresh port, and answered', async () => {
    behaviour = ['swallow', 'answer'];
    const pending = request('encrypt', { conversationId: 'c', senderId: 'a', text: 'hi' } as never);
    await vi.advanceTimersByTimeAsync(15_000);
    const res = await pending;
    expect(res).toEqual({ ok: true, port: 1 });
    expect(ports.map((p) => p.posted.length)).toEqual([1, 1]);
    // The quiet port owes nothing any more: closed. The fresh one stays for the next request.
    expect(ports.map((p) => p.disconnected)).toEqual([true, false]);
    const next = request('site/status', {} as never);
    await vi.advanceTimersByTimeAsync(0);
    expect(await next).toEqual({ ok: true, port: 1 });
    expect(ports).toHaveLength(2);
  });

  it('an answer that comes late on the first port is used when it arrives first', async () => {
    behaviour = ['swallow', 'swallow'];
    const pending = request('decrypt', { conversationId: 'c', items: [] } as never);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ports).toHaveLength(2);
    ports[0]!.answer(ports[0]!.posted[0]!.rid, { ok: true, late: true });
    expect(await pending).toEqual({ ok: true, late: true });
    expect(ports.map((p) => p.disconnected)).toEqual([true, false]);
  });

  it('a request that must not be asked twice is sent once, and fails closed when unanswered', async () => {
    behaviour = ['swallow'];
    const pending = request('file/abort', { sid: 's' } as never);
    await vi.advanceTimersByTimeAsync(15_000);
    const res = await pending;
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error.code).toBe('unreachable');
    expect(ports.map((p) => p.posted.length)).toEqual([1]);
  });

  it('the quiet port keeps the answers it still owes to other requests', async () => {
    behaviour = ['swallow', 'answer'];
    const other = request('file/abort', { sid: 's' } as never);
    const asked = request('encrypt', { conversationId: 'c', senderId: 'a', text: 'hi' } as never);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await asked).toEqual({ ok: true, port: 1 });
    expect(ports[0]!.disconnected).toBe(false);
    ports[0]!.answer(ports[0]!.posted[0]!.rid, { ok: true, other: true });
    expect(await other).toEqual({ ok: true, other: true });
    expect(ports[0]!.disconnected).toBe(true);
  });

  it('a background that received the request and is busy is waited for, not asked twice', async () => {
    behaviour = ['busy'];
    const pending = request('decrypt', { conversationId: 'c', items: [] } as never);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ports).toHaveLength(1);
    ports[0]!.answer(ports[0]!.posted[0]!.rid, { ok: true, slow: true });
    expect(await pending).toEqual({ ok: true, slow: true });
    expect(ports.map((p) => p.posted.length)).toEqual([1]);
  });

  it('a failure from the quiet port does not win over a success from the fresh one', async () => {
    behaviour = ['swallow', 'swallow'];
    const pending = request('encrypt', { conversationId: 'c', senderId: 'a', text: 'hi' } as never);
    await vi.advanceTimersByTimeAsync(5_000);
    ports[0]!.answer(ports[0]!.posted[0]!.rid, { ok: false, error: { code: 'internal', message: 'x' } });
    ports[1]!.answer(ports[1]!.posted[0]!.rid, { ok: true, fresh: true });
    expect(await pending).toEqual({ ok: true, fresh: true });
  });

  it('the quiet port closing after the re-ask does not fail the request', async () => {
    behaviour = ['swallow', 'swallow'];
    const pending = request('decrypt', { conversationId: 'c', items: [] } as never);
    await vi.advanceTimersByTimeAsync(5_000);
    ports[0]!.fireDisconnect();
    ports[1]!.answer(ports[1]!.posted[0]!.rid, { ok: true, second: true });
    expect(await pending).toEqual({ ok: true, second: true });
  });

  it('both ports closing: the request is retried on a third, as a closed port always was', async () => {
    behaviour = ['swallow', 'swallow', 'answer'];
    const pending = request('encrypt', { conversationId: 'c', senderId: 'a', text: 'hi' } as never);
    await vi.advanceTimersByTimeAsync(5_000);
    ports[0]!.fireDisconnect();
    ports[1]!.fireDisconnect();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await pending).toEqual({ ok: true, port: 2 });
  });
});
