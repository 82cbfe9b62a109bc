/**
 * Local search in Firefox ESR: bob reads messages decrypted in the fixture chat and finds them from
 * Veil's popup page (with their conversation, author and a marked snippet), never finds a message he
 * has not decrypted, a result brings its chat's message into view, and Firefox's IndexedDB files
 * for Veil hold none of the words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { injectMessage } from '../support/chat';
import {
  type FirefoxUser,
  launchFirefoxUser,
  openExtensionPage,
  openProtected,
  veilPolicy,
  waitFor,
} from '../support/firefox';
import { envelopeFor, makeKey } from '../support/keys';
import { extensionIndexedDbText, writeIndexedDbProbe } from '../support/profile-files';
import { typeAndSendAny } from '../support/users';
import { searchIn, waitForMessage } from '../support/veil-ui';

const key = makeKey('Search team key', { site: 'fixture-chat', conversations: ['*'] });
const DM_WORDS = 'zebracornflake meeting at Café Müller';
const CJK = '机密项目明天发布';
const UNSEEN = 'wombatnever shown to bob';
const SECRET_TERMS = ['zebracornflake', '机密项目', 'wombatnever', 'Müller'];

let server: ChatServer;
let alice: FirefoxUser;
let bob: FirefoxUser;
let bobDm: Page;

const chat = (user: FirefoxUser, conv: string) => openProtected(user, `${server.url}/?user=${user.name}&conv=${conv}`);

beforeAll(async () => {
  server = await startChatServer();
  const policy = veilPolicy([key], `${server.url}/*`);
  [alice, bob] = await Promise.all([
    launchFirefoxUser('alice', { policy }),
    launchFirefoxUser('bob', { policy, extensionPages: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('local search in Firefox ESR', () => {
  it('finds what bob read decrypted, never what he did not, from the popup page', async () => {
    const a = await chat(alice, 'bob');
    bobDm = await chat(bob, 'alice');
    for (const text of [DM_WORDS, CJK]) {
      await typeAndSendAny(a, text);
      await waitForMessage(bobDm, (m) => m.text === text && m.status === 'decrypted', `bob reads ${text}`);
    }
    await a.close();
    // Sealed under the same key, in a conversation bob's browser never shows.
    await injectMessage(
      server,
      'alice',
      'dave',
      envelopeFor(key, UNSEEN, { conversationId: 'dm-alice-dave', senderId: 'alice' }),
    );

    const popup = await openExtensionPage(bob, 'popup.html', '#search-input');
    const hits = await searchIn(popup, 'ZEBRACORNFLAKE cafe');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      author: 'alice',
      conversation: 'in dm-alice-bob',
      marked: ['zebracornflake', 'Café'],
      snippet: DM_WORDS,
    });
    expect((await searchIn(popup, '项目明天'))[0]?.marked).toEqual(['项目明天']);
    expect(await searchIn(popup, 'wombatnever')).toEqual([]);

    // A result brings bob's DM to the front with the message in view and marked.
    expect(await searchIn(popup, 'zebracornflake')).toHaveLength(1);
    await popup.click(`.veil-search-hit[data-id="${hits[0]!.id}"]`);
    const found = await bobDm.waitForSelector('#messages li.message[data-veil-found]');
    expect(await found!.$eval('[data-veil-shown]', (el) => el.textContent)).toBe(DM_WORDS);
    await popup.close().catch(() => undefined); // the popup page closes itself after a click
  });

  it("leaves no plaintext in Firefox's IndexedDB files for Veil", async () => {
    // The scan itself finds a word that is there in the clear (written by one of Veil's pages).
    const page = await openExtensionPage(bob, 'popup.html', '#search-input');
    await writeIndexedDbProbe(page, 'plainprobeword');
    // The index is there to be scanned: the two messages bob read.
    const docs = await page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const req = indexedDB.open('veil-search');
          req.onerror = () => reject(req.error);
          req.onsuccess = () => {
            const count = req.result.transaction('docs').objectStore('docs').count();
            count.onsuccess = () => resolve(count.result);
          };
        }),
    );
    expect(docs).toBe(2);
    await page.close();
    const disk = () => extensionIndexedDbText(bob.profileDir, bob.extensionUuid);
    await waitFor(() => disk().text.includes('plainprobeword'), 'the probe on disk', 30_000);
    const { files, text } = disk();
    expect(files).toBeGreaterThan(1); // the probe's database and the search index at least
    for (const word of [...SECRET_TERMS, 'dm-alice-bob']) expect(text.includes(word), word).toBe(false);
  });
});
