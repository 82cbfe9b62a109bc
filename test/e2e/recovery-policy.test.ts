/**
 * the enterprise policy made invalid, fixed, and removed while a protected chat page is
 * open, in real Chromium with a real policy file. The open page follows each change without a
 * reload: an invalid policy leaves the last valid one in force (sending keeps working, encrypted);
 * a fixed one changes nothing for the page; a removed one leaves the chat unprotected (this user
 * protects no chat of their own), so the open page blocks sending and asks for a reload.
 * Why removal behaves that way: docs/security.md.
 *
 * Each browser reads the policy from its own copy of /etc/chromium/policies (a private mount
 * namespace: test/support/browser.ts), so no other browser on the machine sees it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { admin, generateKey } from '../support/admin';
import { launchUser, waitFor, type User } from '../support/browser';
import { leakedSubstrings } from '../support/leaks';
import { sendAndSettle } from '../support/send';
import { openChat, waitForMessage } from '../support/veil-ui';

/** Both browsers run under the same policy, each from its own copy (test/support/browser.ts). */
const writePolicy = (json: string | undefined) => {
  for (const u of [alice, bob]) u.writePolicy(json);
};

let server: ChatServer;
let alice: User;
let bob: User;
let work: string;
let validPolicy = '';
let a: Page;
let b: Page;

/** What Chromium hands the extension now, read from its service worker (bounded wait). */
async function managedPolicyIs(user: User, check: (json: string) => boolean, what: string): Promise<void> {
  const w = await user.worker();
  await waitFor(
    async () =>
      check(await w.evaluate(async () => JSON.stringify(await (globalThis as any).chrome.storage.managed.get(null)))),
    `${what} (${user.name})`,
    40_000,
  );
}

const vendorSaw = () => JSON.stringify(server.inspect().requests.filter((r) => r.path.startsWith('/api/messages')));

beforeAll(async () => {
  server = await startChatServer();
  work = mkdtempSync(join(tmpdir(), 'veil-recovery-policy-'));
  const keys = join(work, 'keys.veilkeys.json');
  await generateKey(keys, 'Recovery policy key', ['dm-alice-bob']);
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
  validPolicy = readFileSync(join(work, 'out', 'chrome-linux', 'veil.json'), 'utf8');
  [alice, bob] = await Promise.all([
    launchUser('alice', { policy: validPolicy }),
    launchUser('bob', { policy: validPolicy }),
  ]);
  const port = `:${server.port}/`;
  await Promise.all([alice, bob].map((u) => managedPolicyIs(u, (j) => j.includes(port), 'the policy')));
  [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
  await a.waitForFunction(
    () => /Recovery policy key/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
    { timeout: 20_000, polling: 100 },
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('policy changes while a protected page is open', () => {
  it('made invalid: the open page keeps the last valid policy and sends encrypted, without a reload', async () => {
    expect((await sendAndSettle(a, 'while the policy is fine')).sent).toBe(true);
    await waitForMessage(b, (m) => m.text === 'while the policy is fine' && m.status === 'decrypted', 'bob reads');

    const broken = JSON.parse(validPolicy);
    broken['3rdparty'].extensions[CHROME_EXTENSION_ID].protectedSites[0].adapter = 'fixture-chatt';
    writePolicy(JSON.stringify(broken));
    await managedPolicyIs(alice, (j) => j.includes('fixture-chatt'), 'the invalid policy');

    // A typo never loosens anything: the last valid policy (and its key, still in memory) stays in force.
    const text = 'must stay here while the policy is broken';
    const out = await sendAndSettle(a, text);
    expect(out.sent).toBe(true);
    await waitForMessage(b, (m) => m.text === text && m.status === 'decrypted', 'bob reads under the kept policy');
    expect(leakedSubstrings(vendorSaw(), text)).toEqual([]);
    expect(await a.content()).not.toContain('fixture-chatt'); // details stay in Veil's own pages
  });

  it('fixed again: the same page keeps sending encrypted, without a reload', async () => {
    writePolicy(validPolicy);
    await managedPolicyIs(
      alice,
      (j) => !j.includes('fixture-chatt') && j.includes(`:${server.port}/`),
      'the fixed policy',
    );
    const text = 'after the policy was fixed';
    expect((await sendAndSettle(a, text)).sent).toBe(true);
    await waitForMessage(b, (m) => m.text === text && m.status === 'decrypted', 'kept text sent');
    expect(leakedSubstrings(vendorSaw(), text)).toEqual([]);
  });

  it('removed: the chat is no longer protected; the open page blocks sending and asks for a reload', async () => {
    writePolicy(undefined);
    await Promise.all([alice, bob].map((u) => managedPolicyIs(u, (j) => j === '{}', 'no policy')));
    // Unmanaged now, and this user protects no chat of their own: the page was set up for the
    // policy, so it stops sending rather than guess, and keeps the text.
    await a.waitForFunction(
      () => /reload the page/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      { timeout: 20_000, polling: 100 },
    );
    const before = server.inspect().messages.length;
    const text = 'no policy, no key, no send';
    const out = await sendAndSettle(a, text);
    expect(out.sent).toBe(false);
    expect(out.left).toBe(text);
    expect(server.inspect().messages.length).toBe(before);
    expect(leakedSubstrings(vendorSaw(), text)).toEqual([]);
  });
});
