/**
 * Which protected site a URL belongs to when several entries match (the most specific wins, an
 * isolated entry wins a tie), and the user's own protected chats on unmanaged installs.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy, type ProtectedSite, siteForUrl } from '../../lib/policy/policy';
import { addUserSite, checkUserSite, removeUserSite, validUserSites } from '../../lib/policy/user-sites';

const withSites = (protectedSites: ProtectedSite[]): Policy => ({ ...DEFAULT_POLICY, managed: true, protectedSites });

describe('siteForUrl: the most specific entry wins', () => {
  it('a narrower path entry listed after a broader one still decides (its isolation is not shadowed)', () => {
    const p = withSites([
      { adapter: 'fixture-chat', matches: ['https://chat.example.com/*'] },
      { adapter: 'fixture-chat', matches: ['https://chat.example.com/exec/*'], mode: 'isolated' },
    ]);
    expect(siteForUrl(p, 'https://chat.example.com/exec/room')?.mode).toBe('isolated');
    expect(siteForUrl(p, 'https://chat.example.com/sales/room')?.mode).toBeUndefined();
    // Order does not matter.
    const reversed = withSites([...p.protectedSites].reverse());
    expect(siteForUrl(reversed, 'https://chat.example.com/exec/room')?.mode).toBe('isolated');
  });

  it('an exact host beats a wildcard host, a named port beats any port, a named scheme beats *', () => {
    const p = withSites([
      { adapter: 'a', matches: ['*://*/*'] },
      { adapter: 'b', matches: ['https://*.example.com/*'] },
      { adapter: 'c', matches: ['https://chat.example.com/*'] },
      { adapter: 'd', matches: ['https://chat.example.com:8443/*'] },
      { adapter: 'e', matches: ['*://chat.other.com/*'] },
      { adapter: 'f', matches: ['http://chat.other.com/*'] },
    ]);
    expect(siteForUrl(p, 'https://x.example.com/')?.adapter).toBe('b');
    expect(siteForUrl(p, 'https://chat.example.com/')?.adapter).toBe('c');
    expect(siteForUrl(p, 'https://chat.example.com:8443/')?.adapter).toBe('d');
    expect(siteForUrl(p, 'http://chat.other.com/')?.adapter).toBe('f');
    expect(siteForUrl(p, 'https://chat.other.com/')?.adapter).toBe('e');
    expect(siteForUrl(p, 'https://unrelated.test/')?.adapter).toBe('a');
  });

  it('on a tie the isolated entry wins', () => {
    const p = withSites([
      { adapter: 'fixture-chat', matches: ['https://chat.example.com/*'] },
      { adapter: 'fixture-chat', matches: ['https://chat.example.com/*'], mode: 'isolated' },
    ]);
    expect(siteForUrl(p, 'https://chat.example.com/x')?.mode).toBe('isolated');
  });
});

describe("the user's protected chats", () => {
  it('accepts a built-in chat with an address or a match pattern; a bare origin gets every path', () => {
    expect(checkUserSite('fixture-chat', 'http://127.0.0.1/*')).toEqual({
      ok: true,
      site: { adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] },
    });
    expect(checkUserSite('thelounge', ' https://irc.corp.example ')).toEqual({
      ok: true,
      site: { adapter: 'thelounge', matches: ['https://irc.corp.example/*'] },
    });
  });

  it('refuses unknown adapters, non-patterns and patterns naming every host', () => {
    expect(checkUserSite('custom', 'https://a.example/*')).toMatchObject({ ok: false, reason: 'adapter' });
    expect(checkUserSite('toString', 'https://a.example/*')).toMatchObject({ ok: false, reason: 'adapter' });
    expect(checkUserSite('fixture-chat', 'chat dot example')).toMatchObject({ ok: false, reason: 'pattern' });
    expect(checkUserSite('fixture-chat', 'file:///tmp/*')).toMatchObject({ ok: false, reason: 'pattern' });
    for (const broad of ['<all_urls>', '*://*/*', 'https://*/*', 'http://*:8080/*'])
      expect(checkUserSite('fixture-chat', broad), broad).toMatchObject({ ok: false, reason: 'broad' });
  });

  it('adds once, removes exactly, and re-checks what storage returns', () => {
    const a = { adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] };
    const b = { adapter: 'thelounge', matches: ['https://irc.example/*'] };
    expect(addUserSite(addUserSite([a], a), b)).toEqual([a, b]);
    expect(removeUserSite([a, b], 'fixture-chat', 'http://127.0.0.1/*')).toEqual([b]);
    expect(validUserSites([a, { adapter: 'fixture-chat', matches: ['<all_urls>'] }, null, 'x'])).toEqual([a]);
    expect(validUserSites({})).toEqual([]);
  });
});
