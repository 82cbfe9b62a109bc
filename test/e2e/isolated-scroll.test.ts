/**
 * Isolated mode on a long history, in real Chromium with the built extension: bob scrolls from the
 * newest to the oldest of 250 messages (2,000 in `npm run soak`), fast (as a user flicking through) and stopping now and
 * then (as a user reading). Checked all the way:
 * (a) every message in view shows its plaintext inside a Veil reader frame once scrolling stops;
 * (b) the number of reader frames in the page stays bounded (placeholders off screen hold no
 *     frame: no frame per message, no frame storm);
 * (c) not one plaintext word is in the page's DOM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { launchUser, waitFor, type User } from '../support/browser';
import { bundleText, envelopeFor, makeKey } from '../support/keys';
import { SLOTS_EXPRESSION } from '../support/isolated-cases';
import { importBundle, openOptions } from '../support/veil-ui';

const PASS = 'correct horse battery staple';
/** Messages in the history; `npm run soak` sets 2,000. */
const N = Number(process.env.VEIL_SCROLL_MESSAGES ?? 250);
/** lib/page/isolated/readers.ts MAX_LIVE_READERS (that module needs a browser to load). */
const MAX_LIVE_READERS = 48;
const key = makeKey('Team scroll', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
/** A made-up word in every message: it must never appear in the page. */
const MARK = 'Plimzorq';
const textOf = (i: number) => `${MARK} ${i} vexquil ${(i * 7919).toString(36)}`;

let server: ChatServer;
let bob: User;
/** Envelope text -> the plaintext it holds. */
const plainOf = new Map<string, string>();

beforeAll(async () => {
  server = await startChatServer();
  const start = Date.now() - N * 60_000;
  const seed = [];
  for (let i = 0; i < N; i++) {
    const from = i % 3 === 0 ? 'bob' : 'alice';
    const envelope = envelopeFor(key, textOf(i), { conversationId: 'dm-alice-bob', senderId: from });
    plainOf.set(envelope, textOf(i));
    seed.push({ from, to: from === 'bob' ? 'alice' : 'bob', text: envelope, ts: start + i * 60_000 });
  }
  server.seed(seed);
  bob = await launchUser('bob-scroll');
  expect((await importBundle(bob, await bundleText([key], PASS), PASS)).tone).toBe('ok');
  const options = await openOptions(bob);
  const box = '#isolated-sites tr[data-site="fixture-chat"] .isolated-toggle';
  await options.waitForSelector(box);
  await options.click(box);
  await options.waitForFunction(
    (sel) =>
      (document.querySelector(sel) as HTMLInputElement).checked &&
      /isolated mode on/.test(document.querySelector('#isolated-result')?.textContent ?? ''),
    {},
    box,
  );
  await options.close();
}, 120_000);

afterAll(async () => {
  await bob?.close();
  await server?.close();
});

/** Envelope texts of the messages whose box is inside the list's visible area. */
function inView(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const list = document.getElementById('messages')!.getBoundingClientRect();
    return [...document.querySelectorAll('#messages > li.message')]
      .filter((li) => {
        const r = li.getBoundingClientRect();
        return r.top >= list.top && r.bottom <= list.bottom;
      })
      .map((li) => li.querySelector('.text')?.textContent ?? '');
  });
}

/** Every frame in the page but the composer: readers, and readers still blank while they load. */
function readerFrameCount(page: Page): number {
  return page.frames().filter((f) => f !== page.mainFrame() && !f.url().endsWith('/secure-composer.html')).length;
}

/**
 * Texts of decrypted readers, read through each reader frame's own DevTools target: puppeteer's
 * frame tree can lose track of frames made and removed this fast while scrolling.
 */
async function shownTexts(user: User): Promise<Set<string>> {
  const shown = new Set<string>();
  for (const t of user.browser.targets()) {
    if (!t.url().endsWith('/secure-reader.html')) continue;
    const read = (async () => {
      const session = await t.createCDPSession();
      try {
        const r = await session.send('Runtime.evaluate', { expression: SLOTS_EXPRESSION, returnByValue: true });
        return String(r.result.value ?? '');
      } finally {
        await session.detach().catch(() => undefined);
      }
    })().catch(() => '');
    const json = await Promise.race([read, new Promise<string>((r) => setTimeout(() => r(''), 3_000))]);
    const slots = json ? (JSON.parse(json) as { text: string; status: string }[]) : [];
    for (const s of slots) if (s.status === 'decrypted' && s.text) shown.add(s.text);
  }
  return shown;
}

/** What the page's own script can read: its DOM, as markup and as text. */
const pageText = (page: Page) =>
  page.evaluate(() => document.documentElement.outerHTML + '\n' + document.body.innerText);

describe(`isolated mode: scrolling a ${N}-message history`, () => {
  it('shows every message in view in a reader, with a bounded number of frames and no plaintext in the page', async () => {
    const page = await bob.newPage();
    await page.bringToFront();
    await page.goto(`${server.url}/?user=bob&conv=alice`);
    await page.waitForFunction(
      (n) => document.querySelectorAll('#messages .text[data-veil-isolated="hidden"]').length === n,
      { timeout: 60_000 },
      N,
    );
    let maxFrames = 0;
    let checkpoints = 0;
    const shownInView = async () => {
      // What is in view is read on every poll: the list moves while readers take their height.
      let wanted: (string | undefined)[] = [];
      await waitFor(
        async () => {
          wanted = (await inView(page)).map((e) => plainOf.get(e));
          const shown = await shownTexts(bob);
          return wanted.length > 0 && wanted.every((w) => w !== undefined && shown.has(w));
        },
        'every message in view shown in a reader',
        30_000,
      ).catch(async (e) => {
        const shown = [...(await shownTexts(bob))];
        const notes = await page.$$eval('.veil-isolated-note', (n) => n.map((x) => x.textContent));
        throw new Error(
          `${(e as Error).message}: in view ${JSON.stringify(wanted)}, shown ${JSON.stringify(shown)}, notes ${JSON.stringify(notes)}`,
        );
      });
      checkpoints++;
    };
    await shownInView(); // the newest messages, right after load
    const height = await page.$eval('#messages', (l) => l.clientHeight);
    for (let step = 1; ; step++) {
      const top = await page.$eval('#messages', (l, h) => (l.scrollTop = Math.max(0, l.scrollTop - h)), height);
      // A flick: the next step comes before the frames of this one have loaded.
      await new Promise((r) => setTimeout(r, 40));
      maxFrames = Math.max(maxFrames, readerFrameCount(page));
      if (step % 10 === 0 || top === 0) {
        await shownInView(); // a pause to read
        maxFrames = Math.max(maxFrames, readerFrameCount(page));
        expect(await pageText(page)).not.toContain(MARK);
      }
      if (top === 0) break;
    }
    // The oldest message is in view at the top.
    expect((await inView(page)).map((e) => plainOf.get(e))).toContain(textOf(0));
    expect(checkpoints).toBeGreaterThan(3);
    expect(maxFrames).toBeGreaterThan(0);
    expect(maxFrames).toBeLessThanOrEqual(MAX_LIVE_READERS);
    // And the page never held a word of any message.
    const dom = await pageText(page);
    expect(dom).not.toContain(MARK);
    expect(dom).not.toContain('vexquil');
    await page.close();
  }, 600_000);
});
