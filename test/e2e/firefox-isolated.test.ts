/**
 * Isolated mode in Firefox ESR against the hostile fixture chat (bodies shared with
 * isolated.test.ts): policy sets isolated mode; typing with Shift+Enter lines reaches bob's reader
 * frames exactly; keys typed at once after load, with the chat's box focused, are neither lost nor
 * seen by the page; the page learns no plaintext substring; files attached in Veil's composer reach
 * the vendor sealed and bob's reader opens them; a screenful of history shares one reader frame.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import {
  firstKeystrokesAfterLoad,
  openHostile,
  pageLearnedNothing,
  rewrittenDocumentClosesComposer,
  typeInIsolated,
} from '../support/isolated-cases';
import { filesInIsolated } from '../support/isolated-files-cases';
import { screenfulInOneFrame } from '../support/reader-range-cases';
import { makeKey } from '../support/keys';
import { launchAliceAndBob, type ChatUser } from '../support/users';

const key = makeKey('Team isolated', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
const TYPED = 'Quokka fjarbo 4.2M vexquil';
const LINES = ['Qwixel zephod', 'Brimzo quaffle'];

let server: ChatServer;
let alice: ChatUser;
let bob: ChatUser;

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await launchAliceAndBob('firefox', server.url, [key], { mode: 'isolated' });
  // Policy reaches Veil a moment after start: wait until it protects the chat.
  await Promise.all([alice, bob].map(async (u) => (await u.openProtected(`${server.url}/?user=x&conv=y`)).close()));
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('isolated mode in Firefox ESR against a hostile chat page', () => {
  let a: Page;
  let b: Page;
  const since = { spy: 0, requests: 0 };

  it('typed keys and Shift+Enter lines reach bob exactly; the chat box holds nothing', async () => {
    since.spy = server.inspect().spy.length;
    since.requests = server.inspect().requests.length;
    // No window.find probes on alice's page: in Firefox they move the focus away from Veil's
    // composer (a theft, whose keys Veil swallows: isolated.test.ts); bob's page, reading, probes.
    [a, b] = await Promise.all([openHostile(alice, server, 'bob', ''), openHostile(bob, server, 'alice')]);
    await typeInIsolated(server, a, b, [TYPED]);
    await typeInIsolated(server, a, b, LINES);
  });

  it('the hostile page learned no plaintext substring of them', async () => {
    await pageLearnedNothing(server, since, [TYPED, ...LINES], [a, b], 3);
  });

  it('files: attached in the secure composer and sealed before the page gets them; bob reads names and image', async () => {
    await filesInIsolated(server, a, b);
  });

  it("typing at once after load, into the chat's box focused at load, reaches bob exactly; the page gets no key", async () => {
    await firstKeystrokesAfterLoad(server, alice, b);
  });

  it('the page rewrites its document (document.open): no secure composer is offered until a reload', async () => {
    const p = await openHostile(alice, server, 'bob', '');
    await rewrittenDocumentClosesComposer(p);
    await p.close();
  });

  it("the messages in view share one reader frame, each at its place, the page's controls between them still the page's", async () => {
    await screenfulInOneFrame(server, bob, key);
  });
});
