/**
 * Opening a long encrypted history: messages out of view are left to the browser to lay out when
 * they scroll near (the adapter allows it), and that must change nothing the user sees: the chat
 * still opens at its newest message, every message reads decrypted wherever the user scrolls, and
 * no frame shows an envelope on the way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { launchUser, waitFor, type User } from '../support/browser';
import { bundleText, envelopeFor, makeKey } from '../support/keys';
import { importBundle } from '../support/veil-ui';

const N = 400;
const PASS = 'long history passphrase';
const key = makeKey('Long history', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
const text = (i: number) =>
  `history line ${i}: ${i % 7 === 0 ? 'a longer one that wraps over a few lines '.repeat(4) : 'short'}`;
let server: ChatServer;
let bob: User;
let page: Page;

/** Where each message is, relative to the list's visible box, and what it reads. */
const inView = (p: Page, index: number) =>
  p.evaluate((i) => {
    const list = document.querySelector('#messages')!;
    const msg = list.querySelectorAll('li.message')[i]!;
    const box = list.getBoundingClientRect();
    const r = msg.getBoundingClientRect();
    return {
      visible: r.bottom > box.top && r.top < box.bottom,
      status: msg.getAttribute('data-veil-status'),
      text: msg.querySelector('[data-veil-shown]')?.textContent ?? '',
      lazy: getComputedStyle(msg).contentVisibility,
    };
  }, index);

beforeAll(async () => {
  server = await startChatServer({ port: 0 });
  const start = Date.now() - N * 60_000;
  server.seed(
    Array.from({ length: N }, (_, i) => ({
      from: 'alice',
      to: 'bob',
      ts: start + i * 60_000,
      text: envelopeFor(key, text(i), { conversationId: 'dm-alice-bob', senderId: 'alice' }),
    })),
  );
  bob = await launchUser('bob');
  expect((await importBundle(bob, await bundleText([key], PASS), PASS)).tone).toBe('ok');
  page = await bob.newPage();
  await page.goto(`${server.url}/?user=bob&conv=alice`);
  await waitFor(
    async () => (await page.$$eval('#messages > li.message[data-veil-status="decrypted"]', (els) => els.length)) === N,
    'the whole history decrypted',
    60_000,
  );
});

afterAll(async () => {
  await bob?.close();
  await server?.close();
});

describe('a long encrypted history', () => {
  it('opens at the newest message, decrypted, with messages out of view left out of layout', async () => {
    const newest = await inView(page, N - 1);
    expect(newest).toMatchObject({ visible: true, status: 'decrypted', text: text(N - 1) });
    // Exactly at the end, as the chat scrolled it: layout estimates must not have grown under it.
    const gap = await page.$eval('#messages', (l) => l.scrollHeight - l.scrollTop - l.clientHeight);
    expect(gap).toBeLessThan(2);
    expect((await inView(page, 0)).visible).toBe(false);
    expect((await inView(page, 0)).lazy).toBe('auto');
  });

  it('reads decrypted wherever the user scrolls, and no frame shows an envelope on the way', async () => {
    await page.evaluate(() => {
      const w = window as any;
      w.__cipherFrames = 0;
      const sample = () => {
        const list = document.querySelector('#messages')!.getBoundingClientRect();
        for (const t of document.querySelectorAll('#messages .text')) {
          const r = t.getBoundingClientRect();
          if (r.bottom > list.top && r.top < list.bottom && /VEIL1/.test(t.textContent ?? '')) w.__cipherFrames++;
        }
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    });
    for (const at of [0, 0.25, 0.5, 0.75]) {
      const index = Math.floor(at * N);
      await page.evaluate((i) => document.querySelectorAll('#messages li.message')[i]!.scrollIntoView(), index);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      expect(await inView(page, index)).toMatchObject({ visible: true, status: 'decrypted', text: text(index) });
    }
    expect(await page.evaluate(() => (window as any).__cipherFrames)).toBe(0);
  });
});
