/**
 * Test bodies for the fixture chat's real editors (fixtures/editors/*), shared by every browser's
 * launcher: each takes the pages it works on, none knows which browser runs them.
 *
 * The fixture editors send their editor's *model* text, so a strategy that changed only the DOM
 * would put plaintext on the vendor's server, and these checks would find it there.
 */
import { expect } from 'vitest';
import type { Page } from 'puppeteer';
import type { ChatServer } from '../../fixtures/chat/server.mjs';
import { waitFor } from './browser';
import { rewriteOwnDocument } from './chat';
import { leakedSubstrings } from './leaks';
import { waitForMessage } from './veil-ui';

export const EDITORS = ['quill', 'prosemirror', 'lexical', 'slate', 'react-textarea', 'ckeditor5', 'draft-js'] as const;
export type EditorName = (typeof EDITORS)[number];

export const ENVELOPE = /^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/;
/** Kilobytes of base58 contain random 4-letter words ("secr"); 6 letters do not happen by chance. */
export const LEAK_MIN = 6;

/** Alice writes in `a`, Bob reads in `b`, both on the same editor variant. */
export interface EditorPair {
  editor: EditorName;
  server: ChatServer;
  a: Page;
  b: Page;
}

export async function openEditor(page: Page, server: ChatServer, editor: string, user: string, conv: string) {
  await page.goto(`${server.url}/editors/index.html?editor=${editor}&user=${user}&conv=${conv}`);
  await page.waitForSelector('#compose');
  return page;
}

/** Everything the vendor received or stores that could carry message text. */
export function vendorRecords(server: ChatServer): string {
  const rec = server.inspect();
  return JSON.stringify([rec.messages, rec.requests.filter((r) => r.path.startsWith('/api/messages'))]);
}

const modelText = (page: Page) => page.evaluate(() => (window as any).fixtureChat.modelText() as string);

/** The editor's model text and what its DOM shows (without placeholders and fillers). */
export async function composerLeftovers(page: Page): Promise<{ model: string; dom: string }> {
  return page.evaluate(() => ({
    model: (window as any).fixtureChat.modelText() as string,
    dom: (() => {
      const el = document.querySelector('#compose') as HTMLElement & { value?: string };
      if (typeof el.value === 'string') return el.value;
      const copy = el.cloneNode(true) as HTMLElement;
      copy.querySelectorAll('[data-slate-placeholder], .public-DraftEditorPlaceholder-root').forEach((p) => p.remove());
      return (copy.textContent ?? '').replace(/[\u200B\uFEFF]/g, '');
    })(),
  }));
}

/**
 * Empties the composer through the editor's own API, as the chat does after a send; a box already
 * empty is left alone. Emptying an empty Quill again while it has focus moves the caret onto the
 * editor's root, outside its blocks, and Firefox types there into a block of its own: the model
 * gains an empty line nobody typed (measured without Veil: the fixture's clear twice, then keys).
 */
async function emptyComposer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const chat = (window as any).fixtureChat;
    if (chat.modelText()) chat.clearComposer();
  });
}

/** How the text gets into the composer: as a person does it. */
export type Entry = (page: Page) => Promise<void>;

export const typed =
  (text: string): Entry =>
  (page) =>
    insertText(page, text);

const isCdp = (page: Page) => (page.browser() as unknown as { protocol: string }).protocol === 'cdp';

/**
 * The user's typing: in Chromium one insertion (Input.insertText, as an IME commit; key by key,
 * Draft.js loses the caret when keys come faster than it re-renders); in Firefox key by key
 * (WebDriver BiDi's one-go insertion is an execCommand, which Slate and CKEditor 5 do not take).
 */
export async function insertText(page: Page, text: string): Promise<void> {
  if (isCdp(page)) return page.keyboard.sendCharacter(text);
  await page.keyboard.type(text);
}

/** Lines typed with Shift+Enter between them. */
export const typedLines =
  (lines: string[]): Entry =>
  async (page) => {
    for (const [i, line] of lines.entries()) {
      if (i > 0) {
        await page.keyboard.down('Shift');
        await page.keyboard.press('Enter');
        await page.keyboard.up('Shift');
        await new Promise((r) => setTimeout(r, 50)); // a person's pause: React editors re-render first
      }
      // Each line in one insertion: Draft.js drops the caret when keys arrive faster than it
      // re-renders (its first key in an empty editor ends up after later ones).
      await insertText(page, line);
    }
  };

/**
 * A Chinese IME: pinyin compositions, each committed as characters. Chromium only: it drives the
 * composition through the DevTools protocol (Input.imeSetComposition), which WebDriver BiDi, and so
 * Firefox, does not have.
 */
export const typedWithIme =
  (steps: [pinyin: string, chosen: string][]): Entry =>
  async (page) => {
    const cdp = await page.createCDPSession();
    // A person's IME takes a moment between keys, and each step is on screen before the next:
    // editors (Quill) finish a composition in their own observers and selection handlers, which
    // on a busy machine can still be pending after a frame. So each step waits until the box
    // shows it (and no longer shows what it replaced), then for two frames and a short pause.
    const settled = () =>
      page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const shows = async (text: string, gone = '') => {
      // What a box shows mid-composition differs by editor (Lexical re-renders composed text in its
      // own nodes): a step that does not show as expected within a while is waited for no longer.
      await page
        .waitForFunction(
          (want: string, not: string) => {
            const el = document.activeElement as HTMLElement | null;
            const now = !el ? '' : el instanceof HTMLTextAreaElement ? el.value : (el.textContent ?? '');
            return now.includes(want) && (!not || !now.includes(not));
          },
          { timeout: 2_000, polling: 'raf' },
          text,
          gone,
        )
        .catch(() => console.warn(`[test] IME step "${text}" not shown as expected; going on`));
      await settled();
    };
    for (const [pinyin, chosen] of steps) {
      await cdp.send('Input.imeSetComposition', {
        text: pinyin,
        selectionStart: pinyin.length,
        selectionEnd: pinyin.length,
      });
      await shows(pinyin);
      await cdp.send('Input.imeSetComposition', {
        text: chosen,
        selectionStart: chosen.length,
        selectionEnd: chosen.length,
      });
      await shows(chosen, pinyin);
      await cdp.send('Input.insertText', { text: chosen });
      await shows(chosen, pinyin);
    }
    await cdp.detach();
  };

/** Copied on another page (the chat never sees the copy), pasted with Ctrl+V. */
export const pasted =
  (text: string): Entry =>
  async (page) => {
    const scratch = await page.browser().newPage();
    await scratch.setContent('<textarea id="src"></textarea>');
    await scratch.$eval('#src', (el, v) => ((el as HTMLTextAreaElement).value = v), text);
    await scratch.focus('#src');
    await scratch.$eval('#src', (el) => (el as HTMLTextAreaElement).select());
    await shortcut(scratch, 'c');
    await scratch.close();
    await page.bringToFront();
    await page.focus('#compose');
    await shortcut(page, 'v');
  };

/** Ctrl+C or Ctrl+V: Chromium headless needs the editing command named; Firefox runs the keys. */
async function shortcut(page: Page, key: 'c' | 'v'): Promise<void> {
  if (isCdp(page))
    return page.keyboard.press(key === 'c' ? 'KeyC' : 'KeyV', { commands: [key === 'c' ? 'copy' : 'paste'] });
  await page.keyboard.down('Control');
  await page.keyboard.press(key);
  await page.keyboard.up('Control');
}

/**
 * Alice enters `text`, sends it by Enter or the Send button; Bob reads exactly `text`; the vendor
 * holds only envelopes; the composer is empty. Returns the envelopes the vendor stored.
 */
export async function sendAndCheck(
  { editor, server, a, b }: EditorPair,
  text: string,
  how: 'enter' | 'button',
  entry: Entry = typed(text),
  /** Lexical's plain-text paste leaves an empty paragraph after a pasted line: a trailing newline. */
  trailingNewline = false,
): Promise<string[]> {
  const same = (s: string) => (trailingNewline ? s.replace(/\n+$/, '') : s) === text;
  const before = server.inspect().messages.length;
  await a.bringToFront();
  // Each case starts from an empty box, whatever an earlier case left behind.
  await emptyComposer(a);
  await a.focus('#compose');
  await entry(a);
  // The editor's own model holds the plaintext before the send, as the user's input left it. A
  // synthetic IME on a very busy machine can leave an editor holding a composition's pinyin next
  // to the characters (the editor's doing, before Veil is involved): such input is typed once more.
  let model = await modelText(a);
  if (!same(model)) {
    console.warn(`[test] ${editor} took the input as ${JSON.stringify(model)}; typing it again`);
    await emptyComposer(a);
    await a.focus('#compose');
    await entry(a);
    model = await modelText(a);
  }
  expect(same(model), `${editor} holds ${JSON.stringify(model)}`).toBe(true);
  if (how === 'enter') await a.keyboard.press('Enter');
  else await a.click('#send');
  const shown = await waitForMessage(b, (m) => m.status === 'decrypted' && same(m.text), `bob to read ${editor}`);
  expect(shown.from).toBe('alice');
  await new Promise((r) => setTimeout(r, 200)); // a double send would show up by now
  const sent = server
    .inspect()
    .messages.slice(before)
    .map((m) => m.text);
  for (const t of sent) expect(t).toMatch(ENVELOPE);
  expect(leakedSubstrings(vendorRecords(server), text, LEAK_MIN)).toEqual([]);
  expect(await composerLeftovers(a)).toEqual({ model: '', dom: expect.not.stringMatching(/\S/) });
  expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toContain('Sent encrypted');
  return sent;
}

/** A stage of a send that fails, forced by the fixture page (never by the extension). */
export type FailureStage =
  | 'no-key' // encryption refused: the background answers with an error (as for a worker that died)
  | 'refuse-envelope' // the editor does not take the envelope
  | 'revert-envelope' // it takes it and drops it again: verification fails
  | 'chat-refuses' // the chat does not send it
  | 'chat-refuses-then-editor-refuses'; // ... and the editor then refuses the text back

export const FAILURE_STAGES: FailureStage[] = [
  'no-key',
  'refuse-envelope',
  'revert-envelope',
  'chat-refuses',
  'chat-refuses-then-editor-refuses',
];

const statusText = (page: Page) => page.$eval('.veil-composer-status', (el) => el.textContent ?? '');

/**
 * Alice (on a conversation with a key, or `noKeyConv` for 'no-key') sends and the send fails at
 * `stage`: nothing reaches the vendor, and the composer ends holding exactly her text; where the
 * editor refuses it back, Veil offers it and her "Put it back" click restores it.
 * Starts the send and returns the check: several editors' tabs can be started one after the other
 * and then checked, so a stage the chat refuses waits out Veil's send confirmation (5 s) in every
 * tab at once. Resolves to whether Veil kept the text (the editor refused it back).
 */
export async function startFailure(
  { editor, server, a }: Omit<EditorPair, 'b'>,
  stage: FailureStage,
  conv: { withKey: string; noKey: string },
): Promise<() => Promise<boolean>> {
  const text = `${editor} ${stage}: line one 秘密计划`;
  await a.bringToFront();
  await a.evaluate(() => (window as any).fixtureChat.fault('none'));
  await emptyComposer(a);
  await switchConversation(a, stage === 'no-key' ? conv.noKey : conv.withKey);
  if (stage !== 'no-key') await a.evaluate((f) => (window as any).fixtureChat.fault(f), stage);
  // Every send started alongside this one fails too: the vendor's count stays where it was.
  const before = server.inspect().messages.length;
  await a.focus('#compose');
  await insertText(a, text);
  // The previous case's "Not sent" must not count as this one's.
  await a.$eval('.veil-composer-status', (el) => (el.textContent = 'before this send'));
  await a.keyboard.press('Enter');
  return async () => {
    await a.bringToFront();
    await a.waitForFunction(
      () => {
        const s = document.querySelector<HTMLElement>('.veil-composer-status');
        return s?.dataset.state === 'error' && /Not sent/.test(s.textContent ?? '');
      },
      { timeout: 15_000, polling: 20 },
    );
    expect(server.inspect().messages.length).toBe(before);
    expect(leakedSubstrings(vendorRecords(server), text, LEAK_MIN)).toEqual([]);
    let kept = false;
    // The fixture's refusal cannot stop every editor's own insertion path (execCommand edits are not
    // cancelable in some editors): where the box did take the text back, that is nothing lost too.
    if (stage === 'chat-refuses-then-editor-refuses' && !/Veil is keeping it/.test(await statusText(a))) {
      expect(await statusText(a)).toMatch(/Your text is (back )?in the box/);
    } else if (stage === 'chat-refuses-then-editor-refuses') {
      kept = true;
      // The box would not take the text back: Veil keeps it and offers it under the composer.
      expect(await statusText(a)).toContain('Veil is keeping it');
      const buttons = await a.$$eval('.veil-composer-action', (els) => els.map((e) => e.textContent));
      expect(buttons).toEqual(['Copy text', 'Put it back']);
      // A click the page scripts does nothing; the user's own click does.
      await a.evaluate(() => (document.querySelectorAll('.veil-composer-action')[1] as HTMLElement).click());
      await new Promise((r) => setTimeout(r, 100));
      expect(await modelText(a)).not.toBe(text);
      await a.evaluate(() => (window as any).fixtureChat.fault('none'));
      const [, putBack] = await a.$$('.veil-composer-action');
      await putBack!.click();
      await a.waitForFunction(() =>
        /back in the compose box/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      );
    } else if (stage !== 'no-key') {
      expect(await statusText(a)).toMatch(/Your text is (back )?in the box/);
    }
    expect(await modelText(a)).toBe(text);
    expect((await composerLeftovers(a)).dom.replace(/\s+/g, ' ').trim()).toBe(text);
    await a.evaluate(() => {
      (window as any).fixtureChat.fault('none');
      (window as any).fixtureChat.clearComposer();
    });
    return kept;
  };
}

/**
 * The page rewrites its document (document.open) while Veil keeps text the editor refused back:
 * the rewrite erases every listener, the "Put it back" button's too, and the compose box comes
 * back only once the app renders it again. The line must then say what happened and still offer
 * the text, and the user's click must put it in the new compose box.
 */
export async function keptTextAfterRewrite({ editor, a }: Pick<EditorPair, 'editor' | 'a'>): Promise<void> {
  const text = `${editor} kept across a rewrite: 秘密计划 🔐`;
  const line = () => a.$eval('.veil-composer-status', (el) => el.textContent ?? '');
  await a.bringToFront();
  await a.evaluate(() => (window as any).fixtureChat.fault('none'));
  await emptyComposer(a);
  await switchConversation(a, 'bob');
  await a.evaluate(() => (window as any).fixtureChat.fault('chat-refuses-then-editor-refuses'));
  await a.focus('#compose');
  await insertText(a, text);
  await a.keyboard.press('Enter');
  await waitFor(async () => /Veil is keeping it/.test(await line()), 'Veil keeps the text');
  await rewriteOwnDocument(a);
  await a.waitForSelector('#compose');
  await waitFor(async () => /rewrote itself/.test(await line()), 'the line says the page rewrote itself');
  expect(await a.$$eval('.veil-composer-action', (els) => els.map((e) => e.textContent))).toEqual([
    'Copy text',
    'Put it back',
  ]);
  const [, putBack] = await a.$$('.veil-composer-action');
  await putBack!.click();
  await waitFor(async () => /back in the compose box/.test(await line()), 'the text is put back');
  expect(await modelText(a)).toBe(text);
  await a.evaluate(() => (window as any).fixtureChat.clearComposer());
}

/** Opens another conversation the way the chat's own nav does it (no page load). */
async function switchConversation(page: Page, conv: string): Promise<void> {
  const id = await page.$eval('main#chat', (el) => (el as HTMLElement).dataset.conversationId ?? '');
  if (id.endsWith(`-${conv}`) || id.startsWith(`dm-${conv}-`)) return;
  await page.click(`#conversations .conv[data-conv="${conv}"]`);
  await page.waitForFunction(
    (c) => (document.querySelector('#chat-title')?.textContent ?? '').includes(c),
    { polling: 20 },
    conv,
  );
  await new Promise((r) => setTimeout(r, 100)); // Veil re-reads the conversation and its key
}
