/**
 * Issue #4 in Firefox ESR: the policy the admin CLI emits for Firefox reaches Veil as managed
 * storage (the per-user managed-storage manifest under each user's temp HOME, the same data the
 * 3rdparty policy in policies.json gives), two Firefox users converse with no set-up, and a
 * Chromium user holding the same keys (the admin's key bundle, imported) reads them and is read.
 * No file outside the tests' temp folders is written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { GECKO_ID } from '../../lib/policy/ids';
import { runAdmin } from '../../scripts/admin-cli';
import { launchUser, type User } from '../support/browser';
import { launchFirefoxUser, type FirefoxUser } from '../support/firefox';
import { leakedSubstrings } from '../support/leaks';
import { composerStatus, importBundle, openChat, typeAndSend, waitForMessage } from '../support/veil-ui';

/** The fixture chat in a Firefox user's browser, as `as` talking in `conv`. */
async function chat(user: FirefoxUser, conv: string, as: string) {
  const page = await user.newPage();
  await page.goto(`${server.url}/?user=${as}&conv=${encodeURIComponent(conv)}`);
  await page.waitForSelector('#compose');
  return page;
}

/** Types key by key (Firefox's WebDriver BiDi input sends one character per key) and presses Enter. */
async function typeIn(page: Page, text: string): Promise<void> {
  await page.focus('#compose');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

const PASS = 'admin passphrase for tests';
let server: ChatServer;
let carol: FirefoxUser;
let dave: FirefoxUser;
let alice: User;
let work: string;

async function admin(...argv: string[]): Promise<void> {
  const err: string[] = [];
  const code = await runAdmin(argv, {
    env: { VEIL_ADMIN_PASSPHRASE: PASS },
    out: () => undefined,
    err: (l) => err.push(l),
  });
  if (code !== 0) throw new Error(`veil-admin ${argv.join(' ')} failed (${code}): ${err.join('\n')}`);
}

const managedStorage = (dir: string) =>
  JSON.parse(readFileSync(join(work, dir, 'firefox', 'managed-storage', `${GECKO_ID}.json`), 'utf8'));

beforeAll(async () => {
  server = await startChatServer();
  work = mkdtempSync(join(tmpdir(), 'veil-ff-policy-'));
  const keys = join(work, 'keys.veilkeys.json');
  await admin(
    'keys',
    'generate',
    '--keys',
    keys,
    '--label',
    'Cross-browser key',
    '--site',
    'fixture-chat',
    '--conversations',
    'dm-carol-dave,dm-alice-carol',
    '--scrypt-log-n',
    '15',
  );
  const common = ['--keys', keys, '--protect', `fixture-chat=${server.url}/*`, '--no-force-install'];
  await admin('policy', ...common, '--out', join(work, 'strict'));
  await admin('policy', ...common, '--require-encryption', 'false', '--out', join(work, 'lenient'));
  [carol, dave, alice] = await Promise.all([
    launchFirefoxUser('carol', { managedStorage: managedStorage('strict') }),
    launchFirefoxUser('dave', { managedStorage: managedStorage('lenient') }),
    launchUser('alice'),
  ]);
  // The Chromium user is unmanaged and imports the admin's key file: the same keys, by hand.
  const imported = await importBundle(alice, readFileSync(keys, 'utf8'), PASS);
  expect(imported, imported.text).toMatchObject({ tone: 'ok' });
});

afterAll(async () => {
  await Promise.all([carol?.close(), dave?.close(), alice?.close()]);
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('enterprise policy in Firefox ESR', () => {
  it('two Firefox users converse with the policy keys and no set-up', async () => {
    const [c, d] = await Promise.all([chat(carol, 'dave', 'carol'), chat(dave, 'carol', 'dave')]);
    expect((await composerStatus(c)).text).toContain('Cross-browser key');
    const text = 'Firefox to Firefox, encrypted 🦊';
    await typeIn(c, text);
    expect((await waitForMessage(d, (m) => m.status === 'decrypted', 'dave to decrypt')).text).toBe(text);
    await typeIn(d, 'reply from dave');
    expect(
      (await waitForMessage(c, (m) => m.from === 'dave' && m.status === 'decrypted', 'carol to decrypt')).text,
    ).toBe('reply from dave');
    expect(leakedSubstrings(JSON.stringify(server.inspect().messages), text)).toEqual([]);
    await Promise.all([c.close(), d.close()]);
  });

  it('a Firefox user and a Chromium user read each other', async () => {
    const [c, a] = await Promise.all([chat(carol, 'alice', 'carol'), openChat(alice, server.url, 'carol')]);
    await Promise.all([composerStatus(c), composerStatus(a)]);
    await typeIn(c, 'from Firefox to Chromium');
    expect(
      (await waitForMessage(a, (m) => m.from === 'carol' && m.status === 'decrypted', 'alice to decrypt')).text,
    ).toBe('from Firefox to Chromium');
    await typeAndSend(a, 'from Chromium to Firefox');
    expect(
      (await waitForMessage(c, (m) => m.from === 'alice' && m.status === 'decrypted', 'carol to decrypt')).text,
    ).toBe('from Chromium to Firefox');
    await Promise.all([c.close(), a.close()]);
  });

  it('requireEncryption decides what happens where no key applies: blocked (true) or sent with a warning (false)', async () => {
    const [c, d] = await Promise.all([chat(carol, 'bob', 'carol'), chat(dave, 'bob', 'dave')]);
    await Promise.all([composerStatus(c), composerStatus(d)]);
    const before = server.inspect().messages.length;
    await typeIn(c, 'carol: must be blocked');
    await c.waitForFunction(() => /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''));
    expect(await c.$eval('.veil-composer-status', (e) => e.textContent)).toContain(
      'Your organisation requires encryption here',
    );
    expect(await c.$eval('#compose', (e) => (e as HTMLTextAreaElement).value)).toBe('carol: must be blocked');

    await typeIn(d, 'dave: allowed in the clear');
    await d.waitForFunction(() =>
      /WITHOUT encryption/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
    );
    const sent = server.inspect().messages.slice(before);
    expect(sent.map((m) => [m.from, m.text])).toEqual([['dave', 'dave: allowed in the clear']]);
    await Promise.all([c.close(), d.close()]);
  });
});
