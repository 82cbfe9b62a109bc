/**
 * Enterprise policy in Firefox ESR, delivered the way enterprises do: the admin CLI's
 * `firefox/policies.json` (ExtensionSettings force-installing the built, unsigned XPI, which ESR
 * accepts once policy turns `xpinstall.signatures.required` off, and `3rdparty.Extensions.<gecko
 * id>` for Veil's settings) seen at /etc/firefox/policies by carol's browser alone (a private mount
 * namespace: test/support/firefox.ts); dave gets the lenient policy through the per-user
 * managed-storage manifest under his temp HOME. They converse with no set-up, and a Chromium user
 * holding the same keys (the admin's key bundle, imported) reads them and is read.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { GECKO_ID } from '../../lib/policy/ids';
import { ADMIN_PASSPHRASE, admin, generateKey } from '../support/admin';
import { launchUser, type User } from '../support/browser';
import { launchFirefoxUser, openProtected, packXpi, type FirefoxUser } from '../support/firefox';
import { leakedSubstrings } from '../support/leaks';
import { composerStatus, importBundle, openChat, typeAndSend, waitForMessage } from '../support/veil-ui';

/** The fixture chat in a Firefox user's browser, as `as` talking in `conv`, once Veil protects it. */
const chat = (user: FirefoxUser, conv: string, as: string) =>
  openProtected(user, `${server.url}/?user=${as}&conv=${encodeURIComponent(conv)}`);

/** Types key by key (Firefox's WebDriver BiDi input sends one character per key) and presses Enter. */
async function typeIn(page: Page, text: string): Promise<void> {
  await page.focus('#compose');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

let server: ChatServer;
let carol: FirefoxUser;
let dave: FirefoxUser;
let alice: User;
let work: string;

const managedStorage = (dir: string) =>
  JSON.parse(readFileSync(join(work, dir, 'firefox', 'managed-storage', `${GECKO_ID}.json`), 'utf8'));

beforeAll(async () => {
  server = await startChatServer();
  work = mkdtempSync(join(tmpdir(), 'veil-ff-policy-'));
  const keys = join(work, 'keys.veilkeys.json');
  await generateKey(keys, 'Cross-browser key', ['dm-carol-dave', 'dm-alice-carol']);
  const common = ['--keys', keys, '--protect', `fixture-chat=${server.url}/*`];
  const xpi = packXpi(join(work, 'veil.xpi'));
  await admin('policy', ...common, '--firefox-install-url', `file://${xpi}`, '--out', join(work, 'strict'));
  await admin(
    'policy',
    ...common,
    '--no-force-install',
    '--require-encryption',
    'false',
    '--out',
    join(work, 'lenient'),
  );
  const policies = JSON.parse(readFileSync(join(work, 'strict', 'firefox', 'policies.json'), 'utf8')).policies;
  // What a production deployment leaves out: its XPI is signed by Mozilla (docs/deploy.md).
  policies.Preferences = { 'xpinstall.signatures.required': { Value: false, Status: 'locked' } };
  [carol, dave, alice] = await Promise.all([
    launchFirefoxUser('carol', { policies, install: 'policy' }),
    launchFirefoxUser('dave', { managedStorage: managedStorage('lenient') }),
    launchUser('alice'),
  ]);
  // The Chromium user is unmanaged and imports the admin's key file: the same keys, by hand.
  const imported = await importBundle(alice, readFileSync(keys, 'utf8'), ADMIN_PASSPHRASE);
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
