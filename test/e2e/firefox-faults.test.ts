/**
 * The fault cases in Firefox ESR (bodies shared with faults.test.ts: test/support/fault-cases.ts):
 * two Firefox users under policies.json; rapid repeated Enter, two tabs of one chat, typing while
 * Veil sends, and a vendor dropping, duplicating or cutting live deliveries. Firefox's background
 * is an event page, not a service worker: stopping it under an open page is the add-on update case
 * in firefox-roundtrip.test.ts.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import {
  cutStreamCatchesUp,
  droppedLiveRecovered,
  duplicatedLiveShownOnce,
  type FaultEnv,
  rapidEnterSendsOnce,
  twoTabsEachOnce,
  typedWhileSendingKept,
} from '../support/fault-cases';
import { makeKey } from '../support/keys';
import { launchAliceAndBob, openConversation, type ChatUser } from '../support/users';
import { composerStatus } from '../support/veil-ui';

let server: ChatServer;
let alice: ChatUser;
let bob: ChatUser;
let a: Page;
let b: Page;
const team = makeKey('Team', { site: 'fixture-chat', conversations: ['*'] });
const env = (): FaultEnv => ({ server, a, b, secondTab: () => openConversation(alice, server.url, 'bob') });

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await launchAliceAndBob('firefox', server.url, [team]);
  [a, b] = await Promise.all([openConversation(alice, server.url, 'bob'), openConversation(bob, server.url, 'alice')]);
  await Promise.all([composerStatus(a), composerStatus(b)]);
});

afterAll(async () => {
  server?.faults({ dropLive: 0, duplicateLive: 0 });
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('fault injection in Firefox ESR', () => {
  it('rapid repeated Enter sends exactly one message', () => rapidEnterSendsOnce(env()));
  it('two tabs of the same chat: each message once, decrypted, in both', () => twoTabsEachOnce(env()));
  it('what the user types while Veil is still sending is not lost', () => typedWhileSendingKept(env()));
  it('dropped live deliveries: after a reload the receiver has every one, once, decrypted', () =>
    droppedLiveRecovered(env()));
  it('duplicated live deliveries are shown once, decrypted, not flagged', () => duplicatedLiveShownOnce(env()));
  it('a cut live stream: messages sent meanwhile arrive after the reconnect, without a reload', () =>
    cutStreamCatchesUp(env()));
});
