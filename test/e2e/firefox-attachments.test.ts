/**
 * Encrypted attachments in Firefox ESR: the file picker, an image pasted from the clipboard, and
 * files dragged from another window. Alice's Firefox runs on a virtual X display: headless
 * Firefox's clipboard carries text only, and WebDriver BiDi has no command for a drag of files
 * from outside the page, so the drag is a real one between two windows (test/support/files.ts
 * dropFilesFirefox). The page and the vendor get only sealed `.veil` files; the receiver sees the
 * real name and the decrypted image, and downloads the exact bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { clickWhereItRests, waitFor } from '../support/browser';
import {
  dropFilesFirefox,
  pasteImageFirefox,
  pickFiles,
  randomPng,
  seenFiles,
  sha256hex,
  sharesA16ByteWindow,
  tempFile,
  watchPageFiles,
} from '../support/files';
import { expectFilesBlocked } from '../support/files-cases';
import { firefoxDownload } from '../support/firefox';
import { makeKey } from '../support/keys';
import { launchChatUser, openConversation, type ChatUser } from '../support/users';
import { startXvfb } from '../support/xvfb';
import { composerStatus } from '../support/veil-ui';

let server: ChatServer;
let xvfb: Awaited<ReturnType<typeof startXvfb>>;
let downloads: string;
let alice: ChatUser;
let bob: ChatUser;
const key = makeKey('Team files', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
const chat = (user: ChatUser, conv: string) => openConversation(user, server.url, conv);

beforeAll(async () => {
  server = await startChatServer();
  xvfb = await startXvfb();
  const setup = { keys: [key], matches: `${server.url}/*` };
  downloads = mkdtempSync(join(tmpdir(), 'veil-ff-downloads-'));
  [alice, bob] = await Promise.all([
    launchChatUser('firefox', 'alice', { ...setup, display: xvfb.display }),
    launchChatUser('firefox', 'bob', { ...setup, downloadDir: downloads }),
  ]);
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await xvfb?.stop();
  await server?.close();
  if (downloads) rmSync(downloads, { recursive: true, force: true });
});

describe('encrypted attachments in Firefox ESR', () => {
  let a: Page;
  let b: Page;
  /** The stored files of the two messages alice sends: the picked ones, then the pasted image. */
  const sent: { bin?: StoredFile; png?: StoredFile; pasted?: StoredFile } = {};

  /** Alice sends what she attached (Enter); the message the chat stored after `before` with `n` files. */
  async function sendAttached(before: number, n: number, what: string): Promise<StoredMessage> {
    await a.focus('#compose');
    await a.keyboard.press('Enter');
    let m: StoredMessage | undefined;
    await waitFor(
      () =>
        !!(m = server
          .inspect()
          .messages.slice(before)
          .find((x) => x.files?.length === n)),
      what,
    );
    return m!;
  }

  it('picker: sealed before the page sees them; bob sees the real name and the image, and downloads the exact bytes', async () => {
    [a, b] = await Promise.all([chat(alice, 'bob'), chat(bob, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    const bin = randomBytes(10 * 1024 * 1024 + 123);
    const png = randomPng(24, 24);
    await pickFiles(a, '#file-input', [tempFile('contract.bin', bin), tempFile('photo.png', png)]);
    await waitFor(async () => (await a.$$('#pending-files li')).length === 2, 'two sealed files attached', 60_000);
    const pending = await a.$$eval('#pending-files li', (els) => els.map((e) => e.textContent ?? ''));
    for (const p of pending) expect(p).toMatch(/^[0-9a-f]{32}\.veil /);
    const m = await sendAttached(0, 2, 'the message');
    for (const f of m.files!) {
      const stored = server.inspect().files!.find((s) => s.id === f.id)!;
      expect(stored.name).toMatch(/^[0-9a-f]{32}\.veil$/);
      const bytes = readFileSync(stored.path);
      expect(sharesA16ByteWindow(bytes, bin) || sharesA16ByteWindow(bytes, png)).toBe(false);
    }
    const row = `li[data-id="${m.id}"]`;
    await b.waitForSelector(`${row} img.veil-file-preview`, { timeout: 30_000 });
    const labels = await b.$$eval(`${row} .veil-file-name`, (els) => els.map((e) => e.textContent ?? ''));
    expect(labels.join(' ')).toContain('contract.bin');
    expect(labels.join(' ')).toContain('photo.png');
    const width = await b.$eval(`${row} img.veil-file-preview`, async (img) => {
      await (img as HTMLImageElement).decode();
      return (img as HTMLImageElement).naturalWidth;
    });
    expect(width).toBe(24);
    // The chat lists uploads as they finish: the smaller one is the image.
    [sent.png, sent.bin] = m
      .files!.map((f) => server.inspect().files!.find((s) => s.id === f.id)!)
      .sort((x, y) => x.size - y.size);
    await b.bringToFront();
    await b.click(`[data-veil-file="${sent.bin!.name.replace('.veil', '')}"] .veil-file-download`);
    expect(sha256hex(await firefoxDownload(downloads, 'contract.bin'))).toBe(sha256hex(bin));
  });

  it('paste: an image pasted into the compose box reaches the page only sealed; bob sees it decrypted', async () => {
    const png = randomPng(28, 28);
    await watchPageFiles(a);
    const before = server.inspect().messages.length;
    await pasteImageFirefox(a, '#compose', png);
    await waitFor(async () => (await a.$$('#pending-files li')).length === 1, 'the sealed image attached', 30_000);
    expect(await seenFiles(a)).toEqual([expect.stringMatching(/^[0-9a-f]{32}\.veil$/)]);
    const m = await sendAttached(before, 1, 'the message with the pasted image');
    const stored = server.inspect().files!.find((s) => s.id === m.files![0]!.id)!;
    expect(stored.name).toMatch(/^[0-9a-f]{32}\.veil$/);
    expect(readFileSync(stored.path).subarray(0, 8).equals(png.subarray(0, 8))).toBe(false);
    const row = `li[data-id="${m.id}"]`;
    await b.waitForSelector(`${row} img.veil-file-preview`, { timeout: 30_000 });
    const width = await b.$eval(`${row} img.veil-file-preview`, async (img) => {
      await (img as HTMLImageElement).decode();
      return (img as HTMLImageElement).naturalWidth;
    });
    expect(width).toBe(28);
    sent.pasted = stored;
  });

  it('drop: files dragged from another window onto the chat are sealed before the page sees them; bob gets the exact bytes', async () => {
    // A zip, not a PDF: Firefox shows a PDF in its own viewer rather than saving it.
    const doc = randomBytes(300_000);
    const png = randomPng(16, 30);
    await watchPageFiles(a);
    const before = server.inspect().messages.length;
    await dropFilesFirefox(a, xvfb.display, '#messages', [tempFile('dropped.zip', doc), tempFile('dropped.png', png)]);
    await waitFor(
      async () => (await a.$$('#pending-files li')).length === 2,
      'the dropped files sealed and attached',
      30_000,
    );
    const seen = await seenFiles(a);
    expect(seen).toHaveLength(2);
    for (const n of seen) expect(n).toMatch(/^[0-9a-f]{32}\.veil$/);
    const m = await sendAttached(before, 2, 'the message with the dropped files');
    const stored = m.files!.map((f) => server.inspect().files!.find((x) => x.id === f.id)!);
    for (const f of stored) {
      const bytes = readFileSync(f.path);
      expect(sharesA16ByteWindow(bytes, doc) || sharesA16ByteWindow(bytes, png)).toBe(false);
    }
    const row = `li[data-id="${m.id}"]`;
    await b.waitForSelector(`${row} img.veil-file-preview`, { timeout: 30_000 });
    // The preview decoded, the row has its final height: the chat's scroll stays put for the click.
    await b.$eval(`${row} img.veil-file-preview`, (img) => (img as HTMLImageElement).decode());
    expect((await b.$$eval(`${row} .veil-file-name`, (els) => els.map((e) => e.textContent ?? ''))).join(' ')).toMatch(
      /dropped\.zip.*dropped\.png|dropped\.png.*dropped\.zip/,
    );
    const big = stored.sort((x, y) => y.size - x.size)[0]!;
    await b.bringToFront();
    await clickWhereItRests(b, `[data-veil-file="${big.name.replace('.veil', '')}"] .veil-file-download`);
    expect(sha256hex(await firefoxDownload(downloads, 'dropped.zip'))).toBe(sha256hex(doc));
  });

  it('tampered, truncated and swapped files are refused with the reason, and yield no preview', async () => {
    const { bin, png, pasted } = sent as Required<typeof sent>;
    const original = readFileSync(png.path);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 100]! ^= 1;
    writeFileSync(png.path, flipped);
    truncateSync(pasted.path, pasted.size - 1000);
    writeFileSync(bin.path, original);
    await b.reload();
    const note = async (f: StoredFile) => {
      const sel = `[data-veil-file="${f.name.replace('.veil', '')}"] .veil-file-note`;
      await b.waitForFunction((x) => /⚠/.test(document.querySelector(x)?.textContent ?? ''), {}, sel);
      return b.$eval(sel, (e) => e.textContent ?? '');
    };
    expect(await note(png)).toMatch(/altered/);
    expect(await note(pasted)).toMatch(/cut short|altered/);
    await b.bringToFront();
    await b.click(`[data-veil-file="${bin.name.replace('.veil', '')}"] .veil-file-download`);
    expect(await note(bin)).toMatch(/not the file the message names/);
    for (const f of [png, pasted])
      expect(await b.$$(`[data-veil-file="${f.name.replace('.veil', '')}"] img`)).toHaveLength(0);
  });
});

describe('the attachment policy in Firefox ESR', () => {
  const team = makeKey('Policy team key', { site: 'fixture-chat', conversations: ['*'] });
  const managed = (name: string, attachments: 'block' | 'allow', display?: string) =>
    launchChatUser('firefox', name, {
      keys: [team],
      matches: `${server.url}/*`,
      settings: { attachments },
      ...(display ? { display } : {}),
    });

  it('"block": a picked, dropped or pasted file is refused with a line under the composer; nothing is uploaded', async () => {
    // A display of its own: the drag and the image paste need a window system, and alice's window
    // must not lie over this one.
    const screen = await startXvfb();
    const erin = await managed('erin', 'block', screen.display);
    try {
      const page = await chat(erin, 'bob');
      expect((await composerStatus(page)).text).toContain('Policy team key');
      await expectFilesBlocked(
        page,
        () => server.inspect().files!.length,
        async () => {
          await dropFilesFirefox(page, screen.display, '#messages', [tempFile('secret2.bin', randomBytes(1000))]);
          await pasteImageFirefox(page, '#compose', randomPng(4, 4));
        },
      );
    } finally {
      await erin.close();
      await screen.stop();
    }
  });

  it('"allow": files go to the chat as they are', async () => {
    const frank = await managed('frank', 'allow');
    try {
      const page = await chat(frank, 'bob');
      await composerStatus(page);
      const bytes = randomBytes(5000);
      await pickFiles(page, '#file-input', [tempFile('plain.bin', bytes)]);
      await waitFor(async () => (await page.$$('#pending-files li')).length === 1, 'the plain file attached');
      const stored = server.inspect().files!.at(-1)!;
      expect(stored.name).toBe('plain.bin');
      expect(stored.sha256).toBe(sha256hex(bytes));
    } finally {
      await frank.close();
    }
  });
});

type StoredFile = NonNullable<ReturnType<ChatServer['inspect']>['files']>[number];
type StoredMessage = ReturnType<ChatServer['inspect']>['messages'][number];
