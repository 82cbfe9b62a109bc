/**
 * Encrypted attachments against plain ones, in real Chromium on the fixture chat: one file of
 * `mib` MiB attached by the file picker and downloaded, once by a user without Veil (the vendor's
 * own upload and download) and once with Veil (sealed in the background's worker while it uploads,
 * opened there while it downloads), with the JS heap of the page and of the worker sampled every
 * 100 ms: the peak above the level before says whether memory stays flat whatever the file's size.
 *
 *   vite-node bench/attachments.ts -- --mib 50   (standalone, for investigating)
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../fixtures/chat/server.mjs';
import { launchUser, waitFor, type User } from '../test/support/browser';
import { allowDownloads, pickFiles, sha256hex, tempFile } from '../test/support/files';
import { sampleHeapPeaks } from '../test/support/heap';
import { bundleText, makeKey } from '../test/support/keys';
import { composerStatus, importBundle, openChat } from '../test/support/veil-ui';

export interface AttachmentBench {
  mib: number;
  plain: { uploadMs: number; downloadMs: number };
  veil: { sealUploadMs: number; openDownloadMs: number };
  /** Peak JS heap above the level before (MiB): the sender's page and worker, the receiver's. */
  peakAboveMiB: { senderPage: number; senderWorker: number; receiverPage: number; receiverWorker: number };
  targetPeakMiB: number;
}

const PASS = 'bench attachments passphrase, not a secret';
const TARGET_PEAK_MIB = 64;
const MiB = 1024 * 1024;

const pending = (page: Page) => page.$$eval('#pending-files li', (els) => els.length);

async function send(page: Page): Promise<void> {
  await page.bringToFront();
  await page.focus('#compose');
  await page.keyboard.press('Enter');
}

/** The newest stored message from `from` with a file, once the server has it. */
async function storedFile(server: ChatServer, from: string, after: number): Promise<string> {
  let id = '';
  await waitFor(
    () => {
      const m = server
        .inspect()
        .messages.find((x) => x.from === from && Number(x.id.slice(1)) > after && x.files?.length);
      id = m?.id ?? '';
      return !!m;
    },
    `a message from ${from} with a file`,
    120_000,
  );
  return id;
}

const lastSeq = (server: ChatServer) => Math.max(0, ...server.inspect().messages.map((m) => Number(m.id.slice(1))));

export async function benchAttachments(mib: number, log: (...a: unknown[]) => void): Promise<AttachmentBench> {
  const bytes = randomBytes(mib * MiB);
  const path = tempFile('bench.bin', bytes);
  const digest = sha256hex(bytes);
  const server = await startChatServer();
  const users: User[] = [];
  try {
    const [alice, bob, dave] = await Promise.all([
      launchUser('bench-files-alice'),
      launchUser('bench-files-bob'),
      launchUser('bench-files-dave', { extension: false }),
    ]);
    users.push(alice, bob, dave);
    const key = makeKey('Bench files', { site: 'fixture-chat', conversations: ['*'] });
    const file = await bundleText([key], PASS);
    for (const u of [alice, bob])
      if ((await importBundle(u, file, PASS)).tone !== 'ok') throw new Error('key import failed');

    // Without Veil: the vendor's own upload, then its download link.
    log(`attachments: ${mib} MiB, plain upload and download`);
    const d = await openChat(dave, server.url, 'bob', 'dave');
    let t = Date.now();
    await pickFiles(d, '#file-input', [path]);
    await waitFor(async () => (await pending(d)) === 1, 'plain upload', 10 * 60_000);
    const uploadMs = Date.now() - t;
    let before = lastSeq(server);
    await send(d);
    let id = await storedFile(server, 'dave', before);
    const plainDownloads = await allowDownloads(dave);
    await d.waitForSelector(`li[data-id="${id}"] .file-link`, { timeout: 60_000 });
    t = Date.now();
    await d.click(`li[data-id="${id}"] .file-link`);
    const plainGot = await plainDownloads.take('bench.bin', 10 * 60_000);
    const downloadMs = Date.now() - t;
    if (sha256hex(plainGot) !== digest) throw new Error('plain download differs');

    // With Veil: sealed while uploading, opened while downloading.
    log(`attachments: ${mib} MiB, Veil seal + upload and download + open`);
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    await Promise.all([composerStatus(a), composerStatus(b)]);
    const stopA = await sampleHeapPeaks(alice, a);
    t = Date.now();
    await pickFiles(a, '#file-input', [path]);
    await waitFor(async () => (await pending(a)) === 1, 'sealed upload', 10 * 60_000);
    const sealUploadMs = Date.now() - t;
    const sender = await stopA();
    before = lastSeq(server);
    await send(a);
    id = await storedFile(server, 'alice', before);
    const row = `li[data-id="${id}"]`;
    await b.waitForSelector(`${row} .veil-file-download`, { timeout: 60_000 });
    const downloads = await allowDownloads(bob);
    const stopB = await sampleHeapPeaks(bob, b);
    t = Date.now();
    await b.bringToFront();
    await b.click(`${row} .veil-file-download`);
    const got = await downloads.take('bench.bin', 10 * 60_000);
    const openDownloadMs = Date.now() - t;
    const receiver = await stopB();
    if (sha256hex(got) !== digest) throw new Error('decrypted download differs');
    for (const dir of [plainDownloads.dir, downloads.dir]) rmSync(dir, { recursive: true, force: true });
    const result: AttachmentBench = {
      mib,
      plain: { uploadMs, downloadMs },
      veil: { sealUploadMs, openDownloadMs },
      peakAboveMiB: {
        senderPage: sender.page,
        senderWorker: sender.worker,
        receiverPage: receiver.page,
        receiverWorker: receiver.worker,
      },
      targetPeakMiB: TARGET_PEAK_MIB,
    };
    log(`attachments: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await Promise.all(users.map((u) => u.close().catch(() => undefined)));
    await server.close();
    rmSync(dirname(path), { recursive: true, force: true });
  }
}

const rate = (mib: number, ms: number) => (mib * 1000) / ms;

/** The results.md section. */
export function attachmentsReport(r: AttachmentBench): string[] {
  const p = r.peakAboveMiB;
  const peak = Math.max(p.senderPage, p.senderWorker, p.receiverPage, p.receiverWorker);
  const f = (n: number) => n.toFixed(1);
  return [
    `## Attachments: one ${r.mib} MiB file, plain vs encrypted (Chromium, fixture chat on 127.0.0.1)`,
    '',
    "Attached with the file picker and downloaded with the message's link. *Plain*: a browser without Veil (the vendor's own " +
      "upload and download). *Veil*: sealed in the background's worker as it uploads (64 KiB chunks, lib/crypto/file-stream.ts) " +
      'and opened there as it downloads; times run from the pick (or the click) until the upload is listed (or the file is ' +
      "in the downloads folder, checked byte for byte). Peak memory: JS heap of the page (with the content script's world) " +
      'and of the worker, sampled every 100 ms, highest value above the level before.',
    '',
    '| | plain | Veil | Veil / plain |',
    '| :--- | ---: | ---: | ---: |',
    `| upload (Veil: seal + upload), MiB/s | ${f(rate(r.mib, r.plain.uploadMs))} | ${f(rate(r.mib, r.veil.sealUploadMs))} | ${(r.veil.sealUploadMs / r.plain.uploadMs).toFixed(2)}× the time |`,
    `| download (Veil: download + open), MiB/s | ${f(rate(r.mib, r.plain.downloadMs))} | ${f(rate(r.mib, r.veil.openDownloadMs))} | ${(r.veil.openDownloadMs / r.plain.downloadMs).toFixed(2)}× the time |`,
    '',
    `Peak JS heap above the level before: sender page ${f(p.senderPage)} MiB, sender worker ${f(p.senderWorker)} MiB, ` +
      `receiver page ${f(p.receiverPage)} MiB, receiver worker ${f(p.receiverWorker)} MiB. Target under ${r.targetPeakMiB} MiB: ` +
      `${peak < r.targetPeakMiB ? 'met' : '**missed**'}.`,
    '',
  ];
}

if (process.argv.includes('--mib')) {
  const mib = Number(process.argv[process.argv.indexOf('--mib') + 1]);
  benchAttachments(mib, console.log)
    .then((r) => console.log(attachmentsReport(r).join('\n')))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
