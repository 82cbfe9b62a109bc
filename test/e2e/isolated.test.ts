/**
 * Isolated mode, in real Chromium with the built extension, against the hostile variant
 * of the fixture chat (fixtures/chat/public/hostile.js: records everything page script can reach
 * and ships it to the server). Two browsers = alice and bob.
 *
 * 1. Inline mode on the hostile page: the spy captures the plaintext (proves the spy works).
 * 2. Isolated mode on the same page: typing (keys, Chinese IME composition, paste, Shift+Enter),
 *    sending and reading leave no plaintext substring anywhere the vendor can see.
 * 3. The page cannot get Veil to decrypt an envelope of its choosing into anything it can read:
 *    re-inserted and re-routed envelopes show only in Veil's frames; Veil's pages framed by the
 *    page itself, and postMessage probes, get nothing.
 * 4. Focus theft and a clickjacking overlay are caught.
 * 5. Files attached in the secure composer reach the vendor sealed; bob's reader opens them.
 * Helpers and the bodies shared with firefox-isolated.test.ts: test/support/isolated-cases.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { launchUser, waitFor, type User } from '../support/browser';
import { bundleText, makeKey } from '../support/keys';
import {
  composerReady,
  firstKeystrokesAfterLoad,
  flushSpies,
  openHostile as hostilePage,
  pageLearnedNothing,
  PROBES,
  readerTexts,
  rewrittenDocumentClosesComposer,
  spyFramesSettled,
  vendorView,
  waitForReader as waitForReaderIn,
} from '../support/isolated-cases';
import { allowDownloads } from '../support/files';
import { filesInIsolated } from '../support/isolated-files-cases';
import { screenfulInOneFrame } from '../support/reader-range-cases';
import { leakedSubstrings } from '../support/leaks';
import { importBundle, openOptions, waitForMessage } from '../support/veil-ui';

const PASS = 'correct horse battery staple';
const teamKey = makeKey('Team isolated', { site: 'fixture-chat', conversations: ['dm-alice-bob', 'ch-general'] });

const INLINE_SECRET = 'Inline plan: Zyxcorp merger closes Friday';
// Made-up words: ordinary English 4-grams ("body", "t to") also occur in the page's own markup.
const TYPED = 'Quokka fjarbo 4.2M vexquil';
const IME_COMPOSED = '秘密计划';
const IME_TYPED = '明天开始';
const PASTED = 'Wugrel zorbit 7Qx9-Wv3';
const LINE_1 = 'Qwixel zephod';
const LINE_2 = 'Brimzo quaffle';

let server: ChatServer;
let alice: User;
let bob: User;

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await Promise.all([launchUser('alice'), launchUser('bob')]);
  const file = await bundleText([teamKey], PASS);
  for (const u of [alice, bob]) expect((await importBundle(u, file, PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

async function setMode(user: User, mode: 'inline' | 'isolated'): Promise<void> {
  const page = await openOptions(user);
  const box = '#isolated-sites tr[data-site="fixture-chat"] .isolated-toggle';
  await page.waitForSelector(box);
  if ((await page.$eval(box, (b) => (b as HTMLInputElement).checked)) !== (mode === 'isolated')) {
    await page.click(box);
    await page.waitForFunction(
      (want) =>
        /isolated mode on|inline mode/.test(document.querySelector('#isolated-result')?.textContent ?? '') &&
        (document.querySelector('#isolated-sites .isolated-toggle') as HTMLInputElement).checked === want,
      {},
      mode === 'isolated',
    );
  }
  await page.close();
}

/** `ext`: the page knows Veil's extension id (public in every store) and frames Veil's pages itself. */
const openHostile = (user: User, conv: string, extra?: string) => hostilePage(user, server, conv, extra);
const waitForReader = (page: Page, text: string, status?: string) => waitForReaderIn(page, server, text, status);

describe('isolated mode against a hostile chat page', () => {
  it('inline mode: the hostile page captures the plaintext (the spy works)', async () => {
    const since = { spy: server.inspect().spy.length, requests: server.inspect().requests.length };
    const [a, b] = await Promise.all([openHostile(alice, 'bob'), openHostile(bob, 'alice')]);
    await a.waitForSelector('.veil-composer-status[data-state="ready"]');
    await a.bringToFront();
    await a.focus('#compose');
    await a.keyboard.type(INLINE_SECRET.slice(0, 10));
    await a.keyboard.sendCharacter(INLINE_SECRET.slice(10));
    await a.keyboard.press('Enter');
    expect((await waitForMessage(b, (m) => m.status === 'decrypted', 'bob reads inline')).text).toBe(INLINE_SECRET);
    await b.bringToFront();
    await new Promise((r) => setTimeout(r, 600)); // one spy sweep with bob's page not typing (window.find)
    await flushSpies(a, b);
    const rec = server.inspect();
    const view = vendorView(rec, since);
    expect(leakedSubstrings(view, INLINE_SECRET).length).toBeGreaterThan(10);
    const spy = rec.spy.slice(since.spy);
    const kinds = new Set(spy.filter((r) => r.data.includes('Zyxcorp')).map((r) => r.kind));
    // Captured from input events on alice's side, and from the DOM on bob's...
    for (const k of ['input', 'mutation-add', 'snapshot']) expect([...kinds]).toContain(k);
    // ...and keystroke by keystroke.
    const keys = spy
      .filter((r) => r.kind === 'key' && r.data.includes('"type":"keydown"'))
      .map((r) => JSON.parse(r.data).key)
      .join('');
    expect(keys).toContain(INLINE_SECRET.slice(0, 10));
    expect(rec.spy.slice(since.spy).some((r) => r.kind === 'find' && r.data.includes('"hit":true'))).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  let a: Page;
  let b: Page;
  const since = { spy: 0, requests: 0 };

  it('isolated mode: typing, Chinese IME, paste and Shift+Enter work; bob reads every message', async () => {
    await Promise.all([setMode(alice, 'isolated'), setMode(bob, 'isolated')]);
    since.spy = server.inspect().spy.length;
    since.requests = server.inspect().requests.length;
    const stored = server.inspect().messages.length;
    [a, b] = await Promise.all([openHostile(alice, 'bob'), openHostile(bob, 'alice')]);
    const composer = await composerReady(a);
    const bobComposer = await composerReady(b);
    await a.waitForFunction(() =>
      /Isolated mode/.test(document.querySelector('.veil-composer-status[data-state="ready"]')?.textContent ?? ''),
    );
    const indicator = await bobComposer.$eval('#veil-indicator', (el) => el.textContent ?? '');
    expect(indicator.length).toBeGreaterThan(3);

    // Focusing the chat's own box lands in Veil's composer; typed keys go there.
    await a.bringToFront();
    await a.focus('#compose');
    await composer.waitForFunction(() => document.hasFocus() && document.activeElement?.id === 'input', {
      polling: 50,
    });
    await a.keyboard.type(TYPED.slice(0, 12));
    await a.keyboard.sendCharacter(TYPED.slice(12));
    expect(await composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value)).toBe(TYPED);
    expect(await a.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe('');
    await a.keyboard.press('Enter');
    await waitForReader(b, TYPED);

    // Chinese IME: a composition (pinyin, then the chosen characters), then more committed text.
    const cdp = await a.createCDPSession();
    await cdp.send('Input.imeSetComposition', { text: 'mimi', selectionStart: 4, selectionEnd: 4 });
    await cdp.send('Input.imeSetComposition', { text: '秘密', selectionStart: 2, selectionEnd: 2 });
    // Enter while composing confirms the candidate; it must not send.
    await cdp.send('Input.insertText', { text: '秘密' });
    await cdp.send('Input.imeSetComposition', { text: 'jihua', selectionStart: 5, selectionEnd: 5 });
    await cdp.send('Input.insertText', { text: '计划' });
    await cdp.send('Input.insertText', { text: IME_TYPED });
    expect(await composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value)).toBe(IME_COMPOSED + IME_TYPED);
    await a.keyboard.press('Enter');
    await waitForReader(b, IME_COMPOSED + IME_TYPED);

    // Paste: copied on another page (the chat never sees the copy), pasted with Ctrl+V.
    const scratch = await alice.newPage();
    await scratch.setContent('<textarea id="src"></textarea>');
    await scratch.$eval(
      '#src',
      (el, v) => {
        (el as HTMLTextAreaElement).value = v;
      },
      PASTED,
    );
    await scratch.focus('#src');
    await scratch.$eval('#src', (el) => (el as HTMLTextAreaElement).select());
    await scratch.keyboard.press('KeyC', { commands: ['copy'] });
    await scratch.close();
    await a.bringToFront();
    await a.focus('#compose');
    await composer.waitForFunction(() => document.activeElement?.id === 'input', { polling: 50 });
    await a.keyboard.press('KeyV', { commands: ['paste'] });
    expect(await composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value)).toBe(PASTED);
    await a.keyboard.press('Enter');
    await waitForReader(b, PASTED);

    // Shift+Enter is a new line; Enter sends both lines as one message.
    await composer.waitForFunction(
      () =>
        !(document.getElementById('input') as HTMLTextAreaElement).readOnly &&
        document.hasFocus() &&
        document.activeElement?.id === 'input',
      { polling: 50 },
    );
    await a.keyboard.type(LINE_1);
    await a.keyboard.down('Shift');
    await a.keyboard.press('Enter');
    await a.keyboard.up('Shift');
    await a.keyboard.type(LINE_2);
    expect(await composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value)).toBe(`${LINE_1}\n${LINE_2}`);
    await a.keyboard.press('Enter');
    await waitForReader(b, `${LINE_1}\n${LINE_2}`);

    // The vendor stored four envelopes and nothing else; alice reads her own copies in frames too.
    const sent = server.inspect().messages.slice(stored);
    expect(sent).toHaveLength(4);
    for (const m of sent) expect(m.text).toMatch(/^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/);
    await waitForReader(a, `${LINE_1}\n${LINE_2}`);
    // Every message frame shows bob's indicator (the page's own look-alike frames show none).
    const shown = (await readerTexts(b)).filter((r) => r.status);
    expect(shown.length).toBeGreaterThanOrEqual(4); // readers open lazily: at least the four in view
    // The whole indicator, phrase included: a symbol alone is matched by a look-alike 1 time in 16.
    expect(shown.map((r) => r.indicator)).toEqual(shown.map(() => indicator));
    // The host keeps only the envelope, hidden; no Veil text node in the page holds plaintext.
    expect(
      await b.$$eval('#messages .text', (els) => els.every((e) => e.getAttribute('data-veil-isolated') === 'hidden')),
    ).toBe(true);
  });

  it('isolated mode: the hostile page learned no plaintext substring of any of them', async () => {
    const secrets = [TYPED, IME_COMPOSED + IME_TYPED, PASTED, LINE_1, LINE_2];
    await pageLearnedNothing(server, since, secrets, [a, b], 5, INLINE_SECRET);
  });

  it('the page cannot get Veil to decrypt an envelope of its choosing into anything it can read', async () => {
    const sinceHere = { spy: server.inspect().spy.length, requests: server.inspect().requests.length };
    const envelope = server
      .inspect()
      .messages.filter((m) => m.conv === 'dm-alice-bob')
      .at(-4)!.text; // TYPED's envelope
    // (a) The page re-inserts a stored envelope into its own DOM as a new message...
    await b.evaluate((env) => {
      const li = document.createElement('li');
      li.className = 'message';
      li.dataset.id = 'spy-1';
      li.dataset.from = 'alice';
      const text = document.createElement('div');
      text.className = 'text';
      text.textContent = env;
      li.append(text);
      document.getElementById('messages')!.append(li);
      li.scrollIntoView(); // readers open lazily, for messages in view
    }, envelope);
    // ...Veil shows it only in a frame, flagged as a replay; the page sees the envelope only.
    await waitForReader(b, TYPED, 'replayed');
    // (b) The vendor routes the same envelope into another conversation (#general).
    await fetch(`${server.url}/api/admin/inject`, {
      method: 'POST',
      body: JSON.stringify({ from: 'alice', to: '#general', text: envelope }),
    });
    const g = await openHostile(bob, 'general');
    await g.bringToFront();
    await waitFor(
      async () => (await readerTexts(g)).some((r) => r.status === 'moved'),
      'the moved message flagged',
      20_000,
    ).catch(async (e) => {
      throw new Error(
        `${(e as Error).message}: ${JSON.stringify({ targets: bob.browser.targets().map((t) => `${t.type()} ${t.url()}`), frames: g.frames().map((f) => f.url()), readers: await readerTexts(g), dom: await g.$eval('#messages', (el) => el.outerHTML.slice(0, 2000)) })}`,
      );
    });
    expect((await readerTexts(g)).find((r) => r.status === 'moved')!.text).toBe(''); // not shown at all
    // (c) Veil's own pages framed by the page itself (it knows the extension id) get no grant:
    // no text, and the composer stays disabled. postMessage probes went to every frame meanwhile.
    const h = await openHostile(bob, 'general', `&probe=${PROBES.join(',')}&ext=${bob.extensionId}`);
    const orphans = async () => {
      const out = [];
      for (const f of h.frames().filter((fr) => /secure-(reader|composer)\.html/.test(fr.url()))) {
        const state = await Promise.race([
          f.evaluate(() => ({
            text: document.querySelector('.veil-reader-text')?.textContent ?? null,
            indicator: !!document.getElementById('veil-indicator'),
            orphan: document.querySelector('.veil-orphan')?.textContent ?? '',
          })),
          new Promise<undefined>((r) => setTimeout(() => r(undefined), 3_000)),
        ]).catch(() => undefined);
        if (state?.orphan) out.push(state);
      }
      return out;
    };
    // The page made three (two readers, one composer). Chrome refuses them outright (the frames are
    // web-accessible only through a per-session dynamic URL); Firefox loads them, and they give up
    // with no token. Either way no frame the page made holds anything of Veil's.
    await h.waitForFunction(() => document.querySelectorAll('.spy-frame').length === 3);
    await waitFor(async () => (await spyFramesSettled(h)) >= 3, "the page's own frames to load or fail", 25_000);
    for (const s of await orphans()) expect([s.text ?? '', s.indicator]).toEqual(['', false]);
    expect(await h.$$eval('.spy-frame', (fs) => fs.length)).toBe(3);

    await flushSpies(b, g, h);
    const rec = server.inspect();
    const view = vendorView(rec, sinceHere);
    expect(leakedSubstrings(view, TYPED)).toEqual([]);
    const spy = rec.spy.slice(sinceHere.spy);
    expect(spy.some((r) => r.kind === 'own-frame-read-error')).toBe(true);
    expect(spy.find((r) => r.kind === 'runtime')?.data).toBe('absent'); // no way to message Veil directly
    // Nothing any frame ever posted back to the page; all it learned of Veil's frames is where they are.
    // (WXT's content script announces itself with a window message naming the extension id: the
    // page learns that Veil runs, which it could tell from the DOM anyway; nothing else.)
    const posted = spy
      .filter((r) => r.kind === 'message' && !r.data.includes(':content:wxt:content-script-started'))
      .map((r) => r.data);
    if (posted.length) throw new Error(`frames posted to the page: ${posted.join('\n').slice(0, 1500)}`);
    await Promise.all([g.close(), h.close()]);
  });

  it("typing at once after load, into the chat's box focused at load, reaches bob exactly; the page gets no key", async () => {
    await firstKeystrokesAfterLoad(server, alice, b);
  });

  it('files: attached in the secure composer and sealed before the page gets them; bob reads names, image and exact bytes', async () => {
    await filesInIsolated(server, a, b, await allowDownloads(bob));
  });

  it('readers give the page the same geometry for two different messages of equal length, at every width', async () => {
    // Same length, very different glyph widths: in the page's font they wrap at different widths.
    const wide = Array.from({ length: 12 }, () => 'WMQW').join(' ');
    const thin = Array.from({ length: 12 }, () => 'iljt').join(' ');
    expect(wide.length).toBe(thin.length);
    await b.evaluate(() => {
      // The page also picks a large font for the frames, as a theme (ignored by Veil's readers).
      const s = document.createElement('style');
      s.textContent = '#messages .text { font: 22px/1.1 serif; }';
      document.head.append(s);
    });
    const composer = await composerReady(a);
    await a.bringToFront();
    for (const text of [wide, thin]) {
      await a.focus('#compose');
      await composer.waitForFunction(() => document.hasFocus() && document.activeElement?.id === 'input', {
        polling: 50,
      });
      await a.keyboard.sendCharacter(text);
      await a.keyboard.press('Enter');
      await waitForReader(b, text);
    }
    await b.bringToFront();
    const sizes = (w: number) =>
      b.evaluate((width) => {
        const hosts = [...document.querySelectorAll<HTMLElement>('#messages veil-secure-frame[data-kind="reader"]')];
        return hosts.slice(-2).map((h) => {
          h.style.width = `${width}px`;
          const r = h.getBoundingClientRect();
          return `${r.width}x${r.height}`;
        });
      }, w);
    const seen: string[][] = [];
    for (let w = 90; w <= 900; w += 45) {
      await sizes(w);
      // Settled: the frames have reported their height for this width (two equal reads apart).
      let last = '';
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const now = (await sizes(w)).join();
        if (now === last) break;
        last = now;
      }
      seen.push(await sizes(w));
    }
    for (const [wideSize, thinSize] of seen) expect(wideSize).toBe(thinSize);
    // The sweep did change the frames' geometry (so the comparison means something).
    expect(new Set(seen.map((s) => s[0])).size).toBeGreaterThan(3);
  });

  it('a long message whose parts the page attributes to two authors is shown as malformed, not decrypted', async () => {
    const long = Array.from({ length: 320 }, (_, i) => `part${i} quibble`).join(' ');
    const stored = server.inspect().messages.length;
    const composer = await composerReady(a);
    await composer.$eval(
      '#input',
      (el, v) => {
        (el as HTMLTextAreaElement).value = v;
      },
      long,
    );
    await a.bringToFront();
    await a.focus('#compose');
    await composer.waitForFunction(() => document.hasFocus() && document.activeElement?.id === 'input', {
      polling: 50,
    });
    await a.keyboard.press('Enter');
    await waitForReader(b, long);
    const parts = server.inspect().messages.slice(stored);
    expect(parts.length).toBeGreaterThan(1);
    // The vendor's server says carol wrote the first part, alice the rest.
    const g = await bob.newPage();
    await g.setRequestInterception(true);
    g.on('request', (req) => {
      if (!req.url().includes('/api/history')) return void req.continue();
      void fetch(req.url())
        .then((r) => r.json())
        .then((data: { messages: { id: string; from: string }[] }) => {
          for (const m of data.messages) if (m.id === parts[0]!.id) m.from = 'carol';
          return req.respond({ status: 200, contentType: 'application/json', body: JSON.stringify(data) });
        });
    });
    await g.goto(`${server.url}/hostile.html?user=bob&conv=alice`);
    await g.bringToFront();
    await g.waitForFunction(
      () =>
        [...document.querySelectorAll('.veil-isolated-note')].some((n) =>
          /different authors/.test((n as HTMLElement).title),
        ),
      { timeout: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 1_000)); // any reader would have opened by now
    expect((await readerTexts(g)).filter((r) => r.text === long)).toEqual([]);
    await g.close();
  });

  it('the page rewrites its document (document.open): no secure composer is offered until a reload', async () => {
    const p = await openHostile(alice, 'bob', '');
    await p.bringToFront();
    await rewrittenDocumentClosesComposer(p);
    await p.close();
  });

  it("the messages in view share one reader frame, each at its place, the page's controls between them still the page's", async () => {
    await setMode(bob, 'isolated');
    await screenfulInOneFrame(server, bob, teamKey);
  });

  it('focus theft and a clickjacking overlay are caught', async () => {
    const before = server.inspect().messages.length;
    const sinceHere = { spy: server.inspect().spy.length, requests: server.inspect().requests.length };
    // No window.find probes here: they move focus too, and this test wants one known thief.
    const p = await openHostile(alice, 'bob', '&steal=1&overlay=1');
    const composer = await composerReady(p);
    // Every line Veil's status shows, in order (later warnings replace earlier ones on screen).
    await p.evaluate(() => {
      const log: string[] = ((window as unknown as { veilStatusLog: string[] }).veilStatusLog = []);
      const el = document.querySelector('.veil-composer-status')!;
      new MutationObserver(() => log.push(el.textContent ?? '')).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    const said = async (re: RegExp) => {
      try {
        await p.waitForFunction(
          (src) =>
            (window as unknown as { veilStatusLog: string[] }).veilStatusLog.some((t) => new RegExp(src).test(t)),
          { timeout: 5_000 },
          re.source,
        );
      } catch (e) {
        throw new Error(
          `${re} never shown; status lines: ${JSON.stringify(await p.evaluate(() => (window as unknown as { veilStatusLog: string[] }).veilStatusLog))}`,
          { cause: e },
        );
      }
    };
    await p.bringToFront();
    await p.focus('#compose');
    // The page pulls focus to its hidden input 300 ms later; Veil takes it back and says so.
    await said(/took it back/);
    await composer.waitForFunction(() => document.hasFocus() && document.activeElement?.id === 'input', {
      polling: 50,
    });
    const secret = 'Wmbtqzzl7Frmpt';
    await p.keyboard.type(secret);
    // The page keeps stealing (every time Veil takes focus back): keys that arrive while it holds
    // focus are swallowed, never delivered to the page. What reached the composer is in order.
    const got = await composer.$eval('#input', (el) => (el as HTMLTextAreaElement).value);
    expect(got.length).toBeGreaterThan(secret.length / 2);
    let at = 0;
    for (const ch of got) at = secret.indexOf(ch, at) + 1 || Number.NaN;
    expect(at).not.toBeNaN();
    // The overlay (laid 1.5 s after load) takes a click on the composer: Veil blocks and warns.
    await p.waitForSelector('#spy-overlay');
    const box = (await (await p.$('#compose'))!.boundingBox())!; // where the user sees the composer
    // Click only once the attack is in place: the overlay is what the page shows on top there.
    await p.waitForFunction(
      (x, y) => document.elementFromPoint(x, y)?.id === 'spy-overlay',
      { polling: 50 },
      box.x + box.width / 2,
      box.y + box.height / 2,
    );
    await p.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    // Caught either way: the press reached the page inside the composer's box (blocked, "covering
    // Veil"), or Chromium routed it to the frame and IntersectionObserver v2 / elementFromPoint
    // report the composer covered. Either way the overlay's own handler never gets the press (below).
    await said(/covering Veil|covered or hidden/);
    // The attack ran (the page's own record of stealing focus; under load it can land late).
    await waitFor(
      async () => {
        await flushSpies(p);
        return server
          .inspect()
          .spy.slice(sinceHere.spy)
          .some((r) => r.kind === 'stole-focus');
      },
      'the page to record its focus theft',
      15_000,
    );
    const spy = server.inspect().spy.slice(sinceHere.spy);
    expect(spy.some((r) => r.kind === 'overlay-click')).toBe(false); // the press never reached the overlay
    expect(leakedSubstrings(vendorView(server.inspect(), sinceHere), secret)).toEqual([]);
    expect(server.inspect().messages.length).toBe(before);
    await p.close();
  });
});
