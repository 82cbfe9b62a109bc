/**
 * Keys from Veil's key service in real browsers, against the real service (keyservice/: SQLite,
 * SoftHSM2) and the local OpenID Connect identity provider (oidc-provider): the policy names the
 * service and the identity provider and holds no secret; alice (sales, board) and bob (sales) sign
 * in through the identity window ("Sign in to Veil" under the composer) and chat in a sales
 * conversation; bob cannot read a board message ("Unknown key"; his background never held the
 * board key); with the service down, sends are blocked after the grace period, with the line
 * saying since when; dave signs in and fetches keys in Firefox.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { startInstance, type Instance } from '../../keyservice/app';
import { configFromEnv } from '../../keyservice/config';
import { initSoftHsmToken } from '../../keyservice/hsm';
import { DEMO_USERS, startIdp, type Idp } from '../../keyservice/idp/idp';
import { findEnvelopes } from '../../lib/crypto/codec';
import { parseHeader } from '../../lib/crypto/envelope';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { launchUser, waitFor, waitForPolicy, type User } from '../support/browser';
import { launchFirefoxUser, openProtected } from '../support/firefox';
import { typeAndSendAny } from '../support/users';
import { shot } from '../support/screenshots';
import { composerStatus, openChat, openOptions, typeAndSend, waitForMessage } from '../support/veil-ui';

const dir = mkdtempSync(join(tmpdir(), 'veil-ks-e2e-'));
const PIN = `pin-${process.pid}`;
let server: ChatServer;
let idp: Idp;
let env: Record<string, string>;
let ks: Instance & { url: string };
let sales = '';
let board = '';
let alice: User;
let bob: User;
let policyText = '';

beforeAll(async () => {
  await initSoftHsmToken(join(dir, 'hsm'), 'veil-e2e', PIN);
  idp = await startIdp({
    users: { ...DEMO_USERS, dave: { password: 'dave-password', name: 'Dave', groups: ['sales'] } },
  });
  env = {
    VEIL_KS_ISSUER: idp.issuer,
    VEIL_KS_AUDIENCE: idp.clientId,
    VEIL_KS_DATABASE: `sqlite:${join(dir, 'keys.db')}`,
    VEIL_KS_TOKEN_LABEL: 'veil-e2e',
    VEIL_KS_PIN: PIN,
    VEIL_KS_PORT: '0',
    VEIL_KS_AUDIT: join(dir, 'audit.jsonl'),
  };
  ks = await startInstance(configFromEnv({ ...env, VEIL_KS_INSTANCE: 'ks-0' }), { createKek: true });
  await ks.service.map('sales', { site: '*', conversations: ['dm-*'] }, 'admin');
  await ks.service.map('board', { site: '*', conversations: ['ch-general'] }, 'admin');
  sales = (await ks.service.createGroupKey('sales', 'Sales 2026', 'admin')).id;
  board = (await ks.service.createGroupKey('board', 'Board 2026', 'admin')).id;
  server = await startChatServer();
  // alice's browser gets post-quantum X-Wing releases, bob's classical X25519 ones.
  policyText = policyFor(ks.url, { kem: 'x-wing' });
  [alice, bob] = await Promise.all([
    launchUser('alice', { policy: policyText }),
    launchUser('bob', { policy: policyFor(ks.url, { kem: 'x25519' }) }),
  ]);
  await Promise.all([waitForPolicy(alice, `${server.url}/*`), waitForPolicy(bob, `${server.url}/*`)]);
}, 90_000);

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await Promise.all([server?.close(), ks?.close(), idp?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function veilPolicy(url: string, settings: object) {
  return {
    protectedSites: [{ adapter: 'fixture-chat', matches: [`${server.url}/*`] }],
    keyService: { url, issuer: idp.issuer, clientId: idp.clientId, ...settings },
  };
}

function policyFor(url: string, settings: object): string {
  return JSON.stringify({ '3rdparty': { extensions: { [CHROME_EXTENSION_ID]: veilPolicy(url, settings) } } });
}

/** Clicks "Sign in to Veil" under the composer and signs in on the identity provider's form. */
async function signIn(user: { name: string; browser: Browser }, page: Page): Promise<void> {
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.veil-composer-action')].some((b) => b.textContent === 'Sign in to Veil'),
  );
  const buttons = await page.$$('.veil-composer-action');
  const labels = await Promise.all(buttons.map((b) => b.evaluate((e) => e.textContent)));
  await page.bringToFront();
  await buttons[labels.indexOf('Sign in to Veil')]!.click(); // a real (trusted) click: a synthetic one is ignored
  const target = await user.browser.waitForTarget((t) => t.url().startsWith(`${idp.issuer}/interaction/`), {
    timeout: 20_000,
  });
  const login = (await target.asPage())!;
  await login.waitForSelector('#username');
  await login.type('#username', user.name);
  await login.type('#password', idp.users[user.name]!.password);
  await login.click('#submit');
}

const statusSays = (page: Page, text: string, timeout = 20_000) =>
  page.waitForFunction(
    (t) => (document.querySelector('.veil-composer-status')?.textContent ?? '').includes(t),
    { timeout },
    text,
  );

/** The key ids the background holds, asked through Veil's own options page. */
async function keyIds(user: User): Promise<string[]> {
  const page = await user.newPage();
  await page.goto(`chrome-extension://${user.extensionId}/options.html`);
  const list = await page.evaluate(() =>
    (globalThis as any).chrome.runtime.sendMessage({ veil: 1, type: 'keys/list', req: {} }),
  );
  await page.close();
  return list.keys.map((k: { id: string }) => k.id);
}

/** "Refresh keys now" in the user's own Veil options page (a real click), until it reports the outcome. */
async function refreshKeys(user: User): Promise<string> {
  const page = await openOptions(user);
  await page.waitForSelector('#keyservice-section:not([hidden]) #ks-refresh:not([disabled])');
  await page.bringToFront();
  await page.click('#ks-refresh');
  await page.waitForFunction(() => /Done|blocked/.test(document.getElementById('ks-result')?.textContent ?? ''));
  const state = await page.$eval('#ks-state', (e) => e.textContent ?? '');
  await page.close();
  return state;
}

/** The README's picture of the options page's key service section, once it shows who is signed in. */
async function showKeyServiceSection(user: User): Promise<void> {
  const page = await openOptions(user);
  await page.waitForFunction(
    (name) => (document.getElementById('ks-state')?.textContent ?? '').includes(`Signed in as ${name}`),
    {},
    user.name,
  );
  expect(await page.$eval('#ks-state', (e) => e.textContent)).toMatch(/Keys fetched at .*: 3 in this browser/);
  await shot(page, 'keyservice-options', { element: '#keyservice-section' });
  await page.close();
}

/** The key id an envelope the vendor stored names in its header. */
function keyIdOf(envelopeText: string): string {
  const found = findEnvelopes(envelopeText)[0];
  if (found?.kind !== 'envelope') throw new Error('no envelope');
  const h = parseHeader(found.frame);
  if ('error' in h) throw new Error(h.error);
  return Buffer.from(h.keyId).toString('hex');
}

describe('key service (Chromium)', () => {
  it('the policy holds no secret', async () => {
    const secrets = await ks.service.exportKeys(undefined, 'test');
    expect(secrets.map((k) => k.id).sort()).toEqual([sales, board].sort());
    for (const k of secrets) {
      expect(policyText).not.toContain(Buffer.from(k.secret).toString('base64'));
      expect(policyText).not.toContain(Buffer.from(k.secret).toString('base64url'));
      expect(policyText).not.toContain(Buffer.from(k.secret).toString('hex'));
    }
    expect(policyText).not.toMatch(/secret/i);
  });

  it('before sign-in sends are blocked with "Sign in to Veil"; after it, alice and bob chat in sales', async () => {
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    for (const p of [a, b]) {
      const status = await composerStatus(p);
      expect(status.state).toBe('error');
      expect(status.text).toContain('Sign in to Veil');
    }
    const before = server.inspect().messages.length;
    await typeAndSend(a, 'not before sign-in');
    await statusSays(a, 'Not sent');
    expect(server.inspect().messages.length).toBe(before);
    expect(await a.$eval('#compose', (e) => (e as HTMLTextAreaElement).value)).toBe('not before sign-in');
    await a.$eval('#compose', (e) => ((e as HTMLTextAreaElement).value = ''));

    await signIn(alice, a);
    await signIn(bob, b);
    await Promise.all([statusSays(a, 'Sales 2026'), statusSays(b, 'Sales 2026')]);
    const text = 'Q3 pipeline, sales only 🔐';
    await typeAndSend(a, text);
    expect((await waitForMessage(b, (m) => m.status === 'decrypted', 'bob to decrypt')).text).toBe(text);
    expect(JSON.stringify(server.inspect().messages)).not.toContain('Q3 pipeline');
    await Promise.all([a.close(), b.close()]);
  });

  it('bob cannot read a board message: Unknown key, and the board key never reached him', async () => {
    const a = await openChat(alice, server.url, 'general');
    await statusSays(a, 'Board 2026');
    await typeAndSend(a, 'Board minutes: merger');
    const b = await openChat(bob, server.url, 'general');
    const shown = await waitForMessage(b, (m) => m.status === 'unknown-key', 'the board message at bob');
    expect(shown.badge).toContain('Unknown key');
    expect(shown.text).not.toContain('merger');
    expect(await keyIds(bob)).toEqual([sales]);
    expect((await keyIds(alice)).sort()).toEqual([sales, board].sort());
    await Promise.all([a.close(), b.close()]);
  });

  it('the service down: keys last the grace period, then sends are blocked with "unreachable since"', async () => {
    // carol's own instance of the service (same database and HSM key), so it can go down alone.
    const mine = await startInstance(configFromEnv({ ...env, VEIL_KS_INSTANCE: 'ks-carol' }));
    let down = false;
    const carol = await launchUser('carol', { policy: policyFor(mine.url, { offlineGraceHours: 0.005 }) }); // 18 s
    try {
      await waitForPolicy(carol, `${server.url}/*`);
      const page = await openChat(carol, server.url, 'alice');
      await signIn(carol, page);
      await statusSays(page, 'Sales 2026');
      expect(await keyIds(carol)).toEqual([sales]);
      await mine.close();
      down = true;
      await page.waitForFunction(
        () =>
          /unreachable since \d{1,2}:\d{2}/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
        { timeout: 60_000 },
      );
      const before = server.inspect().messages.length;
      await typeAndSend(page, 'after the grace period');
      await page.waitForFunction(() =>
        /Not sent: .*unreachable since/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      );
      expect(server.inspect().messages.length).toBe(before);
      expect(await page.$eval('#compose', (e) => (e as HTMLTextAreaElement).value)).toBe('after the grace period');
      expect(await keyIds(carol)).toEqual([]);
    } finally {
      if (!down) await mine.close();
      await carol.close();
    }
  });

  it('carol leaves sales: the key rotates, she cannot read what is sent afterwards and keeps what she read', async () => {
    const carol = await launchUser('carol', { policy: policyText });
    try {
      await waitForPolicy(carol, `${server.url}/*`);
      const c = await openChat(carol, server.url, 'alice');
      await signIn(carol, c);
      await statusSays(c, 'Sales 2026');
      const a = await openChat(alice, server.url, 'carol');
      const before = 'Before you go: Q4 targets are 12 units';
      await typeAndSend(a, before);
      expect((await waitForMessage(c, (m) => m.text === before, 'carol to read')).status).toBe('decrypted');

      // IT removes carol from sales at the identity provider and rotates the sales key.
      idp.setGroups('carol', []);
      const next = await ks.service.rotate('sales', 'admin', 'carol left sales');
      // Her browser's next refresh (here: "Refresh keys now") asks the identity provider again:
      // her groups are gone, and so are her keys, though her ID token would still be valid for an hour.
      expect(await refreshKeys(carol)).toContain('carol');
      expect(await keyIds(carol)).toEqual([]);
      // alice's next refresh brings the new key; her next message is sealed under it.
      await refreshKeys(alice);
      await showKeyServiceSection(alice);
      expect(await keyIds(alice)).toEqual(expect.arrayContaining([sales, board, next.id]));
      await statusSays(a, 'Sales 2026');
      const after = 'After you left: Q1 plan is 20 units';
      const count = server.inspect().messages.length;
      await typeAndSend(a, after);
      await waitFor(async () => server.inspect().messages.length > count, "alice's message stored");
      expect(keyIdOf(server.inspect().messages.at(-1)!.text)).toBe(next.id);

      const shown = await waitForMessage(c, (m) => m.status === 'unknown-key', 'the message after she left');
      expect(shown.text).not.toContain('Q1 plan');
      // What she read before stays on her screen, decrypted.
      expect((await waitForMessage(c, (m) => m.text === before, 'her earlier message')).status).toBe('decrypted');
      await Promise.all([a.close(), c.close()]);
    } finally {
      idp.setGroups('carol', ['sales']);
      await carol.close();
    }
  });
});

describe('key service (Firefox)', () => {
  it("dave signs in through Firefox's identity window and chats in sales with alice in Chromium", async () => {
    const dave = await launchFirefoxUser('dave', { policy: veilPolicy(ks.url, {}) });
    try {
      const page = await openProtected(dave, `${server.url}/?user=dave&conv=alice`);
      expect((await composerStatus(page)).text).toContain('Sign in to Veil');
      await signIn(dave, page);
      await statusSays(page, 'Sales 2026', 30_000);
      const a = await openChat(alice, server.url, 'dave');
      await typeAndSendAny(page, 'from Firefox, sales only');
      expect((await waitForMessage(a, (m) => m.from === 'dave' && m.status === 'decrypted', 'alice')).text).toBe(
        'from Firefox, sales only',
      );
      await a.close();
    } finally {
      await dave.close();
    }
  });
});
