/**
 * Issue #5: composer strategies against real editor libraries. The fixture chat's editor variants
 * (fixtures/editors/*, bundled from npm) send their editor's *model* text, so any strategy that only
 * changes the DOM would leak the plaintext to the server, and these tests would see it there.
 * For each editor: Enter and the Send button each send exactly one envelope per part, bob reads the
 * exact text, the server saw only envelopes, and the editor holds no plaintext afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { buildEditors } from '../../scripts/build-editors.mjs';
import { launchUser, waitFor, type User } from '../support/browser';
import { bundleText, makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';
import { composerStatus, importBundle, waitForMessage } from '../support/veil-ui';

const PASS = 'editors test passphrase';
const EDITORS = ['quill', 'prosemirror', 'lexical', 'slate', 'react-textarea'] as const;
const ENVELOPE = /^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/;
/** Kilobytes of base58 contain random 4-letter words ("secr"); 6 letters do not happen by chance. */
const LEAK_MIN = 6;

let server: ChatServer;
let alice: User;
let bob: User;
const key = makeKey('Editors DM', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });

beforeAll(async () => {
  // 600 characters per message: a long message must travel as several envelopes.
  [server] = await Promise.all([startChatServer({ port: 0, maxLength: 600 }), buildEditors()]);
  [alice, bob] = await Promise.all([launchUser('alice'), launchUser('bob')]);
  const file = await bundleText([key], PASS);
  for (const u of [alice, bob]) expect((await importBundle(u, file, PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

async function openEditor(user: User, editor: string, conv: string): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`${server.url}/editors/index.html?editor=${editor}&user=${user.name}&conv=${conv}`);
  await page.waitForSelector('#compose');
  return page;
}

/** Everything the vendor received or stores that could carry message text. */
function vendorRecords(): string {
  const rec = server.inspect();
  return JSON.stringify([rec.messages, rec.requests.filter((r) => r.path.startsWith('/api/messages'))]);
}

async function composerLeftovers(page: Page): Promise<{ model: string; dom: string }> {
  return page.evaluate(() => ({
    model: (window as any).fixtureChat.modelText() as string,
    dom: (() => {
      const el = document.querySelector('#compose') as HTMLElement & { value?: string };
      if (typeof el.value === 'string') return el.value;
      // The editor's text, without its placeholder (Slate renders it inside the editable).
      const copy = el.cloneNode(true) as HTMLElement;
      copy.querySelectorAll('[data-slate-placeholder]').forEach((p) => p.remove());
      return (copy.textContent ?? '').replace(/[\u200B\uFEFF]/g, '');
    })(),
  }));
}

describe.each(EDITORS)('%s composer', (editor) => {
  let a: Page;
  let b: Page;

  beforeAll(async () => {
    [a, b] = await Promise.all([openEditor(alice, editor, 'bob'), openEditor(bob, editor, 'alice')]);
    expect((await composerStatus(a)).text).toContain(key.label);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  async function sendAndCheck(text: string, how: 'enter' | 'button'): Promise<string[]> {
    const before = server.inspect().messages.length;
    await a.focus('#compose');
    await a.keyboard.sendCharacter(text);
    // The editor's own model holds the plaintext before the send, as a user's typing would leave it.
    expect(await a.evaluate(() => (window as any).fixtureChat.modelText())).toBe(text);
    if (how === 'enter') await a.keyboard.press('Enter');
    else await a.click('#send');
    const shown = await waitForMessage(
      b,
      (m) => m.status === 'decrypted' && m.text === text,
      `bob to read ${editor} ${how}`,
    );
    expect(shown.from).toBe('alice');
    await new Promise((r) => setTimeout(r, 300)); // a double send would show up by now
    const sent = server
      .inspect()
      .messages.slice(before)
      .map((m) => m.text);
    for (const t of sent) expect(t).toMatch(ENVELOPE);
    expect(leakedSubstrings(vendorRecords(), text, LEAK_MIN)).toEqual([]);
    expect(await composerLeftovers(a)).toEqual({ model: '', dom: expect.not.stringMatching(/\S/) });
    expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toContain('Sent encrypted');
    return sent;
  }

  it('sends by Enter: one envelope, exact text at bob, nothing left in the editor', async () => {
    const sent = await sendAndCheck(`Hi via ${editor.toUpperCase()} 👋 <b>not bold</b> & "quotes"`, 'enter');
    expect(sent).toHaveLength(1);
    expect(await b.$('#messages b')).toBeNull(); // text, never HTML
  });

  it('sends by the Send button', async () => {
    expect(await sendAndCheck(`Button send in ${editor.toUpperCase()}: Q3 numbers are 42`, 'button')).toHaveLength(1);
  });

  it('a message longer than the chat takes travels as several envelopes, shown as one', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `${editor.toUpperCase()} line-part ${i} of a long report.`).join(
      ' ',
    );
    expect(long.length).toBeGreaterThan(1200);
    const sent = await sendAndCheck(long, 'enter');
    expect(sent.length).toBeGreaterThan(1);
    for (const t of sent) expect(t.length).toBeLessThanOrEqual(600);
    // The receiver shows the text once, in the first part; the others say they continue it.
    const parts = (await b.$$eval('#messages .veil-plain', (els) => els.map((e) => e.textContent))).filter(
      (t) => t === long,
    );
    expect(parts).toHaveLength(1);
  });
});

describe('fails closed with a real editor', () => {
  it('no key for the conversation: Enter sends nothing and the text stays in the editor model', async () => {
    const page = await openEditor(alice, 'slate', 'carol');
    expect((await composerStatus(page)).state).toBe('error');
    const before = server.inspect().messages.length;
    const text = 'slate secret that must stay home';
    await page.focus('#compose');
    await page.keyboard.sendCharacter(text);
    await page.keyboard.press('Enter');
    await page.click('#send');
    await page.waitForFunction(() =>
      /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(server.inspect().messages.length).toBe(before);
    expect(await page.evaluate(() => (window as any).fixtureChat.modelText())).toBe(text);
    expect(leakedSubstrings(vendorRecords(), text, LEAK_MIN)).toEqual([]);
    await page.close();
  });

  it('an editor that does not take the envelope blocks the send and keeps the plaintext', async () => {
    // Force the one strategy known not to reach Slate's model (execCommand): Veil must notice.
    const page = await openEditor(alice, 'slate', 'bob');
    await composerStatus(page);
    const before = server.inspect().messages.length;
    const text = 'forced wrong strategy';
    await page.focus('#compose');
    await page.keyboard.sendCharacter(text);
    // Simulate a host that swallows every insertion: the editor ignores beforeinput, paste and
    // execCommand (a read-only moment, as while an app re-renders). Nothing can verify → no send.
    await page.evaluate(() => {
      const el = document.querySelector('#compose')!;
      for (const t of ['beforeinput', 'paste']) el.addEventListener(t, (e) => e.stopImmediatePropagation(), true);
      document.execCommand = () => false;
    });
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      { timeout: 10_000 },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(server.inspect().messages.length).toBe(before);
    expect(await page.evaluate(() => (window as any).fixtureChat.modelText())).toBe(text);
    expect(leakedSubstrings(vendorRecords(), text, LEAK_MIN)).toEqual([]);
    await waitFor(
      async () => (await page.$eval('#compose', (el) => el.textContent)) === text,
      'plaintext to stay visible',
    );
    await page.close();
  });
});
