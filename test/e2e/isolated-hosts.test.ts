/**
 * Isolated mode on a chat Veil's build knows nothing about: the fixture chat served under a
 * real-looking host name (chat.acme.test, mapped to 127.0.0.1 by the browser's resolver), named
 * only by enterprise policy with `mode: "isolated"`. The secure frames must load there (they are
 * web-accessible on every origin through Chrome's per-session dynamic URL), alice types into the
 * secure composer, bob reads in a secure reader, and the vendor's server holds envelopes only.
 */
import { base64 } from '@scure/base';
import type { Frame, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { launchUser, waitFor, waitForPolicy, type User } from '../support/browser';
import { makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';

const HOST = 'chat.acme.test';
const SECRET = 'Huckleberry pie for the board at nine';
const key = makeKey('Acme team', { site: 'fixture-chat', conversations: ['*'] });

let server: ChatServer;
let alice: User;
let bob: User;
let chatUrl = '';

function policyFor(origin: string): string {
  return JSON.stringify({
    '3rdparty': {
      extensions: {
        [CHROME_EXTENSION_ID]: {
          protectedSites: [{ adapter: 'fixture-chat', matches: [`${origin}/*`], mode: 'isolated' }],
          keys: [{ ...key, secret: base64.encode(key.secret), source: undefined }],
        },
      },
    },
  });
}

async function secureFrame(page: Page, name: 'composer' | 'reader', has: (f: Frame) => Promise<boolean>) {
  let found: Frame | undefined;
  await waitFor(
    async () => {
      for (const f of page.frames().filter((fr) => fr.url().endsWith(`/secure-${name}.html`))) {
        if (await has(f).catch(() => false)) found = f;
      }
      return !!found;
    },
    `a granted secure ${name} on ${HOST}`,
    25_000,
  ).catch(async (e) => {
    const status = await page.$eval('.veil-composer-status', (el) => el.textContent).catch(() => 'no status line');
    throw new Error(`${(e as Error).message}; status: ${status}; frames: ${page.frames().map((f) => f.url())}`, {
      cause: e,
    });
  });
  return found!;
}

async function open(user: User, conv: string): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`${chatUrl}/?user=${user.name}&conv=${conv}`);
  await page.waitForSelector('#compose');
  return page;
}

beforeAll(async () => {
  server = await startChatServer();
  chatUrl = `http://${HOST}:${server.port}`;
  const args = [
    `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
    // Plain http on a non-loopback name is not a secure context; the fixture needs WebCrypto.
    `--unsafely-treat-insecure-origin-as-secure=${chatUrl}`,
  ];
  const policy = policyFor(chatUrl);
  [alice, bob] = await Promise.all([launchUser('alice', { policy, args }), launchUser('bob', { policy, args })]);
  await Promise.all([alice, bob].map((u) => waitForPolicy(u, `${chatUrl}/*`)));
}, 120_000);

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe(`isolated mode on ${HOST}, declared only by policy`, () => {
  it('the secure composer and readers load; bob reads exactly what alice typed; the server holds envelopes only', async () => {
    const [a, b] = await Promise.all([open(alice, 'bob'), open(bob, 'alice')]);
    const composer = await secureFrame(a, 'composer', (f) =>
      f.evaluate(() => !!document.getElementById('veil-indicator')),
    );
    await a.bringToFront();
    await composer.focus('#input');
    await a.keyboard.type(SECRET);
    await a.keyboard.press('Enter');
    const reader = await secureFrame(b, 'reader', (f) =>
      f.evaluate((s) => [...document.querySelectorAll('.veil-reader-text')].some((e) => e.textContent === s), SECRET),
    );
    expect(
      await reader.evaluate(
        (s) =>
          [...document.querySelectorAll<HTMLElement>('.veil-reader')].find(
            (r) => r.querySelector('.veil-reader-text')?.textContent === s,
          )?.dataset.status,
        SECRET,
      ),
    ).toBe('decrypted');
    const rec = server.inspect();
    expect(rec.messages.length).toBeGreaterThan(0);
    for (const m of rec.messages) expect(m.text).toMatch(/^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/);
    expect(leakedSubstrings(JSON.stringify([rec.messages, rec.drafts, rec.requests]), SECRET)).toEqual([]);
  });
});
