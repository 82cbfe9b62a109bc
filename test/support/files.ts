/**
 * Attaching files the way a person does: the file picker, a drag and drop from the desktop
 * (Chromium: CDP Input.dispatchDragEvent, trusted events carrying real files; Firefox on a virtual
 * display: a real drag from another window, see dropFilesFirefox), and a paste of an image (the
 * system clipboard, then Ctrl+V). And what tests check about stored bytes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer';
import { waitFor, type User } from './browser';

export const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Writes `bytes` as `name` into a fresh temp dir; returns the path. */
export function tempFile(name: string, bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'veil-att-')), name);
  writeFileSync(path, bytes);
  return path;
}

/** A valid PNG of random pixels: no two test images share bytes. */
export function randomPng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let i = 1; i <= width * 3; i++) raw[row + i] = (Math.random() * 256) | 0;
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The picker: as if the user chose `paths` in the dialog the attach button opens. */
export async function pickFiles(page: Page, selector: string, paths: string[]): Promise<void> {
  const input = await page.$(selector);
  if (!input) throw new Error(`no ${selector}`);
  await (input as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(...paths);
}

/** A drag of real files from outside the browser onto the element `selector`: trusted drag events. */
export async function dropFiles(page: Page, selector: string, paths: string[]): Promise<void> {
  const box = await (await page.$(selector))!.boundingBox();
  if (!box) throw new Error(`${selector} is not rendered`);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  const cdp = await page.createCDPSession();
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
    await cdp.send('Input.dispatchDragEvent', { type, x, y, data });
  }
  await cdp.detach();
}

/**
 * Firefox on the X display `display` (test/support/xvfb.ts): files dragged from another window
 * onto the element `selector`, with the mouse, as a user drags them from a file manager. The window
 * system delivers the drop (XDND), so Firefox fires trusted drag events carrying real files.
 */
export async function dropFilesFirefox(page: Page, display: string, selector: string, paths: string[]): Promise<void> {
  await page.bringToFront();
  // Screen coordinates of the target's centre: the content area's place on screen plus the box.
  const to = await page.$eval(selector, (el) => {
    const r = el.getBoundingClientRect();
    const w = window as unknown as { mozInnerScreenX: number; mozInnerScreenY: number };
    return {
      x: Math.round(w.mozInnerScreenX + r.x + r.width / 2),
      y: Math.round(w.mozInnerScreenY + r.y + r.height / 2),
    };
  });
  const env = { ...process.env, DISPLAY: display };
  // The source window sits in the screen's corner, clear of the browser's 1,100 px wide viewport.
  const from = { x: 1160, y: 930 };
  const source = spawn(
    '/usr/bin/python3',
    [fileURLToPath(new URL('./drag-source.py', import.meta.url)), `${from.x - 40}`, `${from.y - 30}`, ...paths],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ended = new Promise<number | null>((r) => source.on('exit', r));
  try {
    await new Promise<void>((ready, fail) => {
      source.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && ready());
      source.on('exit', (code) =>
        fail(new Error(`the drag source window exited (${code}); Debian python3-gi and gir1.2-gtk-3.0 missing?`)),
      );
    });
    // Press, move past the drag threshold, travel to the target, wiggle so it sees a position, release.
    const steps = [
      ['mousemove', `${from.x}`, `${from.y}`],
      ['mousedown', '1'],
      ['mousemove', `${from.x - 20}`, `${from.y - 20}`],
      ['mousemove', `${Math.round((from.x + to.x) / 2)}`, `${Math.round((from.y + to.y) / 2)}`],
      ['mousemove', `${to.x}`, `${to.y}`],
      ['mousemove', `${to.x + 3}`, `${to.y + 3}`],
      ['mouseup', '1'],
    ];
    for (const step of steps) {
      await run('xdotool', step, env);
      await new Promise((r) => setTimeout(r, 150)); // the two programs exchange XDND messages meanwhile
    }
    const code = await Promise.race([ended, new Promise((r) => setTimeout(() => r('running'), 10_000))]);
    if (code !== 0) throw new Error(`the drag did not end (drag source: ${code})`);
  } finally {
    source.kill();
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((done, fail) => {
    const p = spawn(cmd, args, { env, stdio: 'ignore' });
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

/** Puts a PNG on the system clipboard and presses Ctrl+V in `selector`. */
export async function pasteImage(user: User, page: Page, selector: string, png: Uint8Array): Promise<void> {
  const origin = new URL(page.url()).origin;
  await user.browser
    .defaultBrowserContext()
    .overridePermissions(origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
  await page.bringToFront();
  await page.focus(selector);
  await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': new Blob([bytes], { type: 'image/png' }) })]);
  }, Buffer.from(png).toString('base64'));
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyV', { commands: ['Paste'] } as never);
  await page.keyboard.up('Control');
}

/**
 * Firefox (on an X display: headless Firefox's clipboard carries text only): a click in `selector`
 * (the user activation the clipboard asks for), a PNG on the clipboard, then Ctrl+V there.
 */
export async function pasteImageFirefox(page: Page, selector: string, png: Uint8Array): Promise<void> {
  await page.bringToFront();
  await page.click(selector);
  const wrote = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': new Blob([bytes], { type: 'image/png' }) })]);
    return true;
  }, Buffer.from(png).toString('base64'));
  if (!wrote) throw new Error('clipboard write refused');
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyV');
  await page.keyboard.up('Control');
}

/** True when `stored` contains any 16-byte run of `plain` (via its 8-byte windows at every 8th offset). */
export function sharesA16ByteWindow(stored: Uint8Array, plain: Uint8Array): boolean {
  const p = Buffer.from(plain);
  const s = Buffer.from(stored);
  const windows = new Set<string>();
  for (let i = 0; i + 8 <= p.length; i += 8) windows.add(p.toString('latin1', i, i + 8));
  // Any common run of 16 bytes holds one of plain's 8-aligned 8-byte windows.
  for (let i = 0; i + 8 <= s.length; i++) if (windows.has(s.toString('latin1', i, i + 8))) return true;
  return false;
}

/**
 * Lets the browser save downloads into a fresh dir; `take(name)` waits until the browser says that
 * download is complete, then reads it (a file can be in the folder under its name before all of
 * its bytes are: reading it then gave an empty file under load).
 */
export async function allowDownloads(
  user: User,
): Promise<{ dir: string; take(name: string, timeoutMs?: number): Promise<Buffer> }> {
  const dir = mkdtempSync(join(tmpdir(), 'veil-downloads-'));
  const cdp = await user.browser.target().createCDPSession();
  const names = new Map<string, string>();
  const completed = new Set<string>();
  cdp.on('Browser.downloadWillBegin', (e: { guid: string; suggestedFilename: string }) =>
    names.set(e.guid, e.suggestedFilename),
  );
  cdp.on('Browser.downloadProgress', (e: { guid: string; state: string }) => {
    const name = names.get(e.guid);
    if (e.state === 'completed' && name !== undefined) completed.add(name);
  });
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir, eventsEnabled: true });
  return {
    dir,
    async take(name, timeoutMs = 30_000) {
      await waitFor(() => completed.has(name) && readdirSync(dir).includes(name), `download of ${name}`, timeoutMs);
      return readFileSync(join(dir, name));
    },
  };
}

/** Records the names of the files the page's own listeners are given from now on (`seenFiles`). */
export async function watchPageFiles(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { seenFiles?: string[] };
    const watching = !!w.seenFiles;
    w.seenFiles = [];
    if (watching) return; // listeners are in place already: a second set would count each file twice
    const note = (list: FileList | null | undefined) => {
      for (const f of list ?? []) w.seenFiles!.push(f.name);
    };
    document.addEventListener('change', (e) => note((e.target as HTMLInputElement).files), true);
    document.addEventListener('drop', (e) => note(e.dataTransfer?.files), true);
    document.addEventListener('paste', (e) => note(e.clipboardData?.files), true);
  });
}

export const seenFiles = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { seenFiles: string[] }).seenFiles);
