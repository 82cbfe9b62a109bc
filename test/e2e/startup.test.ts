/**
 * A managed chat stays protected through every start: the extension's service worker stopped and
 * started again (as Chrome does after 30 s idle), and the whole browser relaunched on the same
 * profile with the chat restored as its start page, while Chrome delivers the enterprise policy
 * seconds late. The user presses Enter again and again from the first instant: the vendor's
 * server never receives the text.
 *
 * The chat runs under a real-looking host name (not loopback), so nothing a build protects by
 * default can hide a gap. The policy is this browser's own (test/support/browser.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { launchUser, waitFor, type User } from '../support/browser';
import { openOptions } from '../support/veil-ui';

const HOST = 'chat.acme.test';
/** Every typed text carries this marker; it must never reach the server. */
const MARKER = 'zqxplaintext';

let server: ChatServer;
let alice: User;
let chatUrl = '';
let pattern = '';

/**
 * What the vendor received as sent messages. (Inline mode lets the page read its own composer, so
 * the fixture's draft autosave sees typed text by design: that is not a send.)
 */
const vendorSaw = () => {
  const seen = server.inspect();
  return JSON.stringify([seen.messages, seen.requests.filter((r) => r.path.startsWith('/api/messages'))]);
};
/** A short answer for a failing check (the whole server record is huge). */
const leaks = () => (vendorSaw().match(new RegExp(`${MARKER}[-a-z0-9]*`, 'g')) ?? []).slice(0, 5);

function policyFor(base: string) {
  return {
    '3rdparty': {
      extensions: {
        [CHROME_EXTENSION_ID]: {
          protectedSites: [{ adapter: 'fixture-chat', matches: [`${base}/*`] }],
          keys: [
            {
              id: 'c0ffee01',
              secret: randomBytes(32).toString('base64'),
              label: 'Startup key',
              scope: { site: 'fixture-chat', conversations: ['*'] },
              status: 'active',
              createdAt: 1_700_000_000_000,
            },
          ],
          requireEncryption: true,
        },
      },
    },
  };
}

async function registeredMatches(user: User): Promise<string[]> {
  const w = await user.worker();
  return w.evaluate(async () =>
    ((await (globalThis as any).chrome.scripting.getRegisteredContentScripts()) as { matches?: string[] }[]).flatMap(
      (s) => s.matches ?? [],
    ),
  );
}

/** Presses Enter with fresh text in the composer as fast as it goes, for `ms`, from now. */
async function hammer(page: Page, tag: string, ms = 1_000): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    await page.focus('#compose').catch(() => undefined);
    await page.keyboard.sendCharacter(` ${MARKER}-${tag}-${n++}`);
    await page.keyboard.press('Enter');
  }
  return n;
}

/** Empties the composer as a person would (select all, delete), so the chat's own state follows. */
async function clearComposer(page: Page): Promise<void> {
  await page.focus('#compose');
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Control');
  await page.keyboard.press('Backspace');
}

/** Puppeteer holds a restarting worker for its debugger; Chrome does not: let it run at once. */
async function resumeRestartedWorkers(user: User, cdp: CDPSession): Promise<void> {
  const browserCdp = await user.browser.target().createCDPSession();
  cdp.on('ServiceWorker.workerVersionUpdated', async (e: { versions: { runningStatus: string }[] }) => {
    if (!e.versions.some((v) => v.runningStatus === 'starting')) return;
    const { targetInfos } = await browserCdp.send('Target.getTargets');
    for (const t of targetInfos.filter((i) => i.type === 'service_worker')) {
      const { sessionId } = await browserCdp
        .send('Target.attachToTarget', { targetId: t.targetId, flatten: true })
        .catch(() => ({ sessionId: '' }));
      if (!sessionId) continue;
      await browserCdp
        .connection()
        ?.session(sessionId)
        ?.send('Runtime.runIfWaitingForDebugger')
        .catch(() => undefined);
    }
  });
}

beforeAll(async () => {
  server = await startChatServer();
  const base = `http://${HOST}:${server.port}`;
  chatUrl = `${base}/?user=alice&conv=bob`;
  pattern = `${base}/*`;
  alice = await launchUser('alice', {
    policy: policyFor(base),
    protect: false,
    args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--unsafely-treat-insecure-origin-as-secure=${base}`],
  });
  await waitFor(async () => (await registeredMatches(alice)).includes(pattern), 'the policy', 30_000);
}, 60_000);

afterAll(async () => {
  await alice?.close();
  await server?.close();
});

describe('a managed chat across starts', () => {
  it('service worker restarts: Enter pressed from the first instant never sends plaintext', async () => {
    const options = await openOptions(alice);
    const cdp = await options.createCDPSession();
    await cdp.send('ServiceWorker.enable');
    await resumeRestartedWorkers(alice, cdp);
    const pages = await Promise.all([1, 2, 3, 4].map(() => alice.newPage()));
    for (let round = 0; round < 6; round++) {
      await cdp.send('ServiceWorker.stopAllWorkers');
      // Something wakes the worker (here Veil's own page) while chat pages load around that moment.
      void options.reload().catch(() => undefined);
      await Promise.all(
        pages.map(async (page, i) => {
          await new Promise((r) => setTimeout(r, i * 15));
          await page.goto(chatUrl, { waitUntil: 'domcontentloaded' });
          await page.waitForSelector('#compose');
        }),
      );
      for (const [i, page] of pages.entries()) {
        await page.bringToFront();
        await hammer(page, `sw${round}-${i}`, 250);
      }
      expect(leaks()).toEqual([]);
    }
    // Still protected afterwards: a send goes out encrypted.
    const page = pages[0]!;
    await page.bringToFront();
    const before = server.inspect().messages.length;
    await clearComposer(page);
    await page.keyboard.sendCharacter(`${MARKER}-after`);
    await page.keyboard.press('Enter');
    await waitFor(() => server.inspect().messages.length > before, 'the encrypted message').catch(async (e) => {
      throw new Error(`${e}: ${await page.$eval('.veil-composer-status', (el) => el.textContent)}`);
    });
    expect(leaks()).toEqual([]);
    await Promise.all([...pages, options].map((p) => p.close()));
  }, 180_000);

  it('browser relaunch with the chat restored: Enter pressed from the first instant never sends plaintext', async () => {
    for (let round = 0; round < 3; round++) {
      await alice.relaunch([chatUrl]);
      const target = await alice.browser.waitForTarget((t) => t.url().startsWith(chatUrl.split('?')[0]!), {
        timeout: 20_000,
      });
      const page = (await target.page())!;
      await page.waitForSelector('#compose');
      await hammer(page, `restart${round}`, 1_500);
      expect(leaks()).toEqual([]);
      // Once Chrome delivered the policy (and its key), the same page, never reloaded, encrypts.
      if (round === 2) {
        await page.waitForFunction(
          () => /Startup key/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
          { timeout: 30_000, polling: 100 },
        );
        const before = server.inspect().messages.length;
        await clearComposer(page);
        await page.keyboard.sendCharacter(`${MARKER}-after`);
        await page.keyboard.press('Enter');
        await waitFor(() => server.inspect().messages.length > before, 'the encrypted message');
        expect(leaks()).toEqual([]);
      }
    }
  }, 180_000);
});
