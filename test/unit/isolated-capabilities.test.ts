/**
 * Isolated mode's capability tokens and mode decision, without a browser: the rules that
 * keep a secure frame from being a decrypt-anything oracle.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));

const { CapabilityRegistry } = await import('../../lib/background/isolated/capabilities');
const { decideMode } = await import('../../lib/policy/site-mode');
const { cleanTheme, isTokenHandOver } = await import('../../lib/messaging/frame-types');
const { checkIndicator } = await import('../../lib/messaging/indicator');

const host = { tabId: 7, frameId: 0, documentId: 'doc-page', url: 'http://127.0.0.1/' };
const frame = { tabId: 7, frameId: 3, documentId: 'doc-frame', url: 'chrome-extension://x/secure-reader.html' };
const reader = { conversationId: 'dm-a-b', author: 'alice', texts: ['VEIL1abc0'] };

function registry(now = { t: 1_000 }) {
  return {
    reg: new CapabilityRegistry(
      () => undefined,
      () => now.t,
    ),
    now,
  };
}

describe('capability tokens', () => {
  it('bind to the first frame that redeems them, in the tab they were made for', async () => {
    const { reg } = registry();
    const token = await reg.mint(host, { kind: 'reader', handle: 'r0', theme: {}, reader });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await reg.redeem(token, { ...frame, tabId: 8 })).toBeUndefined(); // another tab
    expect(await reg.redeem(token, { ...frame, frameId: 0 })).toBeUndefined(); // the page's own frame
    expect((await reg.redeem(token, frame))?.reader).toEqual(reader);
    expect(await reg.redeem(token, { ...frame, frameId: 4 })).toBeUndefined(); // a second frame
    expect(await reg.redeem(token, { ...frame, documentId: 'reloaded' })).toBeUndefined(); // same frame, new document
    expect(await reg.forFrame(token, frame, 'reader')).toBeDefined();
    expect(await reg.forFrame(token, frame, 'composer')).toBeUndefined(); // a reader cannot send
    expect(await reg.forFrame(token, { ...frame, frameId: 4 })).toBeUndefined();
  });

  it("refuse unknown and expired tokens, and forget a tab's tokens when its page changes", async () => {
    const { reg, now } = registry();
    expect(await reg.redeem('A'.repeat(43), frame)).toBeUndefined();
    const old = await reg.mint(host, { kind: 'composer', handle: 'c0', theme: {} });
    now.t += 3 * 60_000;
    expect(await reg.redeem(old, frame)).toBeUndefined(); // never redeemed in time
    const t1 = await reg.mint(host, { kind: 'composer', handle: 'c1', theme: {} });
    await reg.mint({ ...host, documentId: 'next-page' }, { kind: 'composer', handle: 'c2', theme: {} });
    expect(await reg.redeem(t1, frame)).toBeUndefined(); // the page that asked for it is gone
  });

  it('flag a message shown again under another host id as a replay', () => {
    const { reg } = registry();
    expect(reg.replayed(7, 'mid', 'm1')).toBe(false);
    expect(reg.replayed(7, 'mid', 'm1')).toBe(false);
    expect(reg.replayed(7, 'mid', 'spy-1')).toBe(true);
    expect(reg.replayed(8, 'mid', 'spy-1')).toBe(false);
  });
});

describe('mode, indicator, theme and hand-over checks', () => {
  const site = { adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] };
  it('policy isolation wins; a user may only make a site stricter', () => {
    expect(decideMode({ mode: 'isolated' }, site, {})).toEqual({ mode: 'isolated', enforced: true });
    expect(decideMode({ mode: 'inline' }, site, { 'fixture-chat': 'isolated' })).toEqual({
      mode: 'isolated',
      enforced: false,
    });
    expect(decideMode({ mode: 'inline' }, site, {})).toEqual({ mode: 'inline', enforced: false });
  });

  it('accepts only sane indicators, inert theme values and exact token hand-overs', () => {
    expect(checkIndicator({ symbol: '🦉', phrase: 'amber owl', color: '#7A3EA8' })).toEqual({
      symbol: '🦉',
      phrase: 'amber owl',
      color: '#7a3ea8',
    });
    expect(typeof checkIndicator({ symbol: '', phrase: 'x', color: '#000000' })).toBe('string');
    expect(typeof checkIndicator({ symbol: '🦉', phrase: 'x', color: 'red;background:url(x)' })).toBe('string');
    expect(
      cleanTheme({
        color: 'rgb(1, 2, 3)',
        background: 'url(https://evil/)',
        fontFamily: 'a; b',
        border: '1px solid red',
      }),
    ).toEqual({ color: 'rgb(1, 2, 3)', border: '1px solid red' });
    expect(isTokenHandOver({ veilFrameToken: 'A'.repeat(43) })).toBe(true);
    expect(isTokenHandOver({ veilFrameToken: 'A'.repeat(43), extra: 1 })).toBe(false);
    expect(isTokenHandOver({ veilFrameToken: 'short' })).toBe(false);
    expect(isTokenHandOver('getText')).toBe(false);
  });
});
