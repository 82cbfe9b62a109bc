/**
 * The background router decides who is asking from the browser's MessageSender (which a page
 * cannot forge), then refuses every request its caller may not make, before any handler runs.
 * Each case here is a message an attacker can actually send: the vendor's page through the content
 * script it shares a tab with, a page framing Veil's secure frame, another extension, a web page
 * using externally_connectable-style messaging.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Runtime } from 'webextension-polyfill';

const EXT = 'chrome-extension://veilveilveilveilveilveilveilveil/';
vi.mock('webextension-polyfill', () => ({
  default: {
    runtime: { id: 'veilveilveilveilveilveilveilveil', getURL: (p: string) => `${EXT}${p.replace(/^\//, '')}` },
  },
}));

/** Every handler records that it ran: a refusal must come before any of them. */
const ran: { type: string; site?: string; frame?: unknown }[] = [];
vi.mock('../../lib/background/handlers/index', () => {
  class RequestError extends Error {}
  const handlers = new Proxy(
    {},
    {
      get: (_t, type: string) => async (_req: unknown, ctx: { site?: { adapter: string }; frame?: unknown }) => {
        ran.push({ type, site: ctx.site?.adapter, frame: ctx.frame });
        return { ok: true };
      },
    },
  );
  return { handlers, RequestError };
});

const { route } = await import('../../lib/background/router');
const { setPolicy } = await import('../../lib/background/policy-source');
const { CALLERS } = await import('../../lib/messaging/protocol');
const { DEFAULT_POLICY } = await import('../../lib/policy/policy');

const PROTECTED = 'http://127.0.0.1:8080/chat';
const OTHER_SITE = 'https://evil.example/';
const keyring = {} as Parameters<typeof route>[2];
const msg = (type: string, req: object = {}) => ({ veil: 1, type, req });

const content = (url = PROTECTED): Runtime.MessageSender => ({
  id: 'veilveilveilveilveilveilveilveil',
  url,
  tab: { id: 7, url, index: 0, highlighted: false, active: true, pinned: false, incognito: false },
  frameId: 0,
});
const optionsPage: Runtime.MessageSender = { id: 'veilveilveilveilveilveilveilveil', url: `${EXT}options.html` };
const secureFrame = (tabUrl = PROTECTED, frameId = 3): Runtime.MessageSender => ({
  ...content(tabUrl),
  url: `${EXT}secure-composer.html`,
  frameId,
});

const forbidden = { ok: false, error: { code: 'forbidden' } };
const notProtected = { ok: false, error: { code: 'not-protected' } };

beforeEach(() => {
  ran.length = 0;
  setPolicy({ ...DEFAULT_POLICY, protectedSites: [{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] }] });
});

describe('the router accepts each caller for its own requests', () => {
  it('content script on a protected site, extension page, secure frame in a protected tab', async () => {
    expect(await route(msg('encrypt'), content(), keyring)).toEqual({ ok: true });
    expect(await route(msg('keys/export'), optionsPage, keyring)).toEqual({ ok: true });
    expect(await route(msg('secure/send'), secureFrame(), keyring)).toEqual({ ok: true });
    expect(ran.map((r) => [r.type, r.site])).toEqual([
      ['encrypt', 'fixture-chat'],
      ['keys/export', undefined],
      ['secure/send', 'fixture-chat'],
    ]);
    // The frame's identity comes from the sender, for capability tokens bound to one frame.
    expect(ran[2]!.frame).toMatchObject({ tabId: 7, frameId: 3, tabUrl: PROTECTED });
  });
});

describe('the router refuses the wrong caller before any handler runs', () => {
  const extensionPageTypes = Object.entries(CALLERS)
    .filter(([, c]) => c === 'extension-page')
    .map(([t]) => t);
  const contentTypes = Object.entries(CALLERS)
    .filter(([, c]) => c === 'content')
    .map(([t]) => t);

  it('knows every type the protocol declares', () => {
    expect(extensionPageTypes).toContain('keys/export');
    // The local search index answers Veil's own pages only: never the vendor's page.
    expect(extensionPageTypes).toEqual(expect.arrayContaining(['search/query', 'search/open', 'search/clear']));
    expect(contentTypes).toContain('decrypt');
  });

  it.each(extensionPageTypes)('a content script (the vendor page driving it) asking for %s', async (type) => {
    expect(await route(msg(type), content(), keyring)).toMatchObject(forbidden);
    expect(ran).toEqual([]);
  });

  it.each(['encrypt', 'decrypt', 'keys/list', 'keys/export', 'policy/get', 'search/query'])(
    'a secure frame (an extension page inside an untrusted tab) asking for %s',
    async (type) => {
      expect(await route(msg(type), secureFrame(), keyring)).toMatchObject(forbidden);
      expect(ran).toEqual([]);
    },
  );

  it('a secure frame in a tab that is not a protected site', async () => {
    expect(await route(msg('secure/send'), secureFrame(OTHER_SITE), keyring)).toMatchObject(notProtected);
    expect(ran).toEqual([]);
  });

  it('a secure frame loaded as a top-level page or outside a tab (not where Veil places it)', async () => {
    expect(await route(msg('secure/redeem'), secureFrame(PROTECTED, 0), keyring)).toMatchObject(forbidden);
    const { tab: _tab, ...noTab } = secureFrame();
    expect(await route(msg('secure/redeem'), noTab, keyring)).toMatchObject(forbidden);
    expect(ran).toEqual([]);
  });

  it.each([...contentTypes, 'secure/send'])('an extension page asking for %s', async (type) => {
    expect(await route(msg(type), optionsPage, keyring)).toMatchObject(forbidden);
    expect(ran).toEqual([]);
  });

  it('a content script on a site Veil does not protect gets nothing but its site status', async () => {
    expect(await route(msg('decrypt'), content(OTHER_SITE), keyring)).toMatchObject(notProtected);
    expect(await route(msg('encrypt'), content(OTHER_SITE), keyring)).toMatchObject(notProtected);
    expect(ran).toEqual([]);
    expect(await route(msg('site/status'), content(OTHER_SITE), keyring)).toEqual({ ok: true });
  });

  it.each([
    ['another extension content script', { ...content(), id: 'otherextensionotherextensionoth' }],
    ['another extension page', { id: 'otherextensionotherextensionoth', url: 'chrome-extension://other/options.html' }],
    ['another extension claiming our page URL', { ...optionsPage, id: 'otherextensionotherextensionoth' }],
    ['a web page (no extension id)', { url: PROTECTED, tab: content().tab }],
    ['a sender without URL', { id: 'veilveilveilveilveilveilveilveil', tab: content().tab }],
    ['a page of ours outside a tab with a web URL (not an extension page)', { ...optionsPage, url: PROTECTED }],
  ] as [string, Runtime.MessageSender][])('%s', async (_name, sender) => {
    for (const type of ['encrypt', 'decrypt', 'keys/export', 'keys/list', 'secure/send']) {
      expect(await route(msg(type), sender, keyring)).toMatchObject(forbidden);
    }
    expect(ran).toEqual([]);
  });

  it.each(['about:blank', 'data:text/html,<p>hi', 'blob:null/1b2c'])(
    'a frame of a protected tab whose URL has no web origin (%s) is no extension page',
    async (url) => {
      const sender = { ...content(), url };
      expect(await route(msg('keys/export'), sender, keyring)).toMatchObject(forbidden);
      expect(ran).toEqual([]);
    },
  );

  it('a URL that only starts like the extension origin in a web tab is a content script', async () => {
    // chrome-extension://<id>.evil.example/ is not our origin; the tab makes it a content caller.
    const sender = content(`${EXT.slice(0, -1)}.evil.example/options.html`);
    expect(await route(msg('keys/export'), sender, keyring)).toMatchObject(forbidden);
    expect(ran).toEqual([]);
  });

  it.each([
    ['no envelope', { type: 'encrypt', req: {} }],
    ['an unknown type', msg('keys/dump')],
    ['a prototype key as type', msg('toString')],
    ['no request object', { veil: 1, type: 'encrypt' }],
    ['null', null],
  ])('a malformed request: %s', async (_name, m) => {
    expect(await route(m, optionsPage, keyring)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(ran).toEqual([]);
  });
});
