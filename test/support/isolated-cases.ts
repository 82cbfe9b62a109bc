/**
 * Isolated mode against the hostile fixture chat (fixtures/chat/public/hostile.js records everything
 * page script can reach and ships it to the server): helpers and test bodies shared by the Chromium
 * and Firefox files. Tests look inside Veil's frames through the automation protocol (test-only).
 */
import { expect } from 'vitest';
import type { CDPSession, Frame, Page, Target } from 'puppeteer';
import type { ChatServer, InspectRecord } from '../../fixtures/chat/server.mjs';
import { waitFor } from './browser';
import { rewriteOwnDocument } from './chat';
import { leakedSubstrings } from './leaks';

/** Words the hostile page looks for with window.find (one per secret, distinctive). */
export const PROBES = ['Zyxcorp', 'Quokka', 'Wugrel'];

export async function openHostile(
  user: { name: string; newPage(): Promise<Page> },
  server: ChatServer,
  conv: string,
  extra = `&probe=${PROBES.join(',')}`,
): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`${server.url}/hostile.html?user=${user.name}&conv=${conv}${extra}`);
  await page.waitForSelector('#compose');
  return page;
}

/** How many of the hostile page's own frames finished loading (Veil's page or an error page). */
export function spyFramesSettled(page: Page): Promise<number> {
  return page.$$eval(
    '.spy-frame',
    (fs) => fs.filter((f) => (f as HTMLIFrameElement & { veilSettled?: boolean }).veilSettled).length,
  );
}

const within = <T>(p: Promise<T>, ms = 3_000): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]).catch(() => undefined);

/**
 * Runs `fn` in one of Veil's frames (`file`), bounded. Puppeteer can wait forever for the context
 * of a frame that turned out-of-process while it was being asked (puppeteer issue 10715: Veil's
 * frames load about:blank first, then the extension page); such a hang once stalled every later
 * read in the same browser. Then the frame's own CDP session is asked directly, and the answer is
 * taken only if it came from Veil's page (a session not yet swapped would answer for the parent).
 */
export async function inVeilFrame<T>(f: Frame, file: string, fn: () => T): Promise<T | undefined> {
  if (f.detached) return undefined;
  const client = (f as unknown as { client?: CDPSession }).client;
  // A frame whose evaluate hung once (Chromium) hangs again: asked through its session at once from
  // then on (each hang costs the bound, and a wait polling a few such frames crawled). An evaluate
  // that failed (a frame still loading) is not a hang.
  if (!hung.has(f)) {
    const r = await Promise.race([
      f.evaluate(fn).then(
        (value) => ({ value }),
        () => ({ value: undefined }),
      ),
      new Promise<'hung'>((res) => setTimeout(() => res('hung'), 3_000)),
    ]);
    if (r !== 'hung' && r.value !== undefined) return r.value;
    if (r === 'hung' && client) hung.add(f);
  }
  if (!client) return undefined; // Firefox (WebDriver BiDi): nothing to fall back to
  const res = await within(client.send('Runtime.evaluate', { expression: expressionOf(fn), returnByValue: true }));
  const got = (res?.result.value ?? (await viaTarget(f, expressionOf(fn)))) as { path: string; value: T } | undefined;
  if (!got?.path.endsWith(`/${file}`)) return undefined;
  console.warn(`[test] ${file}: puppeteer's evaluate hung; read through the frame's CDP session`);
  return got.value;
}

const hung = new WeakSet<Frame>();

const expressionOf = (fn: () => unknown) => `(() => ({ path: location.pathname, value: (${fn.toString()})() }))()`;

/**
 * Evaluates in an out-of-process frame through a session of its own target, when the one
 * puppeteer keeps for the frame still answers for the parent (the frame was swapped meanwhile).
 */
async function viaTarget(f: Frame, expression: string): Promise<unknown> {
  const id = (f as unknown as { _id?: string })._id;
  const target = f
    .page()
    .browser()
    .targets()
    .find((t) => (t as unknown as { _targetId?: string })._targetId === id);
  return target && evaluateInTarget(target, expression);
}

/** Evaluates `expression` in a target through a CDP session of its own, bounded, and lets the session go. */
async function evaluateInTarget(target: Target, expression: string): Promise<unknown> {
  const session = await within(target.createCDPSession());
  if (!session) return undefined;
  try {
    const res = await within(session.send('Runtime.evaluate', { expression, returnByValue: true }));
    return res?.result.value;
  } finally {
    await session.detach().catch(() => undefined);
  }
}

/**
 * The frames of `page` showing Veil's `file` (e.g. `secure-reader.html`). Firefox reports
 * moz-extension frames as about:blank over WebDriver BiDi, so those are asked where they are.
 */
export async function veilFrames(page: Page, file: string): Promise<Frame[]> {
  const out: Frame[] = [];
  // Chromium reports the frames' real URLs; an about:blank frame there is one not loaded yet (or a
  // stale one whose evaluate would hang), so only Firefox's are asked.
  const askBlank = (page.browser() as unknown as { protocol: string }).protocol !== 'cdp';
  for (const f of page.frames()) {
    if (f.url().endsWith(`/${file}`)) out.push(f);
    else if (
      askBlank &&
      f.url() === 'about:blank' &&
      (await within(f.evaluate(() => location.pathname)))?.endsWith(`/${file}`)
    )
      out.push(f);
  }
  return out;
}

export async function composerReady(page: Page): Promise<Frame> {
  // The hostile page frames secure-composer.html itself too: Veil's is the one that got a grant.
  let found: Frame | undefined;
  await waitFor(
    async () => {
      for (const f of await veilFrames(page, 'secure-composer.html')) {
        if (await inVeilFrame(f, 'secure-composer.html', () => !!document.getElementById('veil-indicator'))) found = f;
      }
      return !!found;
    },
    'the secure composer to be granted',
    25_000,
  ).catch(async (e) => {
    throw new Error(
      `${(e as Error).message}; status: ${await page.$eval('.veil-composer-status', (el) => el.textContent).catch(() => 'none')}`,
    );
  });
  return found!;
}

/** Veil's secure composer of `kind` on `page` (main, edit or thread box), once it got its grant. */
export async function composerOfKind(page: Page, kind: string): Promise<Frame> {
  let found: Frame | undefined;
  await waitFor(
    async () => {
      for (const f of await veilFrames(page, 'secure-composer.html')) {
        const k = await inVeilFrame(f, 'secure-composer.html', () =>
          document.getElementById('veil-indicator') ? document.getElementById('composer')?.dataset.kind : undefined,
        );
        if (k === kind) found = f;
      }
      return !!found;
    },
    `the secure ${kind} composer to be granted`,
    25_000,
  );
  return found!;
}

/** A secure composer's text, and the notice under it (test-only access to the extension frame). */
export async function composerState(f: Frame): Promise<{ value: string; notice: string; focused: boolean }> {
  const v = await inVeilFrame(f, 'secure-composer.html', () => ({
    value: (document.getElementById('input') as HTMLTextAreaElement).value,
    notice: document.getElementById('notice')?.hidden ? '' : (document.getElementById('notice')?.textContent ?? ''),
    // A key pressed while the frame's document has focus types into its box (secure-composer.ts).
    focused: document.hasFocus(),
  }));
  return v ?? { value: '', notice: '', focused: false };
}

/** Selects all of a secure composer's text (as Ctrl+A would), so what is typed next replaces it. */
export async function selectAllIn(f: Frame): Promise<void> {
  await inVeilFrame(f, 'secure-composer.html', () =>
    (document.getElementById('input') as HTMLTextAreaElement).select(),
  );
}

/** What the reader frames show (test-only access to the extension frames). */
export async function readerTexts(page: Page): Promise<{ text: string; status: string; indicator: string }[]> {
  const out = [];
  for (const f of await veilFrames(page, 'secure-reader.html')) {
    // A frame detached meanwhile (re-rendered message) can leave evaluate hanging: bound it.
    // A frame shows one message or several (the ones in view together): each one it shows.
    const v = await inVeilFrame(f, 'secure-reader.html', () =>
      [...document.querySelectorAll<HTMLElement>('.veil-reader:not([hidden])')].map((r) => ({
        text: r.querySelector('.veil-reader-text')?.textContent ?? '',
        status: r.dataset.status ?? '',
        indicator: r.querySelector('.veil-indicator')?.textContent ?? '',
      })),
    );
    if (v) out.push(...v);
  }
  return out;
}

/** In a reader frame: every message it shows, as JSON `[{ text, status }]`. */
export const SLOTS_EXPRESSION = `JSON.stringify([...document.querySelectorAll('.veil-reader:not([hidden])')].map((r) => ({
  text: r.querySelector('.veil-reader-text')?.textContent ?? '',
  status: r.dataset.status ?? '',
})))`;

/**
 * What every reader frame of `page`'s browser shows, read through each frame target's own CDP
 * session (Chromium): puppeteer's frame list can miss a reader that loaded while the page was busy
 * (seen under load: the frame was there and decrypted, but not among page.frames()). For waits
 * only: it also sees the readers of the browser's other tabs.
 */
async function readerTextsOfBrowser(page: Page): Promise<{ text: string; status: string }[]> {
  if ((page.browser() as unknown as { protocol: string }).protocol !== 'cdp') return [];
  const out: { text: string; status: string }[] = [];
  for (const t of page.browser().targets()) {
    if (!t.url().endsWith('/secure-reader.html')) continue;
    const value = await evaluateInTarget(t, SLOTS_EXPRESSION);
    if (typeof value === 'string') out.push(...(JSON.parse(value) as { text: string; status: string }[]));
  }
  return out;
}

export async function waitForReader(page: Page, server: ChatServer, text: string, status = 'decrypted'): Promise<void> {
  const shows = (r: { text: string; status: string }) => r.text === text && r.status === status;
  let polls = 0;
  try {
    await waitFor(
      async () =>
        (await readerTexts(page)).some(shows) || (++polls % 4 === 0 && (await readerTextsOfBrowser(page)).some(shows)),
      `a reader showing ${JSON.stringify(text)} (${status})`,
      20_000,
    );
  } catch (e) {
    const state = {
      readers: await readerTexts(page),
      status: await page.$eval('.veil-composer-status', (el) => el.textContent).catch(() => null),
      messages: server.inspect().messages.slice(-3),
    };
    throw new Error(`${(e as Error).message}; ${JSON.stringify(state)}`, { cause: e });
  }
}

/** Everything the vendor holds: spy records (but the probe words it was told), drafts, messages, requests. */
export function vendorView(rec: InspectRecord, since: { spy: number; requests: number }): string {
  const spy = rec.spy.slice(since.spy).filter((r) => r.kind !== 'find');
  const requests = rec.requests.slice(since.requests).filter((r) => r.path !== '/api/spy');
  // Envelopes are ciphertext; leaving them in would only risk chance 4-letter matches in base58.
  return JSON.stringify([spy, rec.drafts, rec.messages, requests]).replace(
    /VEIL1[1-9A-HJ-NP-Za-km-z]+0/g,
    '[envelope]',
  );
}

export async function flushSpies(...pages: Page[]): Promise<void> {
  for (const p of pages) await p.evaluate(() => (window as unknown as { __spyFlush(): Promise<void> }).__spyFlush());
}

/**
 * Alice focuses the chat's own box on hostile page `a` (Veil's composer takes the keys), types
 * `lines` key by key with Shift+Enter between them, and sends with Enter: bob's reader on `b`
 * shows exactly the text, and the chat's own box never held a character.
 */
export async function typeInIsolated(server: ChatServer, a: Page, b: Page, lines: string[]): Promise<void> {
  // The main composer's: a thread panel left open has a secure composer of its own.
  const composer = await composerOfKind(a, 'main');
  await a.bringToFront();
  await a.focus('#compose');
  await composer.waitForFunction(
    () =>
      !(document.getElementById('input') as HTMLTextAreaElement).readOnly &&
      document.hasFocus() &&
      document.activeElement?.id === 'input',
    { polling: 50 },
  );
  for (const [i, line] of lines.entries()) {
    if (i > 0) {
      await a.keyboard.down('Shift');
      await a.keyboard.press('Enter');
      await a.keyboard.up('Shift');
    }
    await a.keyboard.type(line);
  }
  const text = lines.join('\n');
  expect(await composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value)).toBe(text);
  expect(await a.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe('');
  await a.keyboard.press('Enter');
  await waitForReader(b, server, text);
}

/**
 * After the messages `secrets` went through isolated pages `pages` (the last one in front), the
 * hostile page's records since `since` hold no plaintext substring of any, though its spy worked.
 */
export async function pageLearnedNothing(
  server: ChatServer,
  since: { spy: number; requests: number },
  secrets: string[],
  pages: Page[],
  /** Veil frames (composer + readers) the last page shows at least. */
  framesAtLeast: number,
  allowedDraft?: string,
): Promise<void> {
  await pages.at(-1)!.bringToFront();
  await new Promise((r) => setTimeout(r, 900)); // spy sweeps with both pages idle (window.find runs)
  await flushSpies(...pages);
  const rec = server.inspect();
  const view = vendorView(rec, since);
  for (const secret of secrets) expect(leakedSubstrings(view, secret), secret).toEqual([]);
  const spy = rec.spy.slice(since.spy);
  // The spy did work here too: it saw the envelopes, probed frames, tried to read them, searched.
  expect(spy.some((r) => r.kind === 'snapshot' && r.data.includes('VEIL1'))).toBe(true);
  // Veil's frames sit in closed shadow roots: window.frames does not even list them, so the
  // page has no window to postMessage or peek into (the test with `ext` probes frames it made).
  expect(
    await pages.at(-1)!.evaluate(() => document.querySelectorAll('veil-secure-frame').length),
  ).toBeGreaterThanOrEqual(framesAtLeast);
  expect(spy.filter((r) => r.kind === 'frames').map((r) => r.data)).toEqual(
    spy.filter((r) => r.kind === 'frames').map(() => '0'),
  );
  expect(spy.filter((r) => r.kind === 'find').length).toBeGreaterThan(0);
  expect(spy.some((r) => r.kind === 'find' && r.data.includes('"hit":true'))).toBe(false);
  // No draft the vendor autosaved holds anything but envelopes or nothing.
  for (const d of rec.drafts.filter((x) => x.ts >= Date.now() - 120_000 && x.user === 'alice')) {
    expect(d.text === '' || /^VEIL1/.test(d.text) || d.text === allowedDraft).toBe(true);
  }
}

/**
 * Alice opens the hostile chat with its own box focused at load and types at once, before Veil's
 * composer is ready, then again after the chat takes focus back (routine for chats): both messages
 * reach bob's page `b` exactly, and not one key, input or clipboard event reached the page.
 */
export async function firstKeystrokesAfterLoad(
  server: ChatServer,
  alice: { newPage(): Promise<Page> },
  b: Page,
): Promise<void> {
  const sinceHere = server.inspect().spy.length;
  const first = 'Huckleberry vexquil 81';
  const next = 'Roger zorbit 27';
  const p = await alice.newPage();
  await p.bringToFront();
  // focus=1: the chat focuses its own box at load, after each message and on every click.
  await p.goto(`${server.url}/hostile.html?user=alice&conv=bob&focus=1`, { waitUntil: 'domcontentloaded' });
  await p.keyboard.type(first.slice(0, 7)); // at once: Veil's composer is not ready yet
  const composer = await composerReady(p);
  await p.keyboard.type(first.slice(7));
  const value = () => composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value);
  await waitFor(async () => (await value()) === first, `the composer to hold ${first}`, 10_000).catch(async (e) => {
    throw new Error(`${(e as Error).message}; it holds ${JSON.stringify(await value())}`, { cause: e });
  });
  await p.keyboard.press('Enter');
  await waitForReader(b, server, first);
  // The chat takes focus back to its own box after the message arrives and on a click: routine.
  await p.mouse.click(8, 8);
  await p.keyboard.type(next);
  await waitFor(async () => (await value()) === next, `the composer to hold ${next}`, 10_000).catch(async (e) => {
    throw new Error(`${(e as Error).message}; it holds ${JSON.stringify(await value())}`, { cause: e });
  });
  await p.keyboard.press('Enter');
  await waitForReader(b, server, next);
  const line = await p.$eval('.veil-composer-status', (el) => el.textContent ?? '');
  expect(line).not.toMatch(/took it back|covering|covered/);
  await flushSpies(p);
  const spy = server.inspect().spy.slice(sinceHere);
  // Not one key, text input, composition or clipboard event reached the page's listeners...
  expect(spy.some((r) => r.kind === 'focus' && r.data.includes('textarea#compose'))).toBe(true); // focused at load
  // (Veil's own envelope input and its Enter that triggers the chat's send are not the user's.)
  const typing = spy
    .filter((r) => ['key', 'key-bubble', 'input', 'clipboard'].includes(r.kind))
    .map((r) => JSON.parse(r.data) as { key?: string; data?: string | null; type: string })
    .filter((r) => (r.key !== undefined ? r.key !== 'Enter' : !!r.data && !/^VEIL1/.test(r.data)));
  expect(typing).toEqual([]);
  // ...and the chat's own box never held a character (only, briefly, Veil's envelopes).
  expect(spy.filter((r) => r.kind === 'composer' && r.data !== '' && !/^VEIL1/.test(r.data))).toEqual([]);
  await p.close();
}

/**
 * The page rewrites its document with `document.open()`, which erases every event listener,
 * Veil's too. Veil puts them back, but any the page added meanwhile run first, so its focus and
 * typing guards cannot be trusted: no secure composer is offered again until a reload, and the
 * line under the chat's box says so. (Before, the composer came back with "the chat page cannot
 * see what you type".)
 */
export async function rewrittenDocumentClosesComposer(page: Page): Promise<void> {
  await page.waitForSelector('veil-secure-frame[data-kind="composer"]', { timeout: 25_000 });
  await rewriteOwnDocument(page);
  const closedLine = () =>
    !!document.querySelector('#chat-title')?.textContent &&
    /closed its secure composer/.test(document.querySelector('.veil-composer-status')?.textContent ?? '');
  await page.waitForFunction(closedLine, { timeout: 15_000 });
  // The rewritten chat runs on (its composer, its history): Veil offers no composer over it.
  await page.evaluate(
    () =>
      new Promise<void>((done) => {
        let frames = 0;
        const tick = () => (++frames >= 10 ? done() : requestAnimationFrame(tick));
        requestAnimationFrame(tick);
      }),
  );
  expect(await page.$('veil-secure-frame[data-kind="composer"]')).toBeNull();
  expect(await page.evaluate(closedLine)).toBe(true);
}
