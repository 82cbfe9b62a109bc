/**
 * The enterprise reads its own archive: three people chat through the fixture chat with Veil in
 * Chromium (signed, chunked and plain messages), the vendor tampers with one message and replays
 * another, the admin fetches the vendor's export (GET /api/export) and decrypts it with the admin
 * CLI. Every line must match what was sent, with the status the browser itself shows.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startChatServer, type ChatServer, type ExportLine } from '../../fixtures/chat/server.mjs';
import { createBundle, directoryEntryOf } from '../../lib/crypto/bundle';
import { encodeEnvelopeText, findEnvelopes } from '../../lib/crypto/codec';
import type { SigningIdentity } from '../../lib/keys/model';
import { runAdmin } from '../../scripts/admin-cli';
import { launchUser, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { makeKey, TEST_KDF } from '../support/keys';
import { sendAndSettle } from '../support/send';
import { composerStatus, importBundle, openChat, shownMessages, waitForMessage } from '../support/veil-ui';

const PASS = 'archive e2e passphrase';
const team = makeKey('Team', { site: 'fixture-chat', conversations: ['*'] });
const identity = (userId: string): SigningIdentity => ({
  site: 'fixture-chat',
  userId,
  secretKey: ed25519.utils.randomSecretKey(),
  createdAt: Date.now(),
});
const ids = { alice: identity('alice'), bob: identity('bob'), carol: identity('carol') };
const directory = Object.values(ids).map(directoryEntryOf);
const LONG = 'The quarterly figures, in full, for everyone in the channel. '.repeat(8).trim();

let server: ChatServer;
let users: Record<'alice' | 'bob' | 'carol', User>;
let work: string;

beforeAll(async () => {
  // A short limit makes the long message travel in chunks, as it does on chats with small limits.
  server = await startChatServer({ maxLength: 300 });
  work = mkdtempSync(join(tmpdir(), 'veil-archive-e2e-'));
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => launchUser(n)));
  users = { alice: alice!, bob: bob!, carol: carol! };
  for (const [name, user] of Object.entries(users)) {
    // One bundle per person, as the admin hands them out: the team key, their identity, the directory.
    const who = ids[name as keyof typeof ids];
    const file = JSON.stringify(await createBundle([team], PASS, { kdf: TEST_KDF, identities: [who], directory }));
    expect((await importBundle(user, file, PASS)).tone).toBe('ok');
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(users ?? {}).map((u) => u.close()));
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function send(user: User, conv: string, text: string): Promise<void> {
  const page = await openChat(user, server.url, conv);
  expect((await composerStatus(page)).state).toBe('ready');
  const r = await sendAndSettle(page, text);
  expect(r.sent, r.status).toBe(true);
  await page.close();
}

describe('archive decrypt of a real conversation', () => {
  it('decrypts the vendor export to what was sent, with the browser’s statuses', async () => {
    await send(users.alice, 'general', 'Morning all, standup in 5');
    await send(users.bob, 'general', LONG);
    await send(users.carol, 'bob', 'Can you review my draft?');
    await send(users.bob, 'carol', 'Sure, after lunch');
    await send(users.carol, 'general', 'Numbers look right to me');
    const stored = server.inspect().messages;
    // The vendor's doing: flip one byte of carol's channel message, replay alice's as new, post plain text.
    const target = stored.find((m) => m.from === 'carol' && m.conv === 'ch-general')!;
    const found = findEnvelopes(target.text)[0]!;
    if (found.kind !== 'envelope') throw new Error('no envelope');
    const frame = found.frame.slice();
    frame[frame.length - 2]! ^= 0x40;
    await fetch(`${server.url}/api/admin/tamper`, {
      method: 'POST',
      body: JSON.stringify({ id: target.id, text: encodeEnvelopeText(frame) }),
    });
    const first = stored.find((m) => m.from === 'alice')!;
    await injectMessage(server, 'alice', '#general', first.text);
    await injectMessage(server, 'carol', '#general', 'plain text from a phone without Veil');

    // What bob's browser shows for the channel: the archive must say the same.
    const page = await openChat(users.bob, server.url, 'general');
    await waitForMessage(page, (m) => m.text.includes('plain text from a phone'), 'plain message');
    const end = Date.now() + 20_000;
    let shown = await shownMessages(page);
    while (shown.filter((m) => m.status && m.status !== 'pending').length < 5 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      shown = await shownMessages(page);
    }
    await page.close();

    const res = await fetch(`${server.url}/api/export`);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const exportText = await res.text();
    const lines = exportText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ExportLine);
    expect(lines).toHaveLength(server.inspect().messages.length);
    expect(new Set(lines.map((l) => l.conv))).toEqual(new Set(['ch-general', 'dm-bob-carol']));
    const exportFile = join(work, 'export.jsonl');
    writeFileSync(exportFile, exportText);
    const keysFile = join(work, 'admin-keys.json');
    writeFileSync(keysFile, JSON.stringify(await createBundle([team], PASS, { kdf: TEST_KDF, directory })));

    const outFile = join(work, 'archive.jsonl');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdmin(['archive', 'decrypt', '--input', exportFile, '--keys', keysFile, '--out', outFile], {
      env: { VEIL_ADMIN_PASSPHRASE: PASS },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect(code, err.join('\n')).toBe(1); // tampered, replayed and plain messages are not clean
    expect(statSync(outFile).mode & 0o777).toBe(0o600);
    const got = readFileSync(outFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const row = (pred: (r: any) => boolean) => {
      const hit = got.filter(pred);
      expect(hit, JSON.stringify(got, null, 1)).toHaveLength(1);
      return hit[0];
    };
    expect(row((r) => r.status === 'verified' && r.author === 'alice')).toMatchObject({
      conversation: 'ch-general',
      plaintext: 'Morning all, standup in 5',
      verifiedSigner: 'alice',
      keyId: team.id,
    });
    const long = row((r) => r.author === 'bob' && r.conversation === 'ch-general');
    expect(long).toMatchObject({ status: 'verified', plaintext: LONG, verifiedSigner: 'bob' });
    expect(long.parts.length).toBeGreaterThan(1);
    expect(row((r) => r.conversation === 'dm-bob-carol' && r.author === 'carol')).toMatchObject({
      status: 'verified',
      plaintext: 'Can you review my draft?',
    });
    expect(row((r) => r.conversation === 'dm-bob-carol' && r.author === 'bob')).toMatchObject({
      status: 'verified',
      plaintext: 'Sure, after lunch',
    });
    expect(row((r) => r.id === target.id)).toMatchObject({ status: 'tampered', author: 'carol' });
    expect(row((r) => r.status === 'replayed')).toMatchObject({
      author: 'alice',
      plaintext: 'Morning all, standup in 5',
    });
    expect(row((r) => r.status === 'not-encrypted')).toMatchObject({
      plaintext: 'plain text from a phone without Veil',
    });
    expect(got).toHaveLength(7); // the chunk parts are one message
    expect(out.join('\n')).toMatch(/7 message\(s\) in 2 conversation\(s\)/);

    // The browser's verdict on each channel message the archive judged (by the chat's message id).
    for (const r of got.filter((g) => g.conversation === 'ch-general' && g.status !== 'not-encrypted')) {
      const onPage = shown.find((m) => m.id === r.id)!;
      expect(onPage, `message ${r.id} on bob's page`).toBeDefined();
      expect(onPage.status, `message ${r.id}`).toBe(r.status === 'verified' ? 'decrypted' : r.status);
    }
  }, 240_000);
});
