/**
 * a custom adapter given only in policy JSON protects a chat no built-in adapter knows
 * ("Acme Chat", fixtures/chat/public/acme/: other markup, a plain contenteditable composer, a send
 * button outside any form). The policy goes where an enterprise puts it, Chromium's managed policy
 * folder; each browser reads it from its own copy of
 * /etc/chromium/policies (test/support/browser.ts), so no other browser on the machine sees it.
 *
 * Also: the adapter forbids chunking, so a message too long for the chat is refused with a clear
 * error (never truncated, never split), and an invalid custom adapter makes its site fail closed.
 */
import { base64 } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import type { CustomAdapterSpec } from '../../lib/adapters/custom';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { launchUser, type User, waitForPolicy } from '../support/browser';
import { makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';

/** What an admin writes for Acme Chat (the worked example in docs/adapters.md). */
const ACME: CustomAdapterSpec = {
  name: 'Acme Chat',
  selectors: {
    composer: ['.acme-compose[contenteditable="true"]'],
    sendButton: ['button.acme-send'],
    message: ['section.thread > article.post'],
    messageText: ['p.body'],
    messageAuthor: ['.who'],
  },
  authorAttribute: 'data-author',
  messageIdAttribute: 'data-post-id',
  conversationId: { from: 'attribute', selector: 'section.thread', attribute: 'data-room' },
  currentUser: { from: 'text', selector: 'header .acme-user' },
  composerStrategy: 'auto',
  sendTrigger: 'click',
  maxMessageChars: 400,
  allowChunks: false,
};

let server: ChatServer;
let alice: User;
let bob: User;
const key = makeKey('Acme DMs', { site: 'custom', conversations: ['dm-alice-bob'] });

const vendorRecords = () => JSON.stringify(server.inspect().requests.filter((r) => r.path.startsWith('/api/messages')));

async function open(user: User, file: string, other: string): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`${server.url}/acme/${file}?user=${user.name}&room=${other}`);
  await page.waitForSelector('.veil-composer-status[data-state="ready"], .veil-composer-status[data-state="error"]');
  return page;
}

beforeAll(async () => {
  server = await startChatServer({ port: 0 });
  const broken = { ...ACME, selectors: { ...ACME.selectors, message: ['article[data-author='] } }; // invalid CSS
  const policy = JSON.stringify({
    '3rdparty': {
      extensions: {
        [CHROME_EXTENSION_ID]: {
          protectedSites: [
            { adapter: 'custom', matches: [`${server.url}/acme/index.html*`], custom: ACME },
            { adapter: 'custom', matches: [`${server.url}/acme/broken.html*`], custom: broken },
          ],
          keys: [
            {
              id: key.id,
              secret: base64.encode(key.secret),
              label: key.label,
              scope: key.scope,
              status: 'active',
              createdAt: key.createdAt,
            },
          ],
        },
      },
    },
  });
  [alice, bob] = await Promise.all([launchUser('alice', { policy }), launchUser('bob', { policy })]);
  await Promise.all([alice, bob].map((u) => waitForPolicy(u, `${server.url}/acme/index.html*`)));
}, 120_000);

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('custom adapter from policy JSON only', () => {
  let a: Page;
  let b: Page;

  it('protects Acme Chat: alice -> bob decrypted and exact, the server saw only an envelope', async () => {
    [a, b] = await Promise.all([open(alice, 'index.html', 'bob'), open(bob, 'index.html', 'alice')]);
    expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toContain(key.label);
    const text = 'Acme secret: pricing changes on Monday 📈';
    await a.focus('.acme-compose');
    await a.keyboard.sendCharacter(text);
    await a.keyboard.press('Enter');
    await b.waitForFunction(
      (t) =>
        [...document.querySelectorAll('article.post[data-veil-status="decrypted"] [data-veil-shown]')].some(
          (e) => e.textContent === t,
        ),
      { timeout: 20_000 },
      text,
    );
    const stored = server.inspect().messages;
    expect(stored).toHaveLength(1);
    expect(stored[0]!.text).toMatch(/^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/);
    expect(leakedSubstrings(vendorRecords(), text, 6)).toEqual([]);
    expect(await a.$eval('.acme-compose', (el) => el.textContent)).toBe('');
  });

  it('refuses a message longer than the adapter allows (no chunks): nothing sent, text kept, reason shown', async () => {
    const before = server.inspect().messages.length;
    const long = 'This report is far too long for Acme. '.repeat(20);
    await a.focus('.acme-compose');
    await a.keyboard.sendCharacter(long);
    await a.click('button.acme-send');
    await a.waitForFunction(() => /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''));
    expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toMatch(/too long for this chat/);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.inspect().messages.length).toBe(before);
    expect(await a.$eval('.acme-compose', (el) => (el as HTMLElement).innerText.trim())).toBe(long.trim());
    expect(leakedSubstrings(vendorRecords(), long, 6)).toEqual([]);
  });

  it('an invalid custom adapter is reported and its site fails closed (Enter and button)', async () => {
    const page = await open(alice, 'broken.html', 'bob');
    const status = await page.$eval('.veil-composer-status', (el) => ({
      state: (el as HTMLElement).dataset.state,
      text: el.textContent,
    }));
    expect(status.state).toBe('error');
    expect(status.text).toMatch(/custom adapter .* is invalid .*invalid CSS selector/);
    const before = server.inspect().messages.length;
    const text = 'must not leave through a broken adapter';
    await page.focus('.acme-compose');
    await page.keyboard.sendCharacter(text);
    await page.keyboard.press('Enter');
    await page.click('button.acme-send');
    await new Promise((r) => setTimeout(r, 500));
    expect(server.inspect().messages.length).toBe(before);
    expect(leakedSubstrings(vendorRecords(), text, 6)).toEqual([]);
    await page.close();
  });
});
