/**
 * Veil's own surfaces pass an automated accessibility check (axe-core, WCAG 2.1 A/AA):
 * the popup, the options page, the first-run page, and a conversation with decrypted messages,
 * status badges and a blocked send's fix button; in English and Chinese, light and dark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { axeViolations } from '../support/axe';
import { launchUser, type User } from '../support/browser';
import { bundleText, makeKey } from '../support/keys';
import { composerStatus, importBundle, openChat, openOptions, typeAndSend, waitForMessage } from '../support/veil-ui';

const PASS = 'accessibility passphrase';
let server: ChatServer;
let alice: User;
let zhUser: User;

beforeAll(async () => {
  server = await startChatServer();
  [alice, zhUser] = await Promise.all([launchUser('alice'), launchUser('alice-zh', { lang: 'zh-CN' })]);
  const team = makeKey('Team', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
  const file = await bundleText([team], PASS);
  for (const u of [alice, zhUser]) expect((await importBundle(u, file, PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await Promise.all([alice?.close(), zhUser?.close()]);
  await server?.close();
});

describe('accessibility (axe-core)', () => {
  it('the options page has no WCAG A/AA violations', async () => {
    const page = await openOptions(alice);
    await page.waitForSelector('#keys tbody tr');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('the popup has no WCAG A/AA violations', async () => {
    const page = await alice.newPage();
    await page.goto(`chrome-extension://${alice.extensionId}/popup.html`);
    await page.waitForFunction(() => (document.body.textContent ?? '').trim().length > 20);
    expect(await axeViolations(page)).toEqual([]);
  });

  it("Veil's badges and composer line in a decrypted conversation have no violations", async () => {
    const page = await openChat(alice, server.url, 'bob');
    await composerStatus(page);
    await typeAndSend(page, 'accessible secret');
    await waitForMessage(page, (m) => m.text === 'accessible secret' && m.status === 'decrypted', 'decrypted');
    // Only Veil's own elements are ours to answer for; the host chat's markup is the vendor's.
    for (const selector of ['#messages', '.veil-composer-status']) {
      expect(await axeViolations(page, selector), selector).toEqual([]);
    }
    // Badges are reachable by keyboard and labelled for screen readers.
    const badge = await page.$eval('.veil-badge', (b) => ({
      tab: (b as HTMLElement).tabIndex,
      label: b.getAttribute('aria-label'),
    }));
    expect(badge.tab).toBe(0);
    expect(badge.label).toMatch(/^Veil: Decrypted\. /);
  });

  it("a blocked send's line and its fix button are labelled and keyboard reachable", async () => {
    const page = await openChat(alice, server.url, 'carol');
    await page.waitForSelector('.veil-composer-status[data-state="error"] .veil-composer-action');
    expect(await axeViolations(page, '.veil-composer-status'), 'composer line').toEqual([]);
    // Tab from the compose box reaches the fix (the chat's Send button comes first).
    await page.focus('#compose');
    const reached: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.className ?? ''));
    }
    expect(reached).toContain('veil-composer-action');
    await page.close();
  });

  it.each([
    ['light', alice],
    ['dark', alice],
    ['Chinese', undefined],
  ] as const)('options, popup and welcome (%s) have no violations', async (variant, who) => {
    const user = who ?? zhUser;
    for (const path of ['options.html', 'popup.html', 'welcome.html']) {
      const page = await user.newPage();
      if (variant === 'dark') await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
      await page.goto(`chrome-extension://${user.extensionId}/${path}`);
      await page.waitForFunction(
        () =>
          (document.body.textContent ?? '').trim().length > 20 &&
          !/^[a-z]+[A-Z]/.test(document.querySelector('h1')?.textContent ?? ''),
      );
      if (path === 'options.html') await page.waitForSelector('#keys tbody tr');
      if (path === 'welcome.html') await page.waitForFunction(() => !!document.body.dataset.welcome);
      if (variant === 'Chinese') expect(await page.$eval('html', (e) => e.lang), path).toBe('zh-CN');
      expect(await axeViolations(page), `${path} (${variant})`).toEqual([]);
      await page.close();
    }
  });
});
