/**
 * Encrypted attachments in Firefox ESR (the file picker; drag and drop and paste need CDP input,
 * which Firefox's WebDriver BiDi does not offer: test/e2e/attachments.test.ts covers them in
 * Chromium). The page and the vendor get only sealed `.veil` files; the receiver sees the real
 * name and the decrypted image.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { waitFor } from '../support/browser';
import { pickFiles, randomPng, sharesA16ByteWindow, tempFile } from '../support/files';
import { makeKey } from '../support/keys';
import { launchAliceAndBob, openConversation, type ChatUser } from '../support/users';
import { composerStatus } from '../support/veil-ui';

let server: ChatServer;
let alice: ChatUser;
let bob: ChatUser;
const key = makeKey('Team files', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
const chat = (user: ChatUser, conv: string) => openConversation(user, server.url, conv);

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await launchAliceAndBob('firefox', server.url, [key]);
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('encrypted attachments in Firefox ESR', () => {
  it('picker: sealed before the page sees them; bob sees the real name and the decrypted image', async () => {
    const [a, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    const bin = randomBytes(1024 * 1024 + 7);
    const png = randomPng(24, 24);
    await pickFiles(a, '#file-input', [tempFile('contract.bin', bin), tempFile('photo.png', png)]);
    await waitFor(async () => (await a.$$('#pending-files li')).length === 2, 'two sealed files attached', 60_000);
    const pending = await a.$$eval('#pending-files li', (els) => els.map((e) => e.textContent ?? ''));
    for (const p of pending) expect(p).toMatch(/^[0-9a-f]{32}\.veil /);
    await a.focus('#compose');
    await a.keyboard.press('Enter');
    let m: ReturnType<ChatServer['inspect']>['messages'][number] | undefined;
    await waitFor(() => !!(m = server.inspect().messages.find((x) => x.files?.length === 2)), 'the message');
    for (const f of m!.files!) {
      const stored = server.inspect().files!.find((s) => s.id === f.id)!;
      expect(stored.name).toMatch(/^[0-9a-f]{32}\.veil$/);
      const bytes = readFileSync(stored.path);
      expect(sharesA16ByteWindow(bytes, bin) || sharesA16ByteWindow(bytes, png)).toBe(false);
    }
    const row = `li[data-id="${m!.id}"]`;
    await b.waitForSelector(`${row} img.veil-file-preview`, { timeout: 30_000 });
    const labels = await b.$$eval(`${row} .veil-file-name`, (els) => els.map((e) => e.textContent ?? ''));
    expect(labels.join(' ')).toContain('contract.bin');
    expect(labels.join(' ')).toContain('photo.png');
    const width = await b.$eval(`${row} img.veil-file-preview`, async (img) => {
      await (img as HTMLImageElement).decode();
      return (img as HTMLImageElement).naturalWidth;
    });
    expect(width).toBe(24);
  });
});
