/**
 * An invalid enterprise policy never fails open. With no valid policy ever seen, a typo in a match
 * pattern (`http://chat.acme.test:PORT` without a path) still protects the chat it names: sending
 * there is blocked, the text stays, and the line under the composer (in the vendor's DOM) says only
 * that the policy is invalid, never which host, adapter or setting; the popup has the details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { launchUser, waitFor, type User } from '../support/browser';
import { openPopup } from '../support/veil-ui';

const HOST = 'chat.acme.test';
let server: ChatServer;
let carol: User;
let base = '';

beforeAll(async () => {
  server = await startChatServer();
  base = `http://${HOST}:${server.port}`;
  const policy = {
    '3rdparty': {
      extensions: {
        [CHROME_EXTENSION_ID]: {
          protectedSites: [{ adapter: 'fixture-chat', matches: [base] }],
          requireEncryption: true,
        },
      },
    },
  };
  carol = await launchUser('carol', {
    policy,
    protect: false,
    args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--unsafely-treat-insecure-origin-as-secure=${base}`],
  });
  const w = await carol.worker();
  await waitFor(
    async () =>
      JSON.stringify(
        await w.evaluate(() => (globalThis as any).chrome.scripting.getRegisteredContentScripts()),
      ).includes(HOST),
    'the invalid policy',
    30_000,
  );
}, 60_000);

afterAll(async () => {
  await carol?.close();
  await server?.close();
});

describe('an invalid policy with no valid one before it', () => {
  it('a pattern typo still protects its host: nothing is sent, and the page learns no detail', async () => {
    const page = await carol.newPage();
    await page.goto(`${base}/?user=carol&conv=alice`);
    await page.waitForSelector('#compose');
    await page.waitForSelector('.veil-composer-status[data-state="error"]', { timeout: 15_000 });
    const text = 'must not leave under a broken policy';
    await page.bringToFront();
    await page.focus('#compose');
    await page.keyboard.sendCharacter(text);
    await page.keyboard.press('Enter');
    await page.click('#send');
    await new Promise((r) => setTimeout(r, 500));
    expect(server.inspect().messages).toEqual([]);
    expect(await page.$eval('#compose', (e) => (e as HTMLTextAreaElement).value)).toBe(text);
    const line = await page.$eval('.veil-composer-status', (e) => e.textContent ?? '');
    expect(line).toContain("Veil's policy is invalid — see the Veil icon");
    expect(line).not.toMatch(/protectedSites|fixture|acme|matches/);

    const popup = await openPopup(carol, page);
    expect(await popup.$eval('#site-state', (e) => e.getAttribute('data-state'))).toBe('failed-closed');
    const problems = await popup.$$eval('#policy-errors li', (els) => els.map((e) => e.textContent).join('\n'));
    expect(problems).toContain('protectedSites[0].matches[0]');
    await Promise.all([popup.close(), page.close()]);
  });
});
