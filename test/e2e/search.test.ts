/**
 * Local search in real Chromium: bob reads messages decrypted in the fixture chat, finds them from
 * Veil's popup (with their conversation, author and a marked snippet), never finds a message he
 * has not decrypted, and the index files on disk hold none of the words. The vendor's page (even
 * driving Veil's content script) cannot query the index, and turning search off by policy erases it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { launchUser, waitFor, waitForPolicy, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { veilPolicy } from '../support/firefox';
import { envelopeFor, makeKey } from '../support/keys';
import { extensionIndexedDbText, writeIndexedDbProbe } from '../support/profile-files';
import { openChat, openPopup, searchIn, typeAndSend, waitForMessage } from '../support/veil-ui';

const key = makeKey('Search team key', { site: 'fixture-chat', conversations: ['*'] });
const DM_WORDS = 'zebracornflake meeting at Café Müller';
const CJK = '机密项目明天发布';
const RTL = 'مرحبا بالعالم';
const OTHER = 'quokkasecret lives in the general channel';
const UNSEEN = 'wombatnever shown to bob';
const SECRET_TERMS = ['zebracornflake', 'quokkasecret', '机密项目', 'مرحبا', 'wombatnever'];

let server: ChatServer;
let alice: User;
let bob: User;
const policyWith = (extra: object, status = key.status) => ({
  '3rdparty': { extensions: { [CHROME_EXTENSION_ID]: veilPolicy([{ ...key, status }], `${server.url}/*`, extra) } },
});

/** Record counts of the search database, read from one of Veil's own pages. */
async function searchDbCounts(user: User): Promise<Record<string, number>> {
  const page = await user.newPage();
  await page.goto(`chrome-extension://${user.extensionId}/options.html`);
  const counts = await page.evaluate(
    () =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const req = indexedDB.open('veil-search');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const names = [...db.objectStoreNames];
          if (names.length === 0) return resolve({});
          const tx = db.transaction(names);
          const out: Record<string, number> = {};
          for (const n of names)
            tx.objectStore(n).count().onsuccess = (e) => (out[n] = (e.target as IDBRequest).result);
          tx.oncomplete = () => {
            db.close();
            resolve(out);
          };
        };
      }),
  );
  await page.close();
  return counts;
}

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await Promise.all([
    launchUser('alice', { policy: policyWith({}) }),
    launchUser('bob', { policy: policyWith({}) }),
  ]);
  await Promise.all([waitForPolicy(alice, `${server.url}/*`), waitForPolicy(bob, `${server.url}/*`)]);
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('local search', () => {
  let bobDm: Page;

  it('finds what bob read decrypted, in its conversation, with author and a marked snippet', async () => {
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    bobDm = b;
    for (const text of [DM_WORDS, CJK, RTL]) {
      await typeAndSend(a, text);
      await waitForMessage(b, (m) => m.text === text && m.status === 'decrypted', `bob reads ${text}`);
    }
    const [ag, bg] = await Promise.all([openChat(alice, server.url, 'general'), openChat(bob, server.url, 'general')]);
    await typeAndSend(ag, OTHER);
    await waitForMessage(bg, (m) => m.text === OTHER && m.status === 'decrypted', 'bob reads the channel');
    // A message bob's browser never decrypted: sealed under the same key, in a chat he never opens.
    const sealed = envelopeFor(key, UNSEEN, { conversationId: 'dm-alice-dave', senderId: 'alice' });
    await injectMessage(server, 'alice', 'dave', sealed);
    await Promise.all([ag.close(), bg.close()]);

    const popup = await openPopup(bob, b);
    const dm = await searchIn(popup, 'ZEBRACORNFLAKE cafe');
    expect(dm).toHaveLength(1);
    expect(dm[0]).toMatchObject({
      author: 'alice',
      conversation: 'in dm-alice-bob',
      marked: ['zebracornflake', 'Café'],
    });
    expect(dm[0]!.snippet).toBe(DM_WORDS);
    expect(dm[0]!.html).not.toContain('<script');

    const other = await searchIn(popup, 'quokkasecret');
    expect(other).toHaveLength(1);
    expect(other[0]).toMatchObject({ author: 'alice', conversation: 'in ch-general', marked: ['quokkasecret'] });

    expect((await searchIn(popup, '项目明天'))[0]?.marked).toEqual(['项目明天']);
    expect((await searchIn(popup, 'مرحبا'))[0]?.marked).toEqual(['مرحبا']);
    expect(await searchIn(popup, 'wombatnever')).toEqual([]);
    expect(await popup.$eval('#search-state', (e) => e.textContent)).toContain('No message');
    await popup.close();
  });

  it('a click on a result brings its chat to the front, with the message in view and marked', async () => {
    const elsewhere = await bob.newPage();
    await elsewhere.goto(`${server.url}/?user=bob&conv=general`);
    const popup = await openPopup(bob, elsewhere);
    const hits = await searchIn(popup, 'zebracornflake');
    await popup.click(`.veil-search-hit[data-id="${hits[0]!.id}"]`);
    const w = await bob.worker();
    await waitFor(
      async () =>
        (
          await w.evaluate(async () => (await (globalThis as any).chrome.tabs.query({ active: true }))[0]?.url ?? '')
        ).includes('conv=alice'),
      'the DM tab in front',
    );
    const found = await bobDm.waitForSelector('#messages li.message[data-veil-found]');
    expect(await found!.$eval('[data-veil-shown]', (el) => el.textContent)).toBe(DM_WORDS);
    expect(await found!.isIntersectingViewport()).toBe(true);
    await elsewhere.close();
  });

  it('leaves no plaintext in the IndexedDB files on disk', async () => {
    // The scan itself finds a word that is there in the clear (written by one of Veil's pages).
    const page = await bob.newPage();
    await page.goto(`chrome-extension://${bob.extensionId}/options.html`);
    await writeIndexedDbProbe(page, 'plainprobeword');
    await page.close();
    await waitFor(
      () => extensionIndexedDbText(bob.profileDir, bob.extensionId).text.includes('plainprobeword'),
      'the probe on disk',
    );
    const counts = await searchDbCounts(bob);
    expect(counts.docs).toBe(4);
    expect(counts.buckets).toBeGreaterThan(10);
    const disk = extensionIndexedDbText(bob.profileDir, bob.extensionId);
    expect(disk.files).toBeGreaterThan(0);
    for (const word of [...SECRET_TERMS, 'Müller', 'dm-alice-bob']) expect(disk.text.includes(word), word).toBe(false);
  });

  it("the vendor's page cannot query the index, even through Veil's content script", async () => {
    // The page's own world has no way to Veil at all.
    expect(await bobDm.evaluate(() => typeof (globalThis as any).chrome?.runtime?.sendMessage)).not.toBe('function');
    // Veil's content script world (the page can drive it): the router refuses it as a caller.
    const cdp = await bobDm.createCDPSession();
    const contexts: { id: number; origin: string; type?: string }[] = [];
    cdp.on('Runtime.executionContextCreated', (e) =>
      contexts.push({ id: e.context.id, origin: e.context.origin, type: e.context.auxData?.type }),
    );
    await cdp.send('Runtime.enable');
    const veil = contexts.find((c) => c.type === 'isolated' && c.origin.includes(bob.extensionId));
    expect(veil).toBeDefined();
    const { result } = await cdp.send('Runtime.evaluate', {
      contextId: veil!.id,
      expression: `chrome.runtime.sendMessage({ veil: 1, type: 'search/query', req: { query: 'zebracornflake' } })`,
      awaitPromise: true,
      returnByValue: true,
    });
    expect(result.value).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(JSON.stringify(result.value)).not.toContain('zebracornflake meeting');
    await cdp.detach();
  });

  it('turning localSearch off by policy erases the index and keeps nothing', async () => {
    bob.writePolicy(policyWith({ localSearch: false }));
    await waitFor(async () => (await searchDbCounts(bob)).docs === 0, 'the index erased', 30_000);
    expect(await searchDbCounts(bob)).toMatchObject({ docs: 0, buckets: 0, meta: 0 });
    const popup = await openPopup(bob, bobDm);
    await popup.waitForFunction(() =>
      /turned local search off/.test(document.querySelector('#search-state')?.textContent ?? ''),
    );
    expect(await popup.$eval('#search-form', (e) => (e as HTMLElement).hidden)).toBe(true);
    await popup.close();
    // Messages read meanwhile are not kept either.
    await bobDm.reload();
    await waitForMessage(bobDm, (m) => m.text === DM_WORDS && m.status === 'decrypted', 'bob reads again');
    await new Promise((r) => setTimeout(r, 500));
    expect((await searchDbCounts(bob)).docs ?? 0).toBe(0);
  });

  it('with search back on, a lock erases the index, and so does revoking the key', async () => {
    const page = await bob.newPage();
    await page.goto(`chrome-extension://${bob.extensionId}/options.html`);
    const ask = (type: string, req: object) =>
      page.evaluate((type, req) => (globalThis as any).chrome.runtime.sendMessage({ veil: 1, type, req }), type, req);
    const readAgain = async () => {
      await bobDm.reload();
      await waitForMessage(bobDm, (m) => m.text === DM_WORDS && m.status === 'decrypted', 'bob reads again');
      await waitFor(async () => ((await searchDbCounts(bob)).docs ?? 0) > 0, 'indexed again');
    };
    bob.writePolicy(policyWith({}));
    await waitFor(async () => (await ask('search/query', { query: '' })).enabled === true, 'search back on', 30_000);
    await readAgain();
    // No chat open (an open one decrypts again at once: policy keys do not lock, docs/security.md).
    await bobDm.close();
    expect(await ask('keys/lock', {})).toMatchObject({ ok: true });
    await waitFor(async () => (await searchDbCounts(bob)).docs === 0, 'the index erased on lock');
    bobDm = await openChat(bob, server.url, 'alice');
    await readAgain();
    bob.writePolicy(policyWith({}, 'revoked'));
    await waitFor(async () => (await searchDbCounts(bob)).docs === 0, 'the index erased on revocation', 30_000);
    expect(await searchDbCounts(bob)).toMatchObject({ docs: 0, buckets: 0 });
    await page.close();
  });
});
