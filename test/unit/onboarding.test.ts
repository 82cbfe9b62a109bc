/**
 * First run: an unmanaged install opens the welcome page once; a managed install (whose
 * policy may arrive seconds after start-up) and updates open nothing.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const listeners: ((d: { reason: string }) => void)[] = [];
const created: string[] = [];
vi.mock('webextension-polyfill', () => ({
  default: {
    runtime: {
      onInstalled: { addListener: (fn: (d: { reason: string }) => void) => listeners.push(fn) },
      getURL: (p: string) => `chrome-extension://veil${p}`,
    },
    tabs: { create: async ({ url }: { url: string }) => void created.push(url) },
  },
}));

const { installOnboarding } = await import('../../lib/background/onboarding');
const { setPolicy } = await import('../../lib/background/policy-source');
const { DEFAULT_POLICY } = await import('../../lib/policy/policy');

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  listeners.length = 0;
  created.length = 0;
  setPolicy(DEFAULT_POLICY);
});

describe('first run', () => {
  it('an unmanaged install opens the welcome page after the policy grace period', async () => {
    installOnboarding(30);
    listeners.forEach((fn) => fn({ reason: 'install' }));
    await settle(5);
    expect(created).toEqual([]); // still waiting: enterprise policy can arrive late
    await settle(60);
    expect(created).toEqual(['chrome-extension://veil/welcome.html']);
  });

  it('a managed install opens nothing, also when its policy arrives during the grace period', async () => {
    installOnboarding(50);
    listeners.forEach((fn) => fn({ reason: 'install' }));
    await settle(10);
    setPolicy({ ...DEFAULT_POLICY, managed: true });
    await settle(80);
    expect(created).toEqual([]);
  });

  it('updates and browser updates open nothing', async () => {
    installOnboarding(10);
    listeners.forEach((fn) => fn({ reason: 'update' }));
    listeners.forEach((fn) => fn({ reason: 'browser_update' }));
    await settle(40);
    expect(created).toEqual([]);
  });
});
