/**
 * The inline round trip in Firefox ESR (bodies shared with inline-roundtrip.test.ts): two Firefox
 * users under policies.json (keys and the protected chat from policy), Chinese, emoji, RTL and HTML
 * arrive exact; no key fails closed; a notification the page shows with an envelope shows a
 * label; an add-on update under an open page sends nothing in the clear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { makeKey } from '../support/keys';
import {
  failsClosedWithoutKey,
  MIXED,
  sendAcrossVeilRestart,
  sendsAndReads,
  authorRenamedInsideVeilWrites,
  documentRewritten,
  pageCodeInsideVeilWrites,
  renamedAuthorJudgedAgain,
  styledUnderStrictCsp,
} from '../support/roundtrip-cases';
import { launchAliceAndBob, openConversation, type ChatUser } from '../support/users';
import { composerStatus, waitForMessage } from '../support/veil-ui';

let server: ChatServer;
let alice: ChatUser;
let bob: ChatUser;
const teamKey = makeKey('Team DMs', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
const chat = (user: ChatUser, conv: string) => openConversation(user, server.url, conv);

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await launchAliceAndBob('firefox', server.url, [teamKey]);
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('inline mode in Firefox ESR', () => {
  it('alice -> bob: Chinese, emoji, RTL and HTML arrive exact; the vendor holds envelopes only', async () => {
    const [a, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    await sendsAndReads(server, a, b, MIXED);
    await Promise.all([a.close(), b.close()]);
  });

  it("a vendor page whose CSP allows no inline style still shows Veil's badges and status line", async () => {
    const open = (u: ChatUser, peer: string) =>
      u.openProtected(`${server.url}/strict.html?user=${u.name}&conv=${peer}`);
    const [a, b] = await Promise.all([open(alice, 'bob'), open(bob, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    await styledUnderStrictCsp(server, a, b, 'styled under a strict policy');
    await Promise.all([a.close(), b.close()]);
  });

  it("page code run inside Veil's own writes renames the message's author: it is judged for the new name", async () => {
    const [a, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    await authorRenamedInsideVeilWrites(server, a, b);
    await Promise.all([a.close(), b.close()]);
  });

  for (const how of ['text edited', 'node replaced'] as const) {
    it(`page code run inside Veil's own writes edits a decrypted message (${how}): it is read again`, async () => {
      const [a, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
      await Promise.all([composerStatus(a), composerStatus(b)]);
      await pageCodeInsideVeilWrites(server, a, b, how);
      await Promise.all([a.close(), b.close()]);
    });
  }

  it("the page rewrites its document (document.open): Veil's guard is back before it takes a key", async () => {
    const [a, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    await documentRewritten(server, a, b);
    await Promise.all([a.close(), b.close()]);
  });

  for (const how of ['attribute', 'shown name'] as const) {
    it(`the page renames the author of a decrypted message (${how}): it is judged again, no longer shown`, async () => {
      const [a, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
      await Promise.all([composerStatus(a), composerStatus(b)]);
      await renamedAuthorJudgedAgain(server, a, b, how);
      await Promise.all([a.close(), b.close()]);
    });
  }

  it('fails closed without a key: nothing sent, the text stays, alice sees why', async () => {
    const page = await chat(alice, 'carol');
    await composerStatus(page);
    await failsClosedWithoutKey(server, page, 'dm-alice-carol');
    await page.close();
  });

  it("a desktop notification the page shows with a stored envelope shows Veil's label instead", async () => {
    const page = await chat(bob, 'alice');
    await composerStatus(page);
    const stored = server.inspect().messages.find((m) => m.conv === 'dm-alice-bob')!.text;
    // The page's own Notification, called in the page's own world, as a chat does for a new message.
    const shown = await page.evaluate((text) => {
      const n = new Notification('alice', { body: text });
      return { title: n.title, body: n.body };
    }, stored);
    expect(stored).toMatch(/^VEIL1/);
    expect(shown).toEqual({ title: 'alice', body: '🔒 Encrypted message' });
    await page.close();
  });

  it('Veil updated under an open page: the next send goes out encrypted once, never in the clear', async () => {
    const [page, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
    await composerStatus(page);
    // Firefox (unlike Chromium, which orphans the page's content script) keeps the page working
    // with the updated add-on; either outcome would be safe, this one is what Firefox ESR does.
    expect(await sendAcrossVeilRestart(server, page, () => alice.restartExtension())).toBe('sent encrypted');
    expect(
      (await waitForMessage(b, (m) => m.text === 'sent while Veil was away', 'bob reads it after the update')).status,
    ).toBe('decrypted');
    await b.close();
    await page.close();
  });
});
