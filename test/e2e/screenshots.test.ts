/**
 * The README's screenshots: what an employee sees in a chat (decrypted messages with their badges,
 * light and dark, English and Chinese), what the vendor stores, a blocked send with its fix, the
 * popup, the options page, and what an admin sees for an invalid policy. Each picture is taken
 * only after the test has checked that the page shows what the README says it shows.
 *
 * `npm test` writes them to test-results/screenshots (ignored by git), so testing leaves the tree
 * clean; `npm run screenshots` sets VEIL_SCREENSHOTS_DIR=docs/screenshots to refresh the README's.
 *
 * The policy-error pictures come from a browser started under a real, invalid enterprise policy
 * (its own copy of /etc/chromium/policies: test/support/browser.ts), read by the real extension.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { createBundle, directoryEntryOf } from '../../lib/crypto/bundle';
import type { SigningIdentity } from '../../lib/keys/model';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { dismissWelcome, launchUser, waitFor, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { envelopeFor, makeKey, TEST_KDF } from '../support/keys';
import {
  composerStatus,
  importBundle,
  keyTable,
  openChat,
  openPopup,
  shownMessages,
  typeAndSend,
  waitForMessage,
} from '../support/veil-ui';
import { shot } from '../support/screenshots';

const PASS = 'screenshot passphrase';
const team = makeKey('Team key', { site: 'fixture-chat', conversations: ['dm-alice-bob', 'ch-general'] });
const identity = (userId: string): SigningIdentity => ({
  site: 'fixture-chat',
  userId,
  secretKey: ed25519.utils.randomSecretKey(),
  createdAt: Date.now(),
});
const ids = { alice: identity('alice'), bob: identity('bob') };
const directory = Object.values(ids).map(directoryEntryOf);

let server: ChatServer;
let alice: User;
let bob: User;
let bobZh: User;
let vendor: User;

const inject = (from: string, to: string, text: string) => injectMessage(server, from, to, text);

function seal(text: string, conversationId: string, key = team, signingKey?: Uint8Array): string {
  return envelopeFor(key, text, { conversationId, senderId: 'alice' }, signingKey);
}

/** What the conversation shows, message by message: [text, Veil status, badge]. */
const seen = async (page: Page) =>
  (await shownMessages(page)).map((m) => [m.text.replace(m.badge, '').trim(), m.status, m.badge]);

/** Whether the page is in a dark scheme, and the background colour of its first badge of a kind. */
const badgeLook = (page: Page, status: string) =>
  page.evaluate(
    (s) => ({
      dark: matchMedia('(prefers-color-scheme: dark)').matches,
      background: getComputedStyle(document.querySelector(`#messages .veil-badge[data-veil-status="${s}"]`)!, '::after')
        .backgroundColor,
    }),
    status,
  );

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob, bobZh, vendor] = await Promise.all([
    launchUser('alice'),
    launchUser('bob', { keepWelcome: true }),
    launchUser('bob-zh', { lang: 'zh-CN', keepWelcome: true }),
    launchUser('vendor-view', { extension: false }),
  ]);
  await Promise.all([dismissWelcome(bob), dismissWelcome(bobZh)]); // their popups are opened later
  for (const [user, who] of [
    [alice, ids.alice],
    [bob, ids.bob],
    [bobZh, ids.bob],
  ] as const) {
    const file = JSON.stringify(await createBundle([team], PASS, { kdf: TEST_KDF, identities: [who], directory }));
    expect((await importBundle(user, file, PASS)).tone).toBe('ok');
  }
});

afterAll(async () => {
  await Promise.all([alice, bob, bobZh, vendor].map((u) => u?.close()));
  await server?.close();
});

describe('README screenshots', () => {
  it('employee view: alice sends, bob reads (badges in light and dark, English and Chinese), the vendor sees ciphertext', async () => {
    const a = await openChat(alice, server.url, 'bob');
    await composerStatus(a);
    const sent = ['Hi Bob — the launch moves to 3 May 🚀', 'Draft contract attached, 你好 👋'];
    for (const text of sent) {
      await typeAndSend(a, text);
      await new Promise((r) => setTimeout(r, 150));
    }
    // What else a conversation can hold: a message altered by the vendor, one under a key bob
    // lacks, one posted again, and one that was never encrypted.
    const foreign = makeKey('Other company', { site: '*', conversations: ['*'] });
    const tampered = [...seal('numbers for Q3', 'dm-alice-bob', team, ids.alice.secretKey)];
    tampered[30] = tampered[30] === 'a' ? 'b' : 'a';
    await inject('alice', 'bob', tampered.join(''));
    await inject('alice', 'bob', seal('from elsewhere', 'dm-alice-bob', foreign));
    await inject('alice', 'bob', server.inspect().messages[0]!.text);
    await inject('alice', 'bob', 'sent from my phone, unencrypted');
    // One of every kind, in order, each with its badge (the replay shows its text, flagged).
    const conversation = [
      [sent[0], 'decrypted', expect.stringContaining('🔒 Decrypted')],
      [sent[1], 'decrypted', expect.stringContaining('🔒 Decrypted')],
      ['', 'tampered', '⚠ Tampered'],
      ['', 'unknown-key', `🔑 Unknown key ${foreign.id}`],
      [sent[0], 'replayed', '⚠ Replayed'],
      ['sent from my phone, unencrypted', null, '⚠ Not encrypted'],
    ];
    const showsAll = async (page: Page, who: string) => {
      await waitForMessage(page, (m) => m.text === 'sent from my phone, unencrypted' && !!m.badge, `${who}: plain`);
      await waitForMessage(page, (m) => m.status === 'replayed', `${who}: replayed`);
    };

    await a.reload();
    await showsAll(a, 'alice');
    expect(await seen(a)).toEqual(conversation);
    expect((await composerStatus(a)).text).toContain('encrypted with “Team key”');
    await shot(a, 'alice-sends');

    const b = await openChat(bob, server.url, 'alice');
    await showsAll(b, 'bob');
    expect(await seen(b)).toEqual(conversation);
    expect((await composerStatus(b)).text).toContain('encrypted with “Team key”');
    // The detail a mouse user gets on hover, shown for keyboard focus too: key, and verified sender.
    await b.focus('#messages .veil-badge[data-veil-status="decrypted"]');
    const focused = await b.evaluate(() => [
      document.activeElement?.getAttribute('data-veil-label'),
      document.activeElement?.getAttribute('title'),
    ]);
    expect(focused[0]).toContain('✓ alice'); // signed, and the signature verified
    expect(focused[1]).toContain('End-to-end encrypted with key');
    await shot(b, 'bob-reads');
    const light = await badgeLook(b, 'decrypted');
    await b.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    const dark = await badgeLook(b, 'decrypted');
    expect([light.dark, dark.dark]).toEqual([false, true]);
    expect(dark.background).not.toBe(light.background); // Veil's badges follow the page's scheme
    await shot(b, 'bob-reads-dark');

    const z = await openChat(bobZh, server.url, 'alice');
    await showsAll(z, 'bob (zh)');
    expect((await seen(z)).map((m) => m[2])).toEqual([
      expect.stringContaining('🔒 已解密'),
      expect.stringContaining('🔒 已解密'),
      '⚠ 已被篡改',
      `🔑 未知密钥 ${foreign.id}`,
      '⚠ 重放',
      '⚠ 未加密',
    ]);
    expect((await composerStatus(z)).text).toContain('“Team key”');
    await shot(z, 'bob-reads-zh');

    // The vendor's view of the same conversation: envelopes, no plaintext, no Veil.
    const raw = await openChat(vendor, server.url, 'alice', 'bob');
    await raw.waitForSelector('#messages li');
    const stored = await raw.$$eval('#messages .text', (els) => els.map((e) => e.textContent ?? ''));
    expect(stored.slice(0, 2).every((t) => t.startsWith('VEIL1'))).toBe(true);
    expect(stored.join('\n')).not.toContain('launch moves');
    expect(await raw.$('.veil-badge')).toBeNull();
    await shot(raw, 'vendor-sees');
    await Promise.all([a.close(), b.close(), z.close(), raw.close()]);
  });

  it('a blocked send explains itself and offers the fix', async () => {
    const page = await openChat(bob, server.url, 'carol');
    await composerStatus(page);
    const before = server.inspect().messages.length;
    await typeAndSend(page, 'Can you review the budget before Friday?');
    await page.waitForFunction(() =>
      /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
    );
    expect(await page.$eval('#compose', (e) => (e as HTMLTextAreaElement).value)).toBe(
      'Can you review the budget before Friday?',
    );
    expect(await page.$eval('.veil-composer-status button', (e) => e.textContent)).toBe('Open Veil options');
    expect(server.inspect().messages.length).toBe(before);
    await shot(page, 'blocked-send');
    await page.close();
  });

  it('the popup and the options page', async () => {
    const chat = await openChat(bob, server.url, 'alice');
    await composerStatus(chat);
    const popup = await openPopup(bob, chat);
    expect(await popup.$eval('#site-state', (e) => e.getAttribute('data-state'))).toBe('protected');
    expect(await popup.$eval('#keys', (e) => e.textContent)).toContain('Team key');
    await shot(popup, 'popup', { element: 'main' });
    await popup.close();
    const popupZh = await openPopup(bobZh, await openChat(bobZh, server.url, 'alice'));
    expect(await popupZh.$eval('#site-state', (e) => e.getAttribute('data-state'))).toBe('protected');
    expect(await popupZh.$eval('#verdict-title', (e) => e.textContent)).toMatch(/\p{Script=Han}/u);
    await shot(popupZh, 'popup-zh', { element: 'main' });
    await popupZh.close();
    const options = await bob.newPage();
    await options.setViewport({ width: 1100, height: 1500 });
    await options.goto(`chrome-extension://${bob.extensionId}/options.html`);
    await options.waitForSelector('#keys tbody tr');
    expect(await keyTable(options)).toEqual([
      expect.objectContaining({ id: team.id, label: 'Team key', status: expect.stringMatching(/active/i) }),
    ]);
    await shot(options, 'options');
    await Promise.all([options.close(), chat.close()]);
  });

  it("an admin's invalid policy: the popup and the options page name the bad setting", async () => {
    // A typo in the adapter name, as an admin might make it, in the file Chromium reads.
    const admin = await launchUser('admin-view', {
      policy: {
        '3rdparty': {
          extensions: {
            [CHROME_EXTENSION_ID]: { protectedSites: [{ adapter: 'fixture-chatt', matches: [`${server.url}/*`] }] },
          },
        },
      },
    });
    try {
      const w = await admin.worker();
      await waitFor(
        async () =>
          (
            await w.evaluate(async () => JSON.stringify(await (globalThis as any).chrome.storage.managed.get(null)))
          ).includes('fixture-chatt'),
        'the invalid policy',
        30_000,
      );
      const chat = await openChat(admin, server.url, 'bob', 'alice');
      await chat.waitForFunction(
        () => /policy is invalid/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
        { timeout: 15_000 },
      );
      const popup = await openPopup(admin, chat);
      expect(await popup.$eval('#site-state', (e) => e.getAttribute('data-state'))).toBe('failed-closed');
      const problems = await popup.$$eval('#policy-errors li', (els) => els.map((e) => e.textContent).join('\n'));
      expect(problems).toContain('protectedSites[0].adapter: "fixture-chatt" is not a Veil adapter');
      await shot(popup, 'policy-error', { element: 'main' });
      await popup.close();

      const options = await admin.newPage();
      await options.setViewport({ width: 1100, height: 700 });
      await options.goto(`chrome-extension://${admin.extensionId}/options.html`);
      await options.waitForSelector('#policy-errors:not([hidden])');
      expect(await options.$eval('#policy-errors', (e) => e.textContent)).toContain('protectedSites[0].adapter');
      await shot(options, 'policy-error-options');
      await Promise.all([options.close(), chat.close()]);
    } finally {
      await admin.close();
    }
  });
});
