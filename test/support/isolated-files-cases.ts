/**
 * Files in isolated mode, against the hostile fixture chat: the test body shared by the Chromium and
 * Firefox files. Alice attaches a binary and a PNG with the secure composer's own picker and sends
 * them with a caption; the page and the vendor get only sealed `.veil` files (no 16-byte run of
 * either plaintext in what the server stores, and the page's own listeners only ever saw `.veil`
 * names); bob's reader shows the real names and the decrypted image, and (where the test can read
 * downloads) saves the exact bytes. The chat's own 📎 gives the page nothing.
 */
import { expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Frame, Page } from 'puppeteer';
import type { ChatServer } from '../../fixtures/chat/server.mjs';
import { waitFor } from './browser';
import { pickFiles, randomPng, seenFiles, sha256hex, sharesA16ByteWindow, tempFile, watchPageFiles } from './files';
import { composerOfKind, composerState, inVeilFrame, veilFrames, waitForReader } from './isolated-cases';

const VEIL_NAME = /^[0-9a-f]{32}\.veil$/;

/** The reader frame on `page` whose message text is `caption`. */
async function readerWith(page: Page, caption: string): Promise<Frame> {
  let found: Frame | undefined;
  await waitFor(
    async () => {
      for (const f of await veilFrames(page, 'secure-reader.html'))
        if (
          (
            await inVeilFrame(f, 'secure-reader.html', () =>
              [...document.querySelectorAll('.veil-reader-text')].map((e) => e.textContent),
            )
          )?.includes(caption)
        )
          found = f;
      return !!found;
    },
    `bob's reader of ${caption}`,
    20_000,
  );
  return found!;
}

export async function filesInIsolated(
  server: ChatServer,
  a: Page,
  b: Page,
  download?: { take(name: string, timeoutMs?: number): Promise<Buffer> },
): Promise<void> {
  const bin = randomBytes(300_000); // more than one piece of 256 KiB
  const png = randomPng(20, 20);
  const caption = 'Quokka files attached';
  await watchPageFiles(a);

  // The chat's own picker in isolated mode: the page gets nothing, and the user is told where to attach.
  await pickFiles(a, '#file-input', [tempFile('leak.bin', bin)]);
  await waitFor(
    async () => /secure composer/.test((await a.$eval('.veil-composer-status', (el) => el.textContent)) ?? ''),
    "the chat's own picker refused",
  );

  const composer = await composerOfKind(a, 'main');
  expect(await composer.$eval('#attach', (el) => (el as HTMLButtonElement).hidden)).toBe(false);
  const picker = await composer.$('#files');
  await (picker as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(
    tempFile('contract.bin', bin),
    tempFile('photo.png', png),
  );
  await waitFor(async () => /\(2\b/.test((await composerState(composer)).notice), 'both files attached', 30_000);
  // The chat lists an upload once its request is done: a moment after Veil handed it the file.
  await waitFor(async () => (await a.$$('#pending-files li')).length === 2, 'the chat to list both uploads');
  expect(await a.$$eval('#pending-files li', (els) => els.map((e) => e.textContent?.split(' ')[0]))).toEqual([
    expect.stringMatching(VEIL_NAME),
    expect.stringMatching(VEIL_NAME),
  ]);

  await a.bringToFront();
  await a.focus('#compose'); // Veil's composer takes the keys
  await composer.waitForFunction(() => document.activeElement?.id === 'input', { polling: 50 });
  await a.keyboard.type(caption);
  await a.keyboard.press('Enter');
  let m: ReturnType<ChatServer['inspect']>['messages'][number] | undefined;
  await waitFor(() => !!(m = server.inspect().messages.find((x) => x.files?.length === 2)), 'the message with files');
  for (const f of m!.files!) {
    const stored = server.inspect().files!.find((s) => s.id === f.id)!;
    expect(stored.name).toMatch(VEIL_NAME);
    const bytes = readFileSync(stored.path);
    expect(sharesA16ByteWindow(bytes, bin) || sharesA16ByteWindow(bytes, png)).toBe(false);
  }
  const seen = await seenFiles(a);
  expect(seen.length).toBeGreaterThan(0);
  for (const name of seen) expect(name).toMatch(VEIL_NAME);

  await waitForReader(b, server, caption);
  const reader = await readerWith(b, caption);
  const names = await reader.$$eval('.veil-file-name', (els) => els.map((e) => e.textContent ?? ''));
  expect(names.join(' ')).toContain('contract.bin');
  expect(names.join(' ')).toContain('photo.png');
  await reader.waitForSelector('img.veil-file-preview', { timeout: 20_000 });
  const width = await reader.$eval('img.veil-file-preview', async (img) => {
    await (img as HTMLImageElement).decode();
    return (img as HTMLImageElement).naturalWidth;
  });
  expect(width).toBe(20);
  if (download) {
    await b.bringToFront();
    const boxes = await reader.$$('.veil-file');
    const which = names.findIndex((n) => n.includes('contract.bin'));
    await (await boxes[which]!.$('.veil-file-download'))!.click();
    expect(sha256hex(await download.take('contract.bin'))).toBe(sha256hex(bin));
  }
  // Bob's list back at its end: the file's tall reader grew after the chat scrolled there.
  await b.$eval('#messages', (el) => el.lastElementChild?.scrollIntoView());
}
