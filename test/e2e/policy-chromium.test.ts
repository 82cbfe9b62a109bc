/**
 * the admin CLI writes keys and policy files; the Chrome/Linux one goes
 * into /etc/chromium/policies/managed/ (as root), Chromium hands it to Veil through storage.managed,
 * and two users converse with no set-up of their own. Then the same file turns invalid and Veil
 * fails closed, naming the bad setting.
 *
 * Each browser reads the policy from its own copy of /etc/chromium/policies (a private mount
 * namespace: test/support/browser.ts), so no other browser on the machine sees it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { admin, generateKey } from '../support/admin';
import { launchUser, waitFor, type User, waitForPolicy } from '../support/browser';
import { leakedSubstrings } from '../support/leaks';
import { composerStatus, openChat, openPopup, typeAndSend, waitForMessage } from '../support/veil-ui';

/** The policy both browsers run under (each has its own copy: test/support/browser.ts). */
let policyJson = '';
const writePolicy = (json: string) => {
  policyJson = json;
  for (const u of [alice, bob]) u.writePolicy(json);
};

let server: ChatServer;
let alice: User;
let bob: User;
let work: string;
let keyId = '';

beforeAll(async () => {
  server = await startChatServer();
  work = mkdtempSync(join(tmpdir(), 'veil-policy-'));
  const keys = join(work, 'keys.veilkeys.json');
  keyId = await generateKey(keys, 'Policy team key', ['dm-alice-bob', 'ch-general']);
  await admin(
    'policy',
    '--keys',
    keys,
    '--protect',
    `fixture-chat=${server.url}/*`,
    '--no-force-install',
    '--out',
    join(work, 'out'),
  );
  policyJson = readFileSync(join(work, 'out', 'chrome-linux', 'veil.json'), 'utf8');
  [alice, bob] = await Promise.all([
    launchUser('alice', { policy: policyJson }),
    launchUser('bob', { policy: policyJson }),
  ]);
  await Promise.all([waitForPolicy(alice, `${server.url}/*`), waitForPolicy(bob, `${server.url}/*`)]);
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('enterprise policy in Chromium', () => {
  it('delivers the policy and its keys: alice and bob converse with no set-up', async () => {
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    expect((await composerStatus(a)).text).toContain('Policy team key');
    const text = 'Policy-provisioned hello 🔐';
    await typeAndSend(a, text);
    expect((await waitForMessage(b, (m) => m.status === 'decrypted', 'bob to decrypt')).text).toBe(text);
    await typeAndSend(b, 'and back');
    expect(
      (await waitForMessage(a, (m) => m.from === 'bob' && m.status === 'decrypted', 'alice to decrypt')).text,
    ).toBe('and back');
    expect(leakedSubstrings(JSON.stringify(server.inspect().messages), text)).toEqual([]);
    await b.close();

    const popup = await openPopup(alice, a);
    expect(await popup.$eval('#site-state', (e) => e.getAttribute('data-state'))).toBe('protected');
    expect(await popup.$eval('#site-state', (e) => e.textContent)).toContain('your organisation');
    expect(await popup.$eval('#policy-source', (e) => e.getAttribute('data-managed'))).toBe('true');
    expect(await popup.$eval('#keys', (e) => e.textContent)).toMatch(
      new RegExp(`Policy team key \\(${keyId}.*active.*from policy`),
    );
    expect(await popup.$('#policy-errors:not([hidden])')).toBeNull();
    await Promise.all([popup.close(), a.close()]);
  });

  it('policy keys are read-only and users may not add keys (allowUserKeys defaults to false)', async () => {
    const page = await alice.newPage();
    await page.goto(`chrome-extension://${alice.extensionId}/options.html`);
    await page.waitForSelector('#policy-settings');
    const send = (type: string, req: object) =>
      page.evaluate((type, req) => (globalThis as any).chrome.runtime.sendMessage({ veil: 1, type, req }), type, req);
    const revoke = await send('keys/set-status', { id: keyId, status: 'revoked' });
    expect(revoke).toMatchObject({ ok: false, error: { message: expect.stringContaining('policy') } });
    const exported = await send('keys/export', { ids: [keyId], passphrase: 'long enough passphrase' });
    expect(exported.ok).toBe(false);
    expect(await send('keys/generate', { label: 'mine', scope: { site: '*', conversations: ['*'] } })).toMatchObject({
      ok: false,
      error: { code: 'policy' },
    });
    const list = await send('keys/list', {});
    expect(list.keys.find((k: any) => k.id === keyId)).toMatchObject({ source: 'policy', status: 'active' });
    await page.close();
  });

  it('requireEncryption: a send no key covers is blocked, with the reason', async () => {
    const page = await openChat(alice, server.url, 'carol');
    expect((await composerStatus(page)).state).toBe('error');
    const before = server.inspect().messages.length;
    const text = 'plaintext that policy forbids';
    await typeAndSend(page, text);
    await page.waitForFunction(() =>
      /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
    );
    expect(await page.$eval('.veil-composer-status', (e) => e.textContent)).toContain(
      'Your organisation requires encryption here',
    );
    expect(await page.$eval('#compose', (e) => (e as HTMLTextAreaElement).value)).toBe(text);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.inspect().messages.length).toBe(before);
    await page.close();
  });

  it('an invalid policy keeps the last valid one in force and the popup names the setting', async () => {
    const policy = JSON.parse(policyJson);
    policy['3rdparty'].extensions[CHROME_EXTENSION_ID].protectedSites[0].adapter = 'fixture-chatt';
    writePolicy(JSON.stringify(policy));
    // Chromium notices the change and reports it through storage.onChanged; Veil re-reads.
    const w = await alice.worker();
    await waitFor(
      async () =>
        (
          await w.evaluate(async () => JSON.stringify(await (globalThis as any).chrome.storage.managed.get(null)))
        ).includes('fixture-chatt'),
      'changed policy',
      30_000,
    );

    // The last valid policy stays in force (its key is still in memory): sending works, encrypted;
    // the page shows nothing of the problem (it is the vendor's DOM); the popup names the setting.
    const page = await openChat(alice, server.url, 'bob');
    await page.waitForSelector('.veil-composer-status[data-state="ready"]', { timeout: 15_000 });
    const before = server.inspect().messages.length;
    const text = 'encrypted while the new policy is broken';
    await typeAndSend(page, text);
    await waitFor(() => server.inspect().messages.length > before, 'the encrypted message');
    expect(JSON.stringify(server.inspect().messages)).not.toContain(text);
    expect(await page.content()).not.toContain('fixture-chatt');

    const popup = await openPopup(alice, page);
    expect(await popup.$eval('#site-state', (e) => e.getAttribute('data-state'))).not.toBe('failed-closed');
    expect(await popup.$eval('#policy-source', (e) => e.textContent)).toMatch(/last valid policy/);
    const problems = await popup.$$eval('#policy-errors li', (els) => els.map((e) => e.textContent));
    expect(problems.join('\n')).toContain('protectedSites[0].adapter: "fixture-chatt" is not a Veil adapter');
    await Promise.all([popup.close(), page.close()]);
  });

  it('a per-site policy mode isolates that site: secure frames, the chat composer blocked, the switch locked on', async () => {
    // Fix the policy and isolate this test's chat in its own entry only (the policy-wide mode stays inline).
    const policy = JSON.parse(policyJson);
    const veil = policy['3rdparty'].extensions[CHROME_EXTENSION_ID];
    veil.protectedSites[0] = { ...veil.protectedSites[0], adapter: 'fixture-chat', mode: 'isolated' };
    expect(veil.mode).toBeUndefined();
    writePolicy(JSON.stringify(policy));
    const w = await alice.worker();
    await waitFor(
      async () => {
        const managed = JSON.parse(
          await w.evaluate(async () => JSON.stringify(await (globalThis as any).chrome.storage.managed.get(null))),
        );
        return managed.protectedSites?.[0]?.adapter === 'fixture-chat' && managed.protectedSites[0].mode === 'isolated';
      },
      'isolating policy',
      30_000,
    );

    const page = await openChat(alice, server.url, 'bob');
    // Isolated, not inline: Veil places its own composer frame, and the chat's composer cannot send.
    await waitFor(
      async () => page.frames().some((f) => f.url().endsWith('/secure-composer.html')),
      'the secure composer',
      15_000,
    );
    expect(await page.evaluate(() => document.querySelectorAll('veil-secure-frame').length)).toBeGreaterThan(0);
    const before = server.inspect().messages.length;
    await page.bringToFront();
    await page.$eval('#compose', (e) => {
      (e as HTMLTextAreaElement).value = 'typed into the page';
    });
    await page.click('#send');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.inspect().messages.length).toBe(before);

    // The options page shows the switch locked on with the reason; the background refuses to turn it off.
    const options = await alice.newPage();
    await options.goto(`chrome-extension://${alice.extensionId}/options.html`);
    const box = '#isolated-sites tr[data-site="fixture-chat"] .isolated-toggle';
    await options.waitForSelector(box);
    expect(
      await options.$eval(box, (b) => [(b as HTMLInputElement).checked, (b as HTMLInputElement).disabled]),
    ).toEqual([true, true]);
    expect(await options.$eval('#isolated-sites tr[data-site="fixture-chat"]', (e) => e.textContent)).toMatch(
      /organi[sz]ation/,
    );
    const off = await options.evaluate(() =>
      (globalThis as any).chrome.runtime.sendMessage({
        veil: 1,
        type: 'isolated/set-site-mode',
        req: { key: 'fixture-chat', mode: 'inline' },
      }),
    );
    expect(off).toMatchObject({ ok: false, error: { code: 'policy' } });
    await Promise.all([options.close(), page.close()]);
  });
});
