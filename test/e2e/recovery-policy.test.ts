/**
 * Issue #8: the enterprise policy made invalid, fixed, and removed while a protected chat page is
 * open, in real Chromium with a real policy file. The open page follows each change without a
 * reload: an invalid policy blocks sending at once with its reason; a fixed one re-arms the page;
 * a removed one falls back to the unmanaged defaults, where the policy's keys are gone, so the page
 * keeps failing closed ("no key") and new messages under the policy key show "unknown key".
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
import { runAdmin } from '../../scripts/admin-cli';
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

async function admin(...argv: string[]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(argv, {
    env: { VEIL_ADMIN_PASSPHRASE: 'admin passphrase for recovery tests' },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  if (code !== 0) throw new Error(`veil-admin ${argv.join(' ')} failed (${code}): ${err.join('\n')}`);
  return out.join('\n');
}

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

const statusLine = (page: Page) => page.$eval('.veil-composer-status', (el) => el.textContent ?? '');
const vendorSaw = () => JSON.stringify(server.inspect().requests.filter((r) => r.path.startsWith('/api/messages')));

beforeAll(async () => {
  server = await startChatServer();
  work = mkdtempSync(join(tmpdir(), 'veil-recovery-policy-'));
  const keys = join(work, 'keys.veilkeys.json');
  await admin(
    'keys',
    'generate',
    '--keys',
    keys,
    '--label',
    'Recovery policy key',
    '--site',
    'fixture-chat',
    '--conversations',
    'dm-alice-bob',
    '--scrypt-log-n',
    '15',
  );
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
  it('made invalid: the open page blocks sending at once, with the reason, without a reload', async () => {
    expect((await sendAndSettle(a, 'while the policy is fine')).sent).toBe(true);
    await waitForMessage(b, (m) => m.text === 'while the policy is fine' && m.status === 'decrypted', 'bob reads');

    const broken = JSON.parse(validPolicy);
    broken['3rdparty'].extensions[CHROME_EXTENSION_ID].protectedSites[0].adapter = 'fixture-chatt';
    writePolicy(JSON.stringify(broken));
    await managedPolicyIs(alice, (j) => j.includes('fixture-chatt'), 'the invalid policy');

    // No reload: the page was told, asked again, and now refuses with the policy's problem.
    await a.waitForFunction(
      () => /policy is invalid/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      { timeout: 20_000, polling: 100 },
    );
    expect(await statusLine(a)).toContain('protectedSites[0].adapter');
    const before = server.inspect().messages.length;
    const text = 'must stay here while the policy is broken';
    await a.bringToFront();
    await a.focus('#compose');
    await a.keyboard.sendCharacter(text);
    await a.keyboard.press('Enter');
    await a.click('#send');
    await new Promise((r) => setTimeout(r, 500));
    expect(server.inspect().messages.length).toBe(before);
    expect(await a.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe(text);
    expect(await statusLine(a)).toContain('policy is invalid');
    expect(leakedSubstrings(vendorSaw(), text)).toEqual([]);
  });

  it('fixed again: the same page re-arms and sends encrypted, without a reload', async () => {
    writePolicy(validPolicy);
    await managedPolicyIs(
      alice,
      (j) => !j.includes('fixture-chatt') && j.includes(`:${server.port}/`),
      'the fixed policy',
    );
    await a.waitForFunction(
      () => /Recovery policy key/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      { timeout: 20_000, polling: 100 },
    );
    // The text kept while blocked goes out now, encrypted, with one more Enter.
    await a.bringToFront();
    await a.focus('#compose');
    await a.keyboard.press('Enter');
    await waitForMessage(
      b,
      (m) => m.text === 'must stay here while the policy is broken' && m.status === 'decrypted',
      'kept text sent',
    );
    expect(leakedSubstrings(vendorSaw(), 'must stay here while the policy is broken')).toEqual([]);
  });

  it('removed: unmanaged defaults apply, the policy keys are gone, the page still fails closed', async () => {
    writePolicy(undefined);
    await Promise.all([alice, bob].map((u) => managedPolicyIs(u, (j) => j === '{}', 'no policy')));
    // 127.0.0.1 stays protected by the unmanaged defaults, but with no key for this conversation.
    await a.waitForFunction(
      () =>
        /No Veil key covers this conversation/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      { timeout: 20_000, polling: 100 },
    );
    const before = server.inspect().messages.length;
    const text = 'no policy, no key, no send';
    const out = await sendAndSettle(a, text);
    expect(out.sent).toBe(false);
    expect(out.left).toBe(text);
    expect(out.status).toMatch(/Not sent/);
    expect(server.inspect().messages.length).toBe(before);
    expect(leakedSubstrings(vendorSaw(), text)).toEqual([]);
    // The policy key left with the policy: what bob's open page had decrypted under it leaves the
    // screen (no reload), and the same envelope posted again cannot be read either.
    await b.waitForFunction(
      () =>
        [...document.querySelectorAll('#messages li')].every(
          (li) => li.getAttribute('data-veil-status') === 'unknown-key',
        ),
      { timeout: 20_000, polling: 100 },
    );
    expect(await b.$eval('#messages', (el) => el.textContent)).not.toContain('while the policy is fine');
    const earlier = server.inspect().messages.find((m) => m.from === 'alice')!.text;
    await fetch(`${server.url}/api/admin/inject`, {
      method: 'POST',
      body: JSON.stringify({ from: 'alice', to: 'bob', text: earlier }),
    });
    await b.waitForFunction(
      () => document.querySelectorAll('#messages li[data-veil-status="unknown-key"]').length === 3,
      { timeout: 20_000, polling: 100 },
    );
  });
});
