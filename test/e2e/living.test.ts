/**
 * Living pages: message nodes that the app re-renders (framework re-render resetting the
 * text, a virtual list dropping and rebuilding nodes) and conversation switches in a single-page
 * app are decrypted once and shown correctly: no new decrypt round trip for a message already
 * decrypted (the renderer shows "Decrypting…" exactly when it asks the background), and no frame
 * in which the envelope is visible again (sampled every animation frame, before paint). Veil's
 * scripts run once per document, however often the page loads resources or moves in its history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { buildEditors } from '../../scripts/build-editors.mjs';
import { launchUser, waitFor, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { bundleText, envelopeFor, makeKey } from '../support/keys';
import { importBundle } from '../support/veil-ui';

const PASS = 'living pages passphrase';
let server: ChatServer;
let bob: User;
let page: Page;
const key = makeKey('Living', { site: 'fixture-chat', conversations: ['dm-alice-bob', 'ch-general'] });

function envelope(text: string, conversationId: string): string {
  return envelopeFor(key, text, { conversationId, senderId: 'alice' });
}

const inject = (to: string, text: string) => injectMessage(server, 'alice', to, text);

/** Counts, in the page, every "Decrypting…" badge Veil adds and every frame that shows an envelope. */
async function record(p: Page): Promise<void> {
  await p.evaluate(() => {
    const w = window as any;
    w.__rec = { pending: 0, cipherFrames: 0, frames: 0 };
    new MutationObserver((rs) => {
      for (const r of rs)
        for (const n of r.addedNodes) {
          if (
            n instanceof Element &&
            (n.matches('.veil-badge[data-veil-status="pending"]') ||
              n.querySelector('.veil-badge[data-veil-status="pending"]'))
          )
            w.__rec.pending++;
        }
    }).observe(document, { childList: true, subtree: true });
    const sample = () => {
      w.__rec.frames++;
      if ([...document.querySelectorAll('#messages .text')].some((t) => /VEIL1/.test(t.textContent ?? '')))
        w.__rec.cipherFrames++;
      requestAnimationFrame(sample);
    };
    requestAnimationFrame(sample);
  });
}

const rec = (p: Page) =>
  p.evaluate(() => ({ ...(window as any).__rec })) as Promise<{
    pending: number;
    cipherFrames: number;
    frames: number;
  }>;
const shown = (p: Page) =>
  p.$$eval('#messages > li.message', (els) =>
    els.map((e) => ({
      status: e.getAttribute('data-veil-status'),
      text: e.querySelector('[data-veil-shown]')?.textContent ?? '',
    })),
  );
const allDecrypted = async (p: Page, n: number) => {
  const s = await shown(p);
  return s.length === n && s.every((m) => m.status === 'decrypted');
};
const frames = (p: Page, n: number) =>
  p.evaluate(
    (k) =>
      new Promise((r) => {
        let i = 0;
        const f = () => (++i >= k ? r(undefined) : requestAnimationFrame(f));
        requestAnimationFrame(f);
      }),
    n,
  );

beforeAll(async () => {
  [server] = await Promise.all([startChatServer({ port: 0 }), buildEditors()]);
  for (let i = 0; i < 30; i++) await inject('bob', envelope(`direct message number ${i}`, 'dm-alice-bob'));
  for (let i = 0; i < 5; i++) await inject('#general', envelope(`channel note ${i}`, 'ch-general'));
  bob = await launchUser('bob');
  expect((await importBundle(bob, await bundleText([key], PASS), PASS)).tone).toBe('ok');
  page = await bob.newPage();
  await page.goto(`${server.url}/editors/index.html?editor=react-textarea&user=bob&conv=alice`);
  await waitFor(() => allDecrypted(page, 30), 'first decryption');
  await record(page);
});

afterAll(async () => {
  await bob?.close();
  await server?.close();
});

describe('living pages', () => {
  it('re-rendered message text (framework re-render) is repainted from cache, no flicker', async () => {
    await page.evaluate(() => {
      const ids = [...document.querySelectorAll<HTMLElement>('#messages > li')].map((l) => l.dataset.id!);
      for (let round = 0; round < 3; round++) for (const id of ids) (window as any).fixtureChat.resetText(id);
    });
    await frames(page, 5);
    expect(await allDecrypted(page, 30)).toBe(true);
    expect((await shown(page)).map((m) => m.text)).toEqual(
      Array.from({ length: 30 }, (_, i) => `direct message number ${i}`),
    );
    expect(await rec(page)).toMatchObject({ pending: 0, cipherFrames: 0 });
  });

  it('a virtual list that rebuilds every node shows them decrypted at once, without asking again', async () => {
    for (let i = 0; i < 5; i++) {
      await page.evaluate(() => (window as any).fixtureChat.virtualise());
      await frames(page, 2);
    }
    expect(await allDecrypted(page, 30)).toBe(true);
    const r = await rec(page);
    expect(r.frames).toBeGreaterThan(5); // the sampler really ran
    expect(r).toMatchObject({ pending: 0, cipherFrames: 0 });
  });

  it('switching conversations in the SPA decrypts the new one with its own context, and going back costs nothing', async () => {
    await page.click('#conversations .conv[data-conv="general"]');
    await waitFor(() => allDecrypted(page, 5), '#general decrypted');
    // Bound to ch-general: decrypting under the old conversation id would flag them as moved.
    expect((await shown(page)).map((m) => m.text)).toEqual(Array.from({ length: 5 }, (_, i) => `channel note ${i}`));
    const afterFirstVisit = await rec(page);
    expect(afterFirstVisit.pending).toBeGreaterThan(0); // a new conversation is decrypted once
    // Even then no frame shows an envelope, however slow the answer: "Decrypting…" takes its place.
    expect(afterFirstVisit.cipherFrames).toBe(0);
    await page.click('#conversations .conv[data-conv="alice"]');
    await waitFor(() => allDecrypted(page, 30), 'back in the DM');
    await page.click('#conversations .conv[data-conv="general"]');
    await waitFor(() => allDecrypted(page, 5), '#general again');
    await frames(page, 3);
    const end = await rec(page);
    expect(end.pending).toBe(afterFirstVisit.pending);
    expect(end.cipherFrames).toBe(0);
    // The composer status follows the conversation (SPA: no page load).
    expect(await page.$eval('.veil-composer-status', (el) => el.textContent)).toContain(key.label);
  });

  it('Veil runs once per document: the load and the chat moving in its history do not run it again', async () => {
    // Every run is the whole content script evaluated again on the chat's main thread while it
    // loads (the background used to inject on every load event of the tab: five runs on The Lounge).
    const p = await bob.newPage();
    const runs: string[] = [];
    const cdp = await p.createCDPSession();
    cdp.on('Debugger.scriptParsed', (e: { url: string }) => {
      if (/\/(content-scripts\/content|notification-labels)\.js$/.test(e.url)) runs.push(e.url.replace(/^.*\//, ''));
    });
    await cdp.send('Debugger.enable');
    await p.goto(`${server.url}/editors/index.html?editor=react-textarea&user=bob&conv=alice`, { waitUntil: 'load' });
    await waitFor(() => allDecrypted(p, 30), 'the DM decrypted');
    for (const at of ['#one', '#two', '?moved=1']) {
      await p.evaluate((to) => (to.startsWith('#') ? (location.hash = to) : history.pushState(null, '', to)), at);
      await frames(p, 2);
    }
    // The background answers a tab's load events within milliseconds; give it ample time.
    await new Promise((r) => setTimeout(r, 1_500));
    await cdp.send('Debugger.disable');
    await p.close();
    const content = runs.filter((u) => u === 'content.js').length;
    // Once by registration; at most once more when the background looks at a document so early in
    // its load that the registered script has not run yet (it then stands down: one Veil per document).
    expect(content, runs.join(', ')).toBeGreaterThanOrEqual(1);
    expect(content, runs.join(', ')).toBeLessThanOrEqual(2);
  });
});
