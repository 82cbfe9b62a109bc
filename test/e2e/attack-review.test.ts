/**
 * An adversarial review of the hostile-page fixes, as the vendor would attack them: small page
 * scripts against the built extension in Chromium and the fixture chat. Each test makes one
 * attack and fails if it works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { launchUser, waitFor, type User } from '../support/browser';
import { composerReady, readerTexts, typeInIsolated } from '../support/isolated-cases';
import { bundleText, makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';
import { composerStatus, importBundle, openChat, openOptions } from '../support/veil-ui';

const PASS = 'correct horse battery staple';
const key = makeKey('Alice and Bob', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
const settle = (ms = 600) => new Promise((r) => setTimeout(r, ms));

let server: ChatServer;
let alice: User;

beforeAll(async () => {
  server = await startChatServer();
  alice = await launchUser('alice');
  expect((await importBundle(alice, await bundleText([key], PASS), PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await alice?.close();
  await server?.close();
});

describe('inline mode: a decoy compose box', () => {
  // A page puts a hidden `textarea#compose` holding its own text first in the document, where a
  // "first match" lookup would find it: the user's Enter in the visible box must encrypt that box.
  it('the user presses Enter in the visible box: the hidden decoy text is not encrypted', async () => {
    const page = await openChat(alice, server.url, 'bob');
    expect((await composerStatus(page)).state).toBe('ready');
    const forged = 'decoy: yes, pay invoice 4471 to mallory';
    await page.evaluate((forged) => {
      const decoy = document.createElement('textarea');
      decoy.id = 'compose';
      decoy.style.cssText = 'position:fixed;left:-9999px;opacity:0';
      decoy.value = forged;
      document.body.prepend(decoy); // first in document order: the one Veil's selector finds
      (window as any).decoyValues = [] as string[];
      decoy.addEventListener('input', () => (window as any).decoyValues.push(decoy.value));
    }, forged);
    await page.focus('form #compose');
    await page.keyboard.type('hello bob');
    const before = server.inspect().messages.length;
    await page.keyboard.press('Enter');
    await waitFor(() => server.inspect().messages.length > before, 'the visible box to be sent');
    const values = await page.evaluate(() => (window as any).decoyValues as string[]);
    expect(values.filter((v) => v.startsWith('VEIL1'))).toEqual([]); // nothing encrypted for the decoy
    expect(await page.$eval('textarea#compose', (el) => (el as HTMLTextAreaElement).value)).toBe(forged);
    expect(await page.$eval('form #compose', (el) => (el as HTMLTextAreaElement).value)).toBe('');
    await page.close();
  });
});

describe('isolated mode: a page working around the secure frames', () => {
  let page: Page;

  beforeAll(async () => {
    const options = await openOptions(alice);
    const box = '#isolated-sites tr[data-site="fixture-chat"] .isolated-toggle';
    await options.waitForSelector(box);
    if (!(await options.$eval(box, (b) => (b as HTMLInputElement).checked))) {
      await options.click(box);
      await options.waitForFunction(
        () => (document.querySelector('#isolated-sites .isolated-toggle') as HTMLInputElement).checked,
      );
    }
    await options.close();
    page = await alice.newPage();
    await page.goto(`${server.url}/?user=alice&conv=bob`);
    await page.waitForSelector('#compose');
    await composerReady(page);
  });

  afterAll(() => page?.close());

  it('the page focuses a hidden field of its own on the click: the keys typed next never reach it', async () => {
    // A chat that "focuses the composer on a click in the message list", except that the vendor
    // focuses a field of its own, off screen, and records what lands there.
    await page.evaluate(() => {
      const trap = document.createElement('textarea');
      trap.id = 'trap';
      trap.style.cssText = 'position:fixed;left:-500px;top:0;width:200px;height:40px';
      document.body.append(trap);
      const w = window as any;
      w.trapped = '';
      trap.addEventListener('keydown', (e) => (w.trapped += (e as KeyboardEvent).key.length === 1 ? e.key : ''));
      document.addEventListener('click', () => trap.focus());
    });
    const list = await page.$('#messages');
    const box = (await list!.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + 20); // the user clicks in the message list
    await settle(100);
    const secret = 'Quokka fjarbo secret';
    await page.keyboard.type(secret, { delay: 20 }); // ...and types, as Veil's "type anywhere" taught
    await settle();
    const trapped = await page.evaluate(() => (window as any).trapped + (document.querySelector('#trap') as any).value);
    expect(leakedSubstrings(trapped, secret, 4)).toEqual([]);
    // Nothing lost: the keys went to Veil's composer, and the user was told.
    const composer = await composerReady(page);
    expect(await composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value)).toContain(secret);
    expect(await page.$eval('.veil-composer-status', (el) => el.textContent)).toMatch(/took it back/);
  });

  it('the page focuses its hidden field on a Shift key press in the page: the keys still never reach it', async () => {
    await page.evaluate(() => {
      const trap = document.querySelector<HTMLTextAreaElement>('#trap')!;
      trap.value = '';
      (window as any).trapped = '';
      document.addEventListener('keydown', (e) => e.key === 'Shift' && trap.focus());
    });
    const list = (await (await page.$('#messages'))!.boundingBox())!;
    await page.mouse.click(list.x + 5, list.y + list.height - 5, { count: 1 });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await settle(900); // past the click's gesture window
    await page.keyboard.down('Shift');
    await page.keyboard.type('Wugrel', { delay: 20 });
    await page.keyboard.up('Shift');
    await page.keyboard.type(' zorbit 7Qx9', { delay: 20 });
    await settle();
    const trapped = await page.evaluate(() => (window as any).trapped + (document.querySelector('#trap') as any).value);
    expect(leakedSubstrings(trapped, 'WUGREL zorbit 7Qx9', 4)).toEqual([]);
  });

  it('the page renames the author of a message a reader shows: the reader no longer vouches for it', async () => {
    const fresh = await alice.newPage();
    await fresh.goto(`${server.url}/?user=alice&conv=bob`);
    await fresh.waitForSelector('#compose');
    await composerReady(fresh);
    const words = 'the budget is approved (isolated)';
    await typeInIsolated(server, fresh, fresh, [words]);
    await fresh.evaluate(() => {
      const mine = [...document.querySelectorAll<HTMLElement>('#messages > li.message')].at(-1)!;
      mine.dataset.from = 'carol';
    });
    await waitFor(
      async () => (await readerTexts(fresh)).some((r) => r.status === 'sender-mismatch'),
      'a reader judging the message for carol',
    );
    const shown = await readerTexts(fresh);
    expect(shown.filter((r) => r.text.includes(words) && r.status === 'decrypted')).toEqual([]);
    await fresh.close();
  });
});
