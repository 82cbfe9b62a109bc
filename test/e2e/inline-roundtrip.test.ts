/**
 * The whole inline path in real Chromium, two browsers = two users, against the fixture
 * chat on 127.0.0.1, with keys provisioned through the options page from a passphrase bundle.
 * Bodies shared with firefox-roundtrip.test.ts live in test/support/roundtrip-cases.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { launchUser, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { bundleText, envelopeFor, makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';
import {
  failsClosedWithoutKey,
  MIXED,
  sendAcrossVeilRestart,
  authorRenamedInsideVeilWrites,
  documentRewritten,
  pageCodeInsideVeilWrites,
  renamedAuthorJudgedAgain,
  sendsAndReads,
  styledUnderStrictCsp,
  vendorMessageRecords as vendorRecords,
} from '../support/roundtrip-cases';
import { composerStatus, importBundle, openChat, shownMessages, typeAndSend, waitForMessage } from '../support/veil-ui';

const PASS = 'correct horse battery staple';

let server: ChatServer;
let alice: User;
let bob: User;
const teamKey = makeKey('Team DMs and #general', {
  site: 'fixture-chat',
  conversations: ['dm-alice-bob', 'ch-general'],
});

const vendorMessageRecords = () => vendorRecords(server);

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await Promise.all([launchUser('alice'), launchUser('bob')]);
  const file = await bundleText([teamKey], PASS);
  for (const u of [alice, bob]) expect((await importBundle(u, file, PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('inline mode, fixture chat', () => {
  let alicePage: Page;
  let bobPage: Page;

  it('alice -> bob: the vendor stores marker + ciphertext + target id only; bob reads the exact text', async () => {
    [alicePage, bobPage] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    expect((await composerStatus(alicePage)).text).toContain(teamKey.label);
    await sendsAndReads(server, alicePage, bobPage, MIXED);
  });

  it('bob replies and alice reads it', async () => {
    const reply = 'שלום! Got it ✅ — see https://example.com/x?a=1';
    await typeAndSend(bobPage, reply);
    const shown = await waitForMessage(
      alicePage,
      (m) => m.from === 'bob' && m.status === 'decrypted',
      'alice to read reply',
    );
    expect(shown.text).toBe(reply);
    expect(leakedSubstrings(vendorMessageRecords(), reply)).toEqual([]);
  });

  it('works the same in the channel, sent with the Send button', async () => {
    const [a, b] = await Promise.all([openChat(alice, server.url, 'general'), openChat(bob, server.url, 'general')]);
    await composerStatus(a);
    const text = 'Channel secret: Q3 numbers are 42 🚀';
    await a.focus('#compose');
    await a.keyboard.sendCharacter(text);
    await a.click('#send');
    expect((await waitForMessage(b, (m) => m.status === 'decrypted', 'channel message')).text).toBe(text);
    const stored = server.inspect().messages.at(-1)!;
    expect(stored).toMatchObject({ to: '#general', conv: 'ch-general' });
    expect(leakedSubstrings(vendorMessageRecords(), text)).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it("page code run inside Veil's own writes renames the message's author: it is judged for the new name", async () => {
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    await authorRenamedInsideVeilWrites(server, a, b);
    await Promise.all([a.close(), b.close()]);
  });

  for (const how of ['text edited', 'node replaced'] as const) {
    it(`page code run inside Veil's own writes edits a decrypted message (${how}): it is read again`, async () => {
      const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
      await Promise.all([composerStatus(a), composerStatus(b)]);
      await pageCodeInsideVeilWrites(server, a, b, how);
      await Promise.all([a.close(), b.close()]);
    });
  }

  for (const how of ['attribute', 'shown name'] as const) {
    it(`the page renames the author of a decrypted message (${how}): it is judged again, no longer shown`, async () => {
      const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
      await Promise.all([composerStatus(a), composerStatus(b)]);
      await renamedAuthorJudgedAgain(server, a, b, how);
      await Promise.all([a.close(), b.close()]);
    });
  }

  it("the page rewrites its document (document.open): Veil's guard is back before it takes a key", async () => {
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    await documentRewritten(server, a, b);
    await Promise.all([a.close(), b.close()]);
  });

  it('drafts: in inline mode the page autosaves what is typed (documented limitation)', async () => {
    const draft = 'unsent draft: the merger is off';
    await alicePage.focus('#compose');
    await alicePage.keyboard.sendCharacter(draft);
    await alicePage.waitForFunction(() => /saved/i.test(document.querySelector('#draft-status')?.textContent ?? ''), {
      timeout: 10_000,
    });
    const drafts = server.inspect().drafts.filter((d) => d.user === 'alice');
    // Exactly what the vendor captured: the plaintext as typed, before any send.
    expect(drafts.at(-1)).toMatchObject({ user: 'alice', conv: 'bob', text: draft });
    await alicePage.$eval('#compose', (el) => {
      (el as HTMLTextAreaElement).select();
    });
    await alicePage.keyboard.press('Backspace');
  });

  it('fails closed without a key: Enter sends nothing, the text stays, alice sees why', async () => {
    const page = await openChat(alice, server.url, 'carol');
    expect((await composerStatus(page)).state).toBe('error');
    await failsClosedWithoutKey(server, page, 'dm-alice-carol');
    await page.close();
  });

  it('shows tampered, unknown-key and plain messages for what they are', async () => {
    // The vendor alters a stored ciphertext...
    await typeAndSend(alicePage, 'original words');
    await waitForMessage(bobPage, (m) => m.text === 'original words', 'message to tamper');
    const target = server.inspect().messages.at(-1)!;
    const chars = [...target.text];
    const i = 30;
    chars[i] = chars[i] === 'a' ? 'b' : 'a';
    await fetch(`${server.url}/api/admin/tamper`, {
      method: 'POST',
      body: JSON.stringify({ id: target.id, text: chars.join('') }),
    });
    // ...injects a message under a key bob does not have, and a plaintext message.
    const foreign = makeKey('Other company', { site: '*', conversations: ['*'] });
    const inject = (text: string) => injectMessage(server, 'alice', 'bob', text);
    await inject(envelopeFor(foreign, 'hidden', { conversationId: 'dm-alice-bob', senderId: 'alice' }));
    await inject('plain hello <i>not html</i>');
    await bobPage.reload();
    const tampered = await waitForMessage(bobPage, (m) => m.id === target.id && m.status !== null, 'tampered status');
    expect(tampered.status).toBe('tampered');
    expect(tampered.badge).toContain('Tampered');
    expect(tampered.text).not.toContain('original');
    const unknown = await waitForMessage(bobPage, (m) => m.status === 'unknown-key', 'unknown key');
    expect(unknown.badge).toContain(`Unknown key ${foreign.id}`);
    expect(unknown.badgeDetail).toContain(`Ask your IT admin for key ${foreign.id}`);
    const plain = (await shownMessages(bobPage)).find((m) => m.text.startsWith('plain hello'))!;
    expect(plain).toMatchObject({ status: null, text: 'plain hello <i>not html</i>' });
    // Everything alice and bob said earlier still decrypts after the reload.
    expect((await shownMessages(bobPage)).filter((m) => m.status === 'decrypted').map((m) => m.text)).toContain(MIXED);
  });

  it('decrypted HTML and script payloads (an XSS corpus) always render as text', async () => {
    const corpus = [
      '<img src=x onerror="window.__xss=1">',
      '<script>window.__xss=2</script>',
      '<svg onload="window.__xss=3">',
      '<iframe src="javascript:window.top.__xss=4"></iframe>',
      '"><b onmouseover=window.__xss=5>x</b>',
      '<a href="javascript:window.__xss=6">click</a>',
      '&lt;b&gt;entities&lt;/b&gt; &amp;',
      '<style>*{display:none}</style>',
      '\u202Eevil RTL override',
      '<details open ontoggle="window.__xss=7">',
    ];
    for (const text of corpus) {
      await injectMessage(
        server,
        'alice',
        'bob',
        envelopeFor(teamKey, text, { conversationId: 'dm-alice-bob', senderId: 'alice' }),
      );
    }
    const page = await openChat(bob, server.url, 'alice');
    for (const text of corpus)
      await waitForMessage(page, (m) => m.text === text && m.status === 'decrypted', `payload ${text}`);
    expect(
      await page.$$(
        '#messages img, #messages script, #messages svg, #messages iframe, #messages style, #messages details, #messages .text b',
      ),
    ).toHaveLength(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.close();
  });

  it("a vendor page whose CSP allows no inline style still shows Veil's badges and status line", async () => {
    const open = async (u: User, peer: string) => {
      const page = await u.newPage();
      await page.goto(`${server.url}/strict.html?user=${u.name}&conv=${peer}`);
      return page;
    };
    const [a, b] = await Promise.all([open(alice, 'bob'), open(bob, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    await styledUnderStrictCsp(server, a, b, 'styled under a strict policy');
    await Promise.all([a.close(), b.close()]);
  });

  it('fails closed when the background cannot be reached (extension reloaded under the page)', async () => {
    const page = await openChat(alice, server.url, 'bob');
    await composerStatus(page);
    const reload = async () => {
      const worker = await alice.worker();
      await worker.evaluate(() => (globalThis as any).chrome.runtime.reload()).catch(() => undefined);
    };
    // Chromium orphans the page's content script: it cannot reach the background any more.
    expect(await sendAcrossVeilRestart(server, page, reload)).toBe('kept');
  });
});
