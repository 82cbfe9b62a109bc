/**
 * The policy in force across service-worker and browser starts: the last applied managed policy
 * (non-secret part) is in force from the first instant, an empty managed storage at start (Chrome
 * delivers policy seconds late) does not undo it, an invalid policy keeps the last valid one, and
 * no key is ever written to storage.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

type Area = Record<string, unknown>;
const store: { local: Area; session: Area; managed: Area } = { local: {}, session: {}, managed: {} };
const changeListeners: ((changes: unknown, area: string) => void)[] = [];
const areaApi = (name: 'local' | 'session' | 'managed') => ({
  get: async (keys: string | string[] | null) => {
    const a = store[name];
    if (keys === null) return structuredClone(a);
    const out: Area = {};
    for (const k of typeof keys === 'string' ? [keys] : keys) if (k in a) out[k] = structuredClone(a[k]);
    return out;
  },
  set: async (items: Area) => void Object.assign(store[name], structuredClone(items)),
  remove: async (k: string) => void delete store[name][k],
});
vi.mock('webextension-polyfill', () => ({
  default: {
    storage: {
      local: areaApi('local'),
      session: areaApi('session'),
      managed: areaApi('managed'),
      onChanged: { addListener: (fn: (c: unknown, a: string) => void) => changeListeners.push(fn) },
    },
  },
}));

const secret = randomBytes(32).toString('base64');
const validPolicy = (host = 'chat.corp.example') => ({
  protectedSites: [{ adapter: 'fixture-chat', matches: [`https://${host}/*`] }],
  keys: [
    {
      id: 'a1b2c3d4',
      secret,
      label: 'Team',
      scope: { site: 'fixture-chat', conversations: ['*'] },
      status: 'active',
      createdAt: 1_700_000_000_000,
    },
  ],
});

/** A fresh service worker: new module state, same storage. */
async function startWorker() {
  vi.resetModules();
  changeListeners.length = 0;
  const source = await import('../../lib/background/policy-source');
  const { siteForUrl } = await import('../../lib/policy/policy');
  const seen: string[][] = [];
  source.onPolicyChange((p) => seen.push(p.protectedSites.flatMap((s) => s.matches)));
  const ready = source.startPolicySource();
  return { source, ready, seen, protects: (url: string) => !!siteForUrl(source.policy(), url) };
}

const changeManaged = async (w: Awaited<ReturnType<typeof startWorker>>, value: Area) => {
  store.managed = value;
  for (const fn of changeListeners) fn({}, 'managed');
  await w.source.policyReady();
};

beforeEach(() => {
  store.local = {};
  store.session = {};
  store.managed = {};
});

describe('policy across starts', () => {
  it('a worker restart never passes through the defaults: the remembered policy is the first one in force', async () => {
    store.managed = validPolicy();
    const first = await startWorker();
    await first.ready;
    expect(first.protects('https://chat.corp.example/room')).toBe(true);
    const second = await startWorker();
    await second.ready;
    // Every policy this worker ever put in force protected the chat.
    expect(second.seen.length).toBeGreaterThan(0);
    for (const matches of second.seen) expect(matches).toContain('https://chat.corp.example/*');
  });

  it('an empty managed storage at browser start keeps the remembered policy (Chrome delivers it late)', async () => {
    store.managed = validPolicy();
    await (
      await startWorker()
    ).ready;
    store.session = {}; // a new browser session
    store.managed = {}; // policy not delivered yet
    const w = await startWorker();
    await w.ready;
    expect(w.protects('https://chat.corp.example/room')).toBe(true);
    expect(w.source.policy().managed).toBe(true);
    // Its keys were never written down: they come back only with the policy itself.
    expect(JSON.stringify(store.local)).not.toContain(secret);
    expect(w.source.policyKeys()).toEqual([]);
    await changeManaged(w, validPolicy());
    expect(w.source.policyKeys().map((k) => k.id)).toEqual(['a1b2c3d4']);
  });

  it('a removal the browser reports while running is applied; only then do the user sites count', async () => {
    store.managed = validPolicy();
    const w = await startWorker();
    await w.ready;
    await changeManaged(w, {});
    expect(w.source.policy().managed).toBe(false);
    expect(w.protects('https://chat.corp.example/room')).toBe(false);
  });

  it('an invalid policy keeps enforcing the last valid one and shows the new problems', async () => {
    store.managed = validPolicy();
    const w = await startWorker();
    await w.ready;
    await changeManaged(w, { protectedSites: [{ adapter: 'fixture-chat', matches: ['https://chat.corp.example'] }] });
    const p = w.source.policy();
    expect(p.errors.length).toBeGreaterThan(0);
    expect(p.fallback).toBe('last-valid');
    expect(w.protects('https://chat.corp.example/room')).toBe(true);
    // Still so after a restart, also with managed storage empty at first.
    store.session = {};
    store.managed = {};
    const again = await startWorker();
    await again.ready;
    expect(again.source.policy().fallback).toBe('last-valid');
    expect(again.protects('https://chat.corp.example/room')).toBe(true);
  });

  it('an invalid policy with no valid one ever seen fails closed on the hosts it names, and is remembered', async () => {
    store.managed = {
      protectedSite: [{ adapter: 'fixture-chat', matches: ['https://chat.corp.example/*'] }],
      mode: 'isolated',
    };
    const w = await startWorker();
    await w.ready;
    expect(w.source.policy().fallback).toBeUndefined();
    expect(w.source.policy().mode).toBe('isolated');
    expect(w.protects('https://chat.corp.example/room')).toBe(true);
    store.session = {};
    store.managed = {};
    const again = await startWorker();
    await again.ready;
    expect(again.protects('https://chat.corp.example/room')).toBe(true);
  });

  it('unmanaged: the user sites are the protected sites, and survive a restart', async () => {
    const w = await startWorker();
    await w.ready;
    expect(w.source.policy().protectedSites).toEqual([]);
    await w.source.setUserSites([{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] }]);
    expect(w.protects('http://127.0.0.1:5000/')).toBe(true);
    const again = await startWorker();
    await again.ready;
    expect(again.protects('http://127.0.0.1:5000/')).toBe(true);
  });
});
