/**
 * The mode in force for a protected site: isolated when the policy-wide mode, the site's
 * own policy entry (`protectedSites[].mode`) or the user's switch says so; the user can never make
 * a site the policy isolates inline. The pure rule (lib/isolated/mode.ts) and the background's use
 * of it (lib/isolated/background/site-mode.ts, with the policy and the stored choice mocked).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Policy, ProtectedSite } from '../../lib/policy/policy';

const state = vi.hoisted(() => ({
  policy: { mode: 'inline' } as Pick<Policy, 'mode' | 'protectedSites'>,
  userModes: {} as Record<string, string>,
  reads: 0,
  broken: false,
}));
vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));
vi.mock('../../lib/background/policy-source', () => ({ policy: () => state.policy }));
vi.mock('../../lib/background/isolated/settings', () => ({
  isolatedSettings: {
    get: async () => {
      state.reads++;
      if (state.broken) throw new Error('IndexedDB unavailable');
      return { indicator: undefined, siteModes: state.userModes };
    },
  },
}));

const { decideMode, policyIsolates } = await import('../../lib/policy/site-mode');
const { modeDecision, modeFor } = await import('../../lib/background/isolated/site-mode');

const site = (mode?: 'inline' | 'isolated'): ProtectedSite => ({
  adapter: 'fixture-chat',
  matches: ['http://127.0.0.1/*'],
  ...(mode ? { mode } : {}),
});
const custom = (mode?: 'inline' | 'isolated'): ProtectedSite => ({
  ...site(mode),
  adapter: 'custom',
  custom: { name: 'Acme' } as ProtectedSite['custom'],
});

describe('decideMode: global policy, site policy and user', () => {
  const ISO = { mode: 'isolated', enforced: true };
  const USER_ISO = { mode: 'isolated', enforced: false };
  const INLINE = { mode: 'inline', enforced: false };
  it.each([
    // global     site         user         result
    ['inline', undefined, undefined, INLINE],
    ['inline', 'inline', undefined, INLINE],
    ['inline', undefined, 'isolated', USER_ISO],
    ['inline', 'inline', 'isolated', USER_ISO],
    ['inline', 'isolated', undefined, ISO],
    ['inline', 'isolated', 'inline', ISO], // a user's inline never loosens the site's policy
    ['inline', 'isolated', 'isolated', ISO], // policy decides (locked), not the user
    ['isolated', undefined, undefined, ISO],
    ['isolated', 'inline', undefined, ISO], // a per-site inline never loosens the global policy
    ['isolated', 'inline', 'inline', ISO],
    ['isolated', 'isolated', 'isolated', ISO],
  ] as const)('global %s, site %s, user %s', (global, siteMode, user, want) => {
    const userModes: Record<string, 'inline' | 'isolated'> = user ? { 'fixture-chat': user } : {};
    expect(decideMode({ mode: global }, site(siteMode), userModes)).toEqual(want);
    expect(policyIsolates({ mode: global }, site(siteMode))).toBe(want.enforced);
  });

  it('the user choice is per site key; an unknown or absent site follows the global mode only', () => {
    expect(decideMode({ mode: 'inline' }, site(), { 'custom:Acme': 'isolated' })).toEqual({
      mode: 'inline',
      enforced: false,
    });
    expect(decideMode({ mode: 'inline' }, custom(), { 'custom:Acme': 'isolated' })).toEqual({
      mode: 'isolated',
      enforced: false,
    });
    expect(decideMode({ mode: 'inline' }, custom('isolated'), {})).toEqual({ mode: 'isolated', enforced: true });
    expect(decideMode({ mode: 'inline' }, undefined, { 'fixture-chat': 'isolated' })).toEqual({
      mode: 'inline',
      enforced: false,
    });
    expect(decideMode({ mode: 'isolated' }, undefined, {})).toEqual({ mode: 'isolated', enforced: true });
  });
});

describe('the background decision (policy in force + stored user choice)', () => {
  beforeEach(() => {
    state.policy = { mode: 'inline', protectedSites: [] };
    state.userModes = {};
    state.reads = 0;
    state.broken = false;
  });

  it('a site the policy isolates is isolated and locked, without reading the user choice', async () => {
    state.userModes = { 'fixture-chat': 'inline' };
    expect(await modeDecision(site('isolated'))).toEqual({ mode: 'isolated', enforced: true });
    expect(state.reads).toBe(0);
    state.policy = { mode: 'isolated', protectedSites: [] };
    expect(await modeFor(site('inline'))).toBe('isolated');
    expect(state.reads).toBe(0);
  });

  it('otherwise the user choice decides; an unreadable choice counts as isolated', async () => {
    expect(await modeDecision(site())).toEqual({ mode: 'inline', enforced: false });
    state.userModes = { 'fixture-chat': 'isolated' };
    expect(await modeDecision(site('inline'))).toEqual({ mode: 'isolated', enforced: false });
    state.broken = true;
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await modeDecision(site())).toEqual({ mode: 'isolated', enforced: false });
  });
});
