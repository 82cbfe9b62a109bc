/**
 * Test bodies of the inline round trip on the fixture chat, shared by the Chromium and Firefox
 * files: each takes the pages it works on, none knows which browser runs them.
 */
import { expect } from 'vitest';
import type { Page } from 'puppeteer';
import type { ChatServer } from '../../fixtures/chat/server.mjs';
import { rewriteOwnDocument } from './chat';
import { leakedSubstrings } from './leaks';
import { typeAndSendAny } from './users';
import { waitForMessage } from './veil-ui';

/** Chinese, emoji (a ZWJ sequence and a flag), Arabic (RTL) and HTML that must stay text. */
export const MIXED = '你好，世界 👩‍💻🇨🇳 مرحبا بالعالم <b>html</b> <img src=x onerror=alert(1)> & done';

/** What the vendor received as messages and stores as history (drafts are checked separately). */
export function vendorMessageRecords(server: ChatServer): string {
  const rec = server.inspect();
  return JSON.stringify([rec.messages, rec.requests.filter((r) => r.path.startsWith('/api/messages'))]);
}

/**
 * `a` (alice, on her DM with bob) sends `text`; `b` (bob's page) shows exactly it, decrypted, as
 * text; the vendor stored marker + ciphertext only; alice's box is empty and her own copy decrypts.
 */
export async function sendsAndReads(server: ChatServer, a: Page, b: Page, text: string): Promise<void> {
  const before = server.inspect().messages.length;
  await typeAndSendAny(a, text);
  const shown = await waitForMessage(b, (m) => m.status === 'decrypted' && m.text === text, 'bob to decrypt');
  expect(shown.badge).toContain('Decrypted');
  // Inserted as text: the HTML in the message did not become elements.
  expect(shown.html).not.toMatch(/<b>|<img/);
  expect(await b.$('#messages img, #messages .text b')).toBeNull();

  const stored = server.inspect().messages.slice(before);
  expect(stored).toHaveLength(1);
  expect(stored[0]).toMatchObject({ from: 'alice', to: 'bob', conv: 'dm-alice-bob' });
  expect(stored[0]!.text).toMatch(/^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/);
  expect(leakedSubstrings(vendorMessageRecords(server), text)).toEqual([]);
  expect(await a.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe('');
  expect((await waitForMessage(a, (m) => m.status === 'decrypted' && m.text === text, 'alice own copy')).text).toBe(
    text,
  );
}

/**
 * `page` is a protected conversation `conv` no key covers: Enter (and the Send button, and Enter
 * again) sends nothing, the text stays in the box, and the line under it says why.
 */
export async function failsClosedWithoutKey(server: ChatServer, page: Page, conv: string): Promise<void> {
  const before = server.inspect().messages.length;
  const text = 'this must never reach the server';
  await typeAndSendAny(page, text);
  await page.waitForFunction(() => /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''));
  // Unmanaged and policy installs word it differently ("Your organisation requires encryption…").
  expect((await page.$eval('.veil-composer-status', (el) => el.textContent))!.toLowerCase()).toContain(
    `no veil key covers this conversation (${conv})`,
  );
  expect(await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe(text);
  await page.click('#send');
  await page.keyboard.press('Enter');
  await new Promise((r) => setTimeout(r, 500));
  expect(server.inspect().messages.length).toBe(before);
  expect(leakedSubstrings(vendorMessageRecords(server), text)).toEqual([]);
}

/**
 * Veil is restarted under the open `page` (`restart`) and alice sends: either it goes out once,
 * encrypted (the page reached the new instance), or nothing is sent, the text stays in the box and
 * Veil says why. Never plaintext, never twice. Returns which of the two happened.
 */
export async function sendAcrossVeilRestart(
  server: ChatServer,
  page: Page,
  restart: () => Promise<void>,
): Promise<'sent encrypted' | 'kept'> {
  await restart();
  const before = server.inspect().messages.length;
  const text = 'sent while Veil was away';
  await typeAndSendAny(page, text);
  const status = () => page.$eval('.veil-composer-status', (el) => el.textContent ?? '');
  // Veil said what happened, or the message is stored: after an update Veil's line can go back to
  // naming the key before a poll in the page sees "Sent encrypted" (Firefox polls on animation
  // frames, which a background tab does not get). Polled from here, every 50 ms.
  const said = async (re: RegExp) => {
    for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      if (re.test(await status().catch(() => ''))) return;
      if (server.inspect().messages.length > before) return;
    }
    const box = await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value).catch(() => '?');
    const seen = { status: await status().catch(() => '?'), box, stored: server.inspect().messages.length - before };
    throw new Error(`Veil never said ${re}: ${JSON.stringify(seen)}`);
  };
  await said(/Not sent|Sent encrypted|Veil is starting/);
  // Enter while the updated Veil was still starting in the page: nothing sent, the text kept, the
  // user told to try again. The user does, a moment later, until Veil takes it.
  for (let i = 0; i < 10 && /Veil is starting/.test(await status()); i++) {
    expect(server.inspect().messages.length).toBe(before);
    expect(await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe(text);
    await page.$eval('.veil-composer-status', (el) => (el.textContent = 'retrying'));
    await new Promise((r) => setTimeout(r, 1_000));
    await page.focus('#compose');
    await page.keyboard.press('Enter');
    await said(/Not sent|Sent encrypted|Veil is starting/);
  }
  await new Promise((r) => setTimeout(r, 300));
  const sent = server.inspect().messages.slice(before);
  expect(leakedSubstrings(vendorMessageRecords(server), text)).toEqual([]);
  const box = await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value);
  if (sent.length === 1) {
    expect(sent[0]!.text).toMatch(/^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/);
    expect(box).toBe('');
    return 'sent encrypted';
  }
  expect(sent).toEqual([]);
  expect(box).toBe(text);
  expect(await page.$eval('.veil-composer-status', (el) => el.textContent)).toMatch(/Not sent.*unreachable/);
  return 'kept';
}

/**
 * On a vendor page whose Content-Security-Policy allows no inline style (the fixture's strict.html),
 * `a` sends `text` and `b` reads it, and Veil's own styles still apply: a badge's words are drawn by
 * Veil's stylesheet (an empty badge would be zero wide), and the line under the composer is coloured.
 */
export async function styledUnderStrictCsp(server: ChatServer, a: Page, b: Page, text: string): Promise<void> {
  await sendsAndReads(server, a, b, text);
  for (const page of [a, b]) {
    const look = await page.evaluate(() => ({
      badgeWidth: document.querySelector('.veil-badge')!.getBoundingClientRect().width,
      statusBackground: getComputedStyle(document.querySelector('.veil-composer-status')!).backgroundColor,
      // The policy is in force: an inline style the page's own script adds does not apply.
      pageInlineStyleApplied: (() => {
        const style = document.createElement('style');
        style.textContent = 'html { --veil-csp-probe: 1; }';
        document.head.append(style);
        const applied = getComputedStyle(document.documentElement).getPropertyValue('--veil-csp-probe') !== '';
        style.remove();
        return applied;
      })(),
    }));
    expect(look.pageInlineStyleApplied).toBe(false);
    expect(look.badgeWidth).toBeGreaterThan(20);
    expect(look.statusBackground).not.toBe('rgba(0, 0, 0, 0)');
  }
}

/**
 * `a` (alice) sends `text` to `b` (bob); on bob's page the vendor then puts carol's name on the
 * decrypted message, by the attribute Veil reads or by the name it shows, to pass alice's words
 * off as carol's: the message is judged again for carol, and its words are no longer shown.
 */
export async function renamedAuthorJudgedAgain(
  server: ChatServer,
  a: Page,
  b: Page,
  how: 'attribute' | 'shown name',
): Promise<void> {
  const text = `the budget is approved (${how})`;
  await sendsAndReads(server, a, b, text);
  const shown = await waitForMessage(b, (m) => m.status === 'decrypted' && m.text === text, 'bob to decrypt');
  await b.evaluate(
    (id, how) => {
      const li = document.querySelector<HTMLElement>(`#messages > li.message[data-id="${id}"]`)!;
      if (how === 'attribute') li.dataset.from = 'carol';
      else {
        li.removeAttribute('data-from');
        li.querySelector('.author')!.textContent = 'carol';
      }
    },
    shown.id,
    how,
  );
  const now = await waitForMessage(b, (m) => m.id === shown.id && m.status !== 'decrypted', 'a verdict for carol');
  expect(now.status).toBe('sender-mismatch');
  expect(now.text).not.toContain(text);
  expect(now.badge).toMatch(/carol/);
}

/**
 * `a` (alice) sends `text` to `b` (bob). Bob's page then runs its own code inside Veil's writes: a
 * custom element in a new message's body whose removal (Veil replacing the envelope) edits the
 * words of alice's decrypted message, in place or by swapping its text node. The message must not
 * keep "🔒 Decrypted" beside the page's words.
 */
export async function pageCodeInsideVeilWrites(
  server: ChatServer,
  a: Page,
  b: Page,
  how: 'text edited' | 'node replaced',
): Promise<void> {
  const text = `lunch at noon, ${how === 'text edited' ? 'kestrel' : 'ocelot'}`; // no word the vendor's records hold
  const before = server.inspect().messages.length;
  await sendsAndReads(server, a, b, text);
  const envelope = server.inspect().messages[before]!.text;
  const shown = await waitForMessage(b, (m) => m.status === 'decrypted' && m.text === text, 'bob to decrypt');
  await b.evaluate(
    (id, envelope, how) => {
      const target = document.querySelector(`#messages > li.message[data-id="${id}"] .text`)!;
      customElements.define(
        'x-forger',
        class extends HTMLElement {
          disconnectedCallback() {
            const words = target.firstChild!;
            if (how === 'text edited') (words as Text).data = 'forged: wire the money to mallory';
            else target.replaceChild(document.createTextNode('forged: wire the money to mallory'), words);
          }
        },
      );
      const li = document.createElement('li');
      li.className = 'message';
      li.dataset.id = 'trap';
      li.dataset.from = 'alice';
      li.innerHTML = '<span class="author">alice</span><div class="text"></div>';
      li.querySelector('.text')!.append(envelope, document.createElement('x-forger'));
      document.querySelector('#messages')!.append(li);
    },
    shown.id,
    envelope,
    how,
  );
  const now = await waitForMessage(
    b,
    (m) => m.id === shown.id && m.text.includes('forged') && m.status !== 'decrypted',
    'the forged words not vouched for',
  );
  expect(now.badge).not.toContain('Decrypted');
}

/**
 * As above, but the page's code inside Veil's writes renames the message's author (attribute and
 * shown name), on a message it first made Veil take its "not encrypted" flag off, so that Veil
 * writes into the message element itself in that pass: the message is still judged for the new name.
 */
export async function authorRenamedInsideVeilWrites(server: ChatServer, a: Page, b: Page): Promise<void> {
  const text = 'lunch at noon, pangolin'; // no word the vendor's records hold
  const before = server.inspect().messages.length;
  await sendsAndReads(server, a, b, text);
  const envelope = server.inspect().messages[before]!.text;
  const shown = await waitForMessage(b, (m) => m.status === 'decrypted' && m.text === text, 'bob to decrypt');
  await b.evaluate(
    (id, envelope) => {
      const li = document.querySelector<HTMLElement>(`#messages > li.message[data-id="${id}"]`)!;
      customElements.define(
        'x-renamer',
        class extends HTMLElement {
          disconnectedCallback() {
            li.dataset.from = 'carol';
            const name = document.createElement('span');
            name.className = 'author';
            name.textContent = 'carol';
            li.replaceChild(name, li.querySelector('.author')!);
          }
        },
      );
      li.setAttribute('data-veil-unencrypted', 'true');
      const flag = li.appendChild(document.createElement('span'));
      flag.className = 'veil-unencrypted';
      li.querySelector('.text')!.replaceChildren(envelope, document.createElement('x-renamer'));
    },
    shown.id,
    envelope,
  );
  const now = await waitForMessage(
    b,
    (m) => m.id === shown.id && m.from === 'carol' && m.status !== null && m.status !== 'decrypted',
    'a verdict for carol',
  );
  expect(now.status).toBe('sender-mismatch');
  expect(now.text).not.toContain(text);
}

/**
 * The page rewrites its own document with `document.open()` (old-style apps do; a hostile page
 * would, to drop Veil's listeners, which the standard has it erase): Veil puts its send guard
 * back before the rewritten chat takes a key, so what alice types there still goes out encrypted
 * only, and the line under her composer asks her to reload the page.
 */
export async function documentRewritten(server: ChatServer, a: Page, b: Page): Promise<void> {
  await a.evaluate(() => {
    // Every line Veil shows under the composer from now on (a send replaces it); an observer of the
    // document outlives document.open(), which erases listeners only.
    const seen: string[] = [];
    (window as unknown as { __veilLines: string[] }).__veilLines = seen;
    new MutationObserver(() => {
      const line = document.querySelector('.veil-composer-status')?.textContent ?? '';
      if (line && line !== seen.at(-1)) seen.push(line);
    }).observe(document, { childList: true, subtree: true, characterData: true });
  });
  await rewriteOwnDocument(a);
  // The rewritten chat runs again (its script names the conversation first) and Veil's line is back.
  await a.waitForFunction(
    () => !!document.querySelector('#chat-title')?.textContent && !!document.querySelector('.veil-composer-status'),
    { timeout: 15_000 },
  );
  await sendsAndReads(server, a, b, `typed after the page rewrote itself: ${MIXED}`);
  const lines = await a.evaluate(() => (window as unknown as { __veilLines: string[] }).__veilLines);
  expect(
    lines.some((l) => l.includes('This page rewrote itself')),
    lines.join(' | '),
  ).toBe(true);
}
