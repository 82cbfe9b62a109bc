/**
 * Encrypted attachments in real Chromium, against the fixture chat as the vendor: files attached by
 * picker, drag and drop and paste reach the vendor only sealed (no 16-byte run of the plaintext in
 * what it stores), the receiver downloads the exact bytes and sees the image, and a stored file the
 * vendor altered, cut or swapped is refused. A hostile page that scripts the same events makes
 * Veil encrypt nothing. The fixture's uploads work without Veil too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { admin, generateKey } from '../support/admin';
import { launchUser, waitFor, waitForPolicy, type User } from '../support/browser';
import { bundleText, makeKey } from '../support/keys';
import { composerStatus, importBundle, openChat } from '../support/veil-ui';
import {
  allowDownloads,
  dropFiles,
  pasteImage,
  pickFiles,
  randomPng,
  sha256hex,
  seenFiles,
  sharesA16ByteWindow,
  tempFile,
  watchPageFiles,
} from '../support/files';
import { expectFilesBlocked } from '../support/files-cases';
import { sampleHeapPeaks } from '../support/heap';
import { hexToBytes } from '@noble/ciphers/utils.js';
import { findEnvelopes } from '../../lib/crypto/codec';
import { deriveKey, openMessage } from '../../lib/crypto/envelope';

const PASS = 'attachments passphrase';
const VEIL_NAME = /^[0-9a-f]{32}\.veil$/;

let server: ChatServer;
let alice: User;
let bob: User;
let plain: User;
const key = makeKey('Team files', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob, plain] = await Promise.all([
    launchUser('alice'),
    launchUser('bob'),
    launchUser('dave', { extension: false }),
  ]);
  const file = await bundleText([key], PASS);
  for (const u of [alice, bob]) expect((await importBundle(u, file, PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close(), plain?.close()]);
  await server?.close();
});

async function pendingCount(page: Page): Promise<number> {
  return page.$$eval('#pending-files li', (els) => els.length);
}

async function sendNow(page: Page, caption = ''): Promise<void> {
  await page.bringToFront();
  await page.focus('#compose');
  if (caption) await page.keyboard.sendCharacter(caption);
  await page.keyboard.press('Enter');
}

/** Waits for the newest stored message from `from` with `n` files. */
async function storedWithFiles(from: string, n: number, after: number) {
  let hit: ReturnType<ChatServer['inspect']>['messages'][number] | undefined;
  await waitFor(() => {
    hit = server
      .inspect()
      .messages.find((m) => m.from === from && Number(m.id.slice(1)) > after && m.files?.length === n);
    return !!hit;
  }, `a message from ${from} with ${n} files`);
  return hit!;
}

const lastSeq = () => Number(server.inspect().messages.at(-1)?.id.slice(1) ?? 0);
const storedFile = (id: string) => server.inspect().files!.find((f) => f.id === id)!;

describe('fixture chat uploads without Veil', () => {
  it('picker, drop and paste upload the exact bytes; images preview; downloads work', async () => {
    const page = await openChat(plain, server.url, 'carol');
    const bin = randomBytes(200_000);
    const png = randomPng(16, 16);
    const before = lastSeq();
    await pickFiles(page, '#file-input', [tempFile('notes.bin', bin)]);
    await waitFor(async () => (await pendingCount(page)) === 1, 'picked file');
    await dropFiles(page, '#messages', [tempFile('dropped.png', png)]);
    await waitFor(async () => (await pendingCount(page)) === 2, 'dropped file');
    await pasteImage(plain, page, '#compose', png);
    await waitFor(async () => (await pendingCount(page)) === 3, 'pasted image');
    await sendNow(page, 'three files');
    const m = await storedWithFiles('dave', 3, before);
    const hashes = m.files!.map((f) => storedFile(f.id).sha256);
    expect(hashes[0]).toBe(sha256hex(bin));
    expect(hashes[1]).toBe(sha256hex(png));
    // Chromium re-encodes a pasted image (clipboard sanitizing): still a PNG, stored as the page sent it.
    const pasted = readFileSync(storedFile(m.files![2]!.id).path);
    expect(pasted.subarray(0, 8)).toEqual(png.subarray(0, 8));
    await page.waitForSelector(`li[data-id="${m.id}"] img.preview`);
    const natural = await page.$eval(`li[data-id="${m.id}"] img.preview`, async (img) => {
      await (img as HTMLImageElement).decode();
      return (img as HTMLImageElement).naturalWidth;
    });
    expect(natural).toBe(16);
    const fetched = await page.evaluate(async (url) => {
      const b = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return Array.from(b.subarray(0, 64));
    }, m.files![0]!.url + '?download');
    expect(fetched).toEqual(Array.from(bin.subarray(0, 64)));
    await page.close();
  });
});

describe('encrypted attachments (inline mode, Chromium)', () => {
  let alicePage: Page;
  let bobPage: Page;
  const bin = randomBytes(10 * 1024 * 1024 + 123);
  const png = randomPng(24, 24);

  it('picker: the page and the vendor get only sealed .veil files; bob downloads the exact bytes and sees the image', async () => {
    [alicePage, bobPage] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    expect((await composerStatus(alicePage)).text).toContain(key.label);
    await watchPageFiles(alicePage);
    const before = lastSeq();
    await pickFiles(alicePage, '#file-input', [tempFile('contract.bin', bin), tempFile('photo.png', png)]);
    await waitFor(async () => (await pendingCount(alicePage)) === 2, 'two sealed files attached', 60_000);
    const seen = await seenFiles(alicePage);
    expect(seen).toHaveLength(2);
    for (const name of seen) expect(name).toMatch(VEIL_NAME);
    // Nor does Veil's own line under the composer (it is in the page) name them.
    expect(await alicePage.evaluate(() => document.documentElement.outerHTML)).not.toMatch(/contract\.bin|photo\.png/);
    await sendNow(alicePage, 'signed contract attached');
    const m = await storedWithFiles('alice', 2, before);
    expect(m.text).toMatch(/^VEIL1/);
    expect(m.text).not.toContain('contract');
    for (const [i, f] of m.files!.entries()) {
      expect(f.name).toMatch(VEIL_NAME);
      expect(f.type).toBe('application/octet-stream');
      const stored = readFileSync(storedFile(f.id).path);
      expect(sharesA16ByteWindow(stored, i === 0 ? bin : png)).toBe(false);
    }
    // Nothing the vendor received anywhere names the files.
    expect(JSON.stringify(server.inspect())).not.toMatch(/contract\.bin|photo\.png/);

    // Bob: real names, a decrypted preview, a download of the exact bytes.
    const row = `li[data-id="${m.id}"]`;
    await bobPage.waitForSelector(`${row} .veil-file img.veil-file-preview`, { timeout: 30_000 });
    const labels = await bobPage.$$eval(`${row} .veil-file-name`, (els) => els.map((e) => e.textContent));
    expect(labels[0]).toContain('contract.bin');
    expect(labels[0]).toContain('10.0 MB');
    expect(labels[1]).toContain('photo.png');
    expect(await bobPage.$eval(`${row} .veil-plain`, (el) => el.firstChild?.textContent)).toBe(
      'signed contract attached',
    );
    const width = await bobPage.$eval(`${row} img.veil-file-preview`, async (img) => {
      await (img as HTMLImageElement).decode();
      return (img as HTMLImageElement).naturalWidth;
    });
    expect(width).toBe(24);
    const downloads = await allowDownloads(bob);
    await bobPage.bringToFront();
    await bobPage.click(`${row} .veil-file:nth-of-type(1) .veil-file-download`);
    expect(sha256hex(await downloads.take('contract.bin'))).toBe(sha256hex(bin));
  });

  it('drop: files dragged onto the chat are sealed before the page sees them', async () => {
    await watchPageFiles(alicePage);
    const before = lastSeq();
    const doc = randomBytes(300_000);
    await dropFiles(alicePage, '#messages', [tempFile('dropped.pdf', doc)]);
    await waitFor(async () => (await pendingCount(alicePage)) === 1, 'dropped file sealed and attached');
    expect((await seenFiles(alicePage)).every((n) => VEIL_NAME.test(n))).toBe(true);
    await sendNow(alicePage);
    const m = await storedWithFiles('alice', 1, before);
    expect(sharesA16ByteWindow(readFileSync(storedFile(m.files![0]!.id).path), doc)).toBe(false);
    await bobPage.waitForSelector(`li[data-id="${m.id}"] .veil-file`);
    expect(await bobPage.$eval(`li[data-id="${m.id}"] .veil-file-name`, (e) => e.textContent)).toContain('dropped.pdf');
  });

  it('paste: a pasted image is sealed; bob sees its preview', async () => {
    await watchPageFiles(alicePage);
    const before = lastSeq();
    const shot = randomPng(20, 12);
    await pasteImage(alice, alicePage, '#compose', shot);
    await waitFor(async () => (await pendingCount(alicePage)) === 1, 'pasted image sealed and attached');
    expect((await seenFiles(alicePage)).every((n) => VEIL_NAME.test(n))).toBe(true);
    await sendNow(alicePage);
    const m = await storedWithFiles('alice', 1, before);
    await bobPage.waitForSelector(`li[data-id="${m.id}"] img.veil-file-preview`, { timeout: 20_000 });
    // Chromium re-encodes a pasted image: what alice's page had is what bob decrypts.
    const name = await bobPage.$eval(`li[data-id="${m.id}"] .veil-file-name`, (e) => e.textContent ?? '');
    const fileName = /🔒 (.+?) \(/.exec(name)![1]!;
    // A page's second download waits for the user's "allow multiple downloads": a fresh page here.
    const fresh = await openChat(bob, server.url, 'alice');
    const downloads = await allowDownloads(bob);
    await fresh.waitForSelector(`li[data-id="${m.id}"] img.veil-file-preview`, { timeout: 20_000 });
    await fresh.click(`li[data-id="${m.id}"] .veil-file-download`);
    const decrypted = await downloads.take(fileName);
    await fresh.close();
    expect(decrypted.subarray(0, 8)).toEqual(shot.subarray(0, 8));
    expect(sharesA16ByteWindow(readFileSync(storedFile(m.files![0]!.id).path), decrypted)).toBe(false);
  });

  it('edit: a message with a file opens for editing with its words only; the edit keeps the file', async () => {
    const before = lastSeq();
    await pickFiles(alicePage, '#file-input', [tempFile('agenda.bin', randomBytes(2000))]);
    await waitFor(async () => (await pendingCount(alicePage)) === 1, 'the file sealed and attached');
    await sendNow(alicePage, 'see the agenda');
    const m = await storedWithFiles('alice', 1, before);
    const row = `li.message[data-id="${m.id}"]`;
    await alicePage.waitForSelector(`${row} .veil-file`);
    await alicePage.$eval(`${row} button.edit`, (el) => (el as HTMLElement).click()); // the chat's own button
    const box = () => alicePage.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).value);
    await waitFor(async () => (await box()) !== '' && !/^VEIL/.test(await box()), 'the edit box filled by Veil');
    expect(await box()).toBe('see the agenda'); // not the file's reference line
    await alicePage.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).select());
    await alicePage.focus('.edit-input');
    await alicePage.keyboard.sendCharacter('see the new agenda');
    await alicePage.keyboard.press('Enter');
    await waitFor(() => !!server.inspect().messages.find((x) => x.id === m.id)?.edited, 'the edit stored');
    await bobPage.waitForFunction(
      (sel) => /see the new agenda/.test(document.querySelector(`${sel} .veil-plain`)?.textContent ?? ''),
      {},
      row,
    );
    expect(await bobPage.$eval(`${row} .veil-file-name`, (e) => e.textContent)).toContain('agenda.bin');
    expect(await bobPage.$eval(`${row} .veil-plain`, (e) => e.textContent)).not.toContain('veil-file/1');
    // The line Veil showed under the edit box went with it: it is back under the main composer.
    await alicePage.waitForFunction(() => {
      const compose = document.querySelector('#compose')!;
      const line = (compose.closest('form') ?? compose).nextElementSibling;
      return line?.classList.contains('veil-composer-status') && /Encrypt|encrypt/.test(line.textContent ?? '');
    });
  });

  it("an edit box the page plants on someone else's message carries none of their files into what the user saves", async () => {
    const theirs = server
      .inspect()
      .messages.filter((x) => x.from === 'alice' && x.files?.length)
      .at(-1)!;
    const row = `li.message[data-id="${theirs.id}"]`;
    await bobPage.waitForSelector(`${row} .veil-file`);
    // In bob's view of alice's message the page plants an edit box holding her envelope, and keeps
    // every value the box takes.
    await bobPage.evaluate(
      (sel, envelope) => {
        const box = document.createElement('textarea');
        box.className = 'edit-input';
        box.value = envelope;
        const w = window as unknown as { through: string[] };
        w.through = [];
        box.addEventListener('input', () => w.through.push(box.value));
        document.querySelector(sel)!.append(box);
      },
      row,
      theirs.text,
    );
    const planted = `${row} .edit-input`;
    await bobPage.waitForFunction(
      (sel) => /\S/.test((document.querySelector(sel) as HTMLTextAreaElement).value.replace(/VEIL\S*/g, '')),
      {},
      planted,
    );
    // bob types his words there and presses Enter: what Veil seals is his words alone.
    await bobPage.bringToFront();
    await bobPage.$eval(planted, (el) => (el as HTMLTextAreaElement).select());
    await bobPage.focus(planted);
    await bobPage.keyboard.sendCharacter('changed by bob');
    await bobPage.keyboard.press('Enter');
    const sealed = () =>
      bobPage.evaluate(() => (window as unknown as { through: string[] }).through.find((v) => /VEIL1/.test(v)));
    await waitFor(async () => !!(await sealed()), 'the envelope Veil put in the box', 15_000);
    const frame = (findEnvelopes((await sealed())!)[0] as { frame: Uint8Array }).frame;
    const derived = deriveKey({ id: hexToBytes(key.id), secret: key.secret });
    const opened = openMessage(derived, frame, { conversationId: 'dm-alice-bob', senderId: 'bob' });
    expect(opened).toMatchObject({ status: 'decrypted', text: 'changed by bob' });
  });

  it('tampered, truncated and swapped files are refused with the reason, and yield no preview', async () => {
    const sent = server.inspect().messages.filter((m) => m.from === 'alice' && m.files?.length);
    const sealedOf = (m: (typeof sent)[number], which: 'smallest' | 'only') => {
      const list = m.files!.map((f) => storedFile(f.id)).sort((a, b) => a.size - b.size);
      return which === 'only' ? list[0]! : list[0]!;
    };
    const veilId = (f: { name: string }) => f.name.replace('.veil', '');
    // The picker's PNG: one byte altered. The pasted image: cut short. The dropped file: swapped for the PNG.
    const [picked, dropped, pasted] = sent as [(typeof sent)[number], (typeof sent)[number], (typeof sent)[number]];
    const png = sealedOf(picked, 'smallest');
    const original = readFileSync(png.path);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 100]! ^= 1;
    writeFileSync(png.path, flipped);
    const cut = sealedOf(pasted, 'only');
    truncateSync(cut.path, cut.size - 1000);
    const swapped = sealedOf(dropped, 'only');
    writeFileSync(swapped.path, original);
    await bobPage.reload();
    const note = async (id: string) => {
      const sel = `[data-veil-file="${id}"] .veil-file-note`;
      await bobPage.waitForFunction((s) => /⚠/.test(document.querySelector(s)?.textContent ?? ''), {}, sel);
      return bobPage.$eval(sel, (e) => e.textContent ?? '');
    };
    expect(await note(veilId(png))).toMatch(/altered/);
    expect(await note(veilId(cut))).toMatch(/cut short|altered/);
    await bobPage.bringToFront();
    await bobPage.click(`[data-veil-file="${veilId(swapped)}"] .veil-file-download`);
    expect(await note(veilId(swapped))).toMatch(/not the file the message names/);
    for (const f of [png, cut]) expect(await bobPage.$$(`[data-veil-file="${veilId(f)}"] img`)).toHaveLength(0);
  });

  it('a hostile page scripting change, drop and paste with its own files makes Veil encrypt nothing', async () => {
    const files = server.inspect().files!.length;
    const statusBefore = await alicePage.$eval('.veil-composer-status', (e) => e.textContent);
    await alicePage.evaluate(() => {
      const make = () => {
        const dt = new DataTransfer();
        dt.items.add(new File(['page-made secret'], 'forged.txt', { type: 'text/plain' }));
        return dt;
      };
      const input = document.querySelector<HTMLInputElement>('#file-input')!;
      input.files = make().files;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
      document
        .querySelector('#messages')!
        .dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: make() }));
      document
        .querySelector('#compose')!
        .dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: make() }));
    });
    // The page's own handlers uploaded its own file three times, as they would anyway: never sealed.
    await waitFor(() => server.inspect().files!.length === files + 3, 'the page uploading its own file');
    const names = server
      .inspect()
      .files!.slice(files)
      .map((f) => f.name);
    expect(names).toEqual(['forged.txt', 'forged.txt', 'forged.txt']);
    expect(await alicePage.$eval('.veil-composer-status', (e) => e.textContent)).toBe(statusBefore);
    await alicePage.evaluate(() => {
      for (const b of document.querySelectorAll<HTMLButtonElement>('.remove-file')) b.click();
    });
  });

  it('a file picker inside a closed shadow root (a web component) is sealed too', async () => {
    await alicePage.evaluate(() => {
      const w = window as unknown as { shadowInput: HTMLInputElement; shadowSeen: string[] };
      const host = document.createElement('div');
      const root = host.attachShadow({ mode: 'closed' });
      const input = document.createElement('input');
      input.type = 'file';
      w.shadowSeen = [];
      input.addEventListener('change', () => {
        for (const f of input.files ?? []) w.shadowSeen.push(f.name);
      });
      root.append(input);
      document.querySelector('main')!.append(host);
      w.shadowInput = input;
    });
    const input = await alicePage.evaluateHandle(() => (window as unknown as { shadowInput: Element }).shadowInput);
    await (input as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(
      tempFile('web-component.txt', Buffer.from('closed shadow secret')),
    );
    const seen = () => alicePage.evaluate(() => (window as unknown as { shadowSeen: string[] }).shadowSeen);
    await waitFor(async () => (await seen()).length > 0, 'the component given a file', 30_000);
    expect(await seen()).toEqual([expect.stringMatching(VEIL_NAME)]);
  });
});

describe('policy attachments: "block" and "allow" (managed Chromium)', () => {
  let work: string;
  const users: User[] = [];
  afterAll(async () => {
    await Promise.all(users.map((u) => u.close()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A managed browser whose policy protects the fixture chat with `attachments` set. */
  async function managed(name: string, attachments: 'block' | 'allow'): Promise<User> {
    work ??= mkdtempSync(join(tmpdir(), 'veil-att-policy-'));
    const keys = join(work, `${name}.veilkeys.json`);
    await generateKey(keys, 'Policy team key', ['dm-alice-bob']);
    const out = join(work, name);
    await admin(
      'policy',
      '--keys',
      keys,
      '--protect',
      `fixture-chat=${server.url}/*`,
      '--no-force-install',
      '--out',
      out,
    );
    const policy = JSON.parse(readFileSync(join(out, 'chrome-linux', 'veil.json'), 'utf8'));
    const veil = (function find(o: Record<string, unknown>): Record<string, unknown> | undefined {
      if (o && typeof o === 'object' && 'protectedSites' in o) return o;
      for (const v of Object.values(o ?? {})) {
        const hit = v && typeof v === 'object' ? find(v as Record<string, unknown>) : undefined;
        if (hit) return hit;
      }
      return undefined;
    })(policy)!;
    veil.attachments = attachments;
    const user = await launchUser(name, { policy: JSON.stringify(policy) });
    users.push(user);
    await waitForPolicy(user, `${server.url}/*`);
    return user;
  }

  it('"block": a picked, dropped or pasted file is refused with a line under the composer; nothing is uploaded', async () => {
    const user = await managed('erin', 'block');
    const page = await openChat(user, server.url, 'bob', 'alice');
    expect((await composerStatus(page)).text).toContain('Policy team key');
    await expectFilesBlocked(
      page,
      () => server.inspect().files!.length,
      async () => {
        await dropFiles(page, '#messages', [tempFile('secret2.bin', randomBytes(1000))]);
        await pasteImage(user, page, '#compose', randomPng(4, 4));
      },
    );
  });

  it('"allow": files go to the chat as they are', async () => {
    const user = await managed('frank', 'allow');
    const page = await openChat(user, server.url, 'bob', 'alice');
    await composerStatus(page);
    const bytes = randomBytes(5000);
    await pickFiles(page, '#file-input', [tempFile('plain.bin', bytes)]);
    await waitFor(async () => (await pendingCount(page)) === 1, 'plain file attached');
    const stored = server.inspect().files!.at(-1)!;
    expect(stored.name).toBe('plain.bin');
    expect(stored.sha256).toBe(sha256hex(bytes));
  });
});

/**
 * Memory while a large file is sealed and opened (set VEIL_ATTACHMENT_MB, e.g. 200): the JS heap of
 * the sender's page (the content script's world shares it) and of each background worker, sampled
 * every 100 ms, peak above the level before. Not part of the default run: it takes minutes.
 */
describe.runIf(process.env.VEIL_ATTACHMENT_MB)('memory with a large attachment', () => {
  it(
    'stays flat while sealing, uploading, downloading and opening',
    async () => {
      const mb = Number(process.env.VEIL_ATTACHMENT_MB);
      const big = randomBytes(mb * 1024 * 1024);
      const path = tempFile('large.bin', big);
      const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
      await composerStatus(a);
      const round = (n: number) => Math.round(n * 10) / 10;
      const sample = async (user: User, page: Page) => {
        const stop = await sampleHeapPeaks(user, page);
        return async () => {
          const p = await stop();
          return { pageAbove: round(p.page), workerAbove: round(p.worker), pageBase: round(p.pageBase) };
        };
      };
      const before = lastSeq();
      const stopA = await sample(alice, a);
      const t0 = Date.now();
      await pickFiles(a, '#file-input', [path]);
      await waitFor(async () => (await pendingCount(a)) === 1, 'large file sealed and uploaded', 15 * 60_000);
      const sealMs = Date.now() - t0;
      const sender = await stopA();
      await sendNow(a);
      const m = await storedWithFiles('alice', 1, before);
      const row = `li[data-id="${m.id}"]`;
      await b.waitForSelector(`${row} .veil-file-download`, { timeout: 30_000 });
      const downloads = await allowDownloads(bob);
      const stopB = await sample(bob, b);
      const t1 = Date.now();
      await b.bringToFront();
      await b.click(`${row} .veil-file-download`);
      const got = await downloads.take('large.bin').catch(() => Buffer.alloc(0));
      const openMs = Date.now() - t1;
      const receiver = await stopB();
      console.log(
        `[attachments] ${mb} MiB: seal+upload ${sealMs} ms (${((mb * 1000) / sealMs).toFixed(1)} MiB/s), ` +
          `download+open ${openMs} ms (${((mb * 1000) / openMs).toFixed(1)} MiB/s); ` +
          `peak JS heap above baseline: sender page ${sender.pageAbove} MiB, sender worker ${sender.workerAbove} MiB, ` +
          `receiver page ${receiver.pageAbove} MiB, receiver worker ${receiver.workerAbove} MiB`,
      );
      expect(sha256hex(got)).toBe(sha256hex(big));
    },
    30 * 60_000,
  );
});
