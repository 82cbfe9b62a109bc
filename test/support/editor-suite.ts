/**
 * The real-editor suite (bodies in ./editor-cases.ts), registered by each browser's file
 * (test/e2e/editors.test.ts for Chromium, firefox-editors.test.ts for Firefox ESR), which only
 * launches its browsers and says how to open a fixture editor page there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import type { ChatServer } from '../../fixtures/chat/server.mjs';
import {
  EDITORS,
  FAILURE_STAGES,
  keptTextAfterRewrite,
  startFailure,
  pasted,
  sendAndCheck,
  typedLines,
  typedWithIme,
  type EditorName,
  type EditorPair,
} from './editor-cases';
import { composerStatus } from './veil-ui';

export interface EditorEnv {
  server: ChatServer;
  /** The label of the key that covers alice's conversation with bob. */
  keyLabel: string;
  /** Opens the fixture chat with `editor` as `user`, on the conversation with `conv`, once Veil runs there. */
  open(user: 'alice' | 'bob', editor: EditorName, conv: string): Promise<Page>;
}

/**
 * Registers the suite; `env` is read once the file's own beforeAll has launched the browsers.
 * `noIme`: why this browser cannot drive a Chinese IME, if it cannot (that case is then skipped).
 */
export function describeEditors(env: () => EditorEnv, { noIme }: { noIme?: string } = {}): void {
  describe.each(EDITORS)('%s composer', (editor) => {
    const pair = { editor } as EditorPair;

    beforeAll(async () => {
      const { server, open, keyLabel } = env();
      pair.server = server;
      [pair.a, pair.b] = await Promise.all([open('alice', editor, 'bob'), open('bob', editor, 'alice')]);
      expect((await composerStatus(pair.a)).text).toContain(keyLabel);
    });

    afterAll(async () => {
      await Promise.all([pair.a?.close(), pair.b?.close()]);
    });

    it('Enter sends one envelope; the Send button too', async () => {
      const sent = await sendAndCheck(pair, `Hi via ${editor.toUpperCase()} 👋 <b>not bold</b> & "quotes"`, 'enter');
      expect(sent).toHaveLength(1);
      expect(await pair.b.$('#messages b')).toBeNull(); // text, never HTML
      expect(
        await sendAndCheck(pair, `Button send in ${editor.toUpperCase()}: Q3 numbers are 42`, 'button'),
      ).toHaveLength(1);
    });

    it('Shift+Enter lines and a paste arrive exact', async () => {
      const lines = [`${editor} first line`, 'second line', 'third: done'];
      await sendAndCheck(pair, lines.join('\n'), 'enter', typedLines(lines));
      const clip = `Pasted into ${editor}: quarterly figures 73 and 91`;
      await sendAndCheck(pair, clip, 'enter', pasted(clip), editor === 'lexical');
    });

    it.skipIf(!!noIme)('a Chinese IME arrives exact', async () => {
      const ime: [string, string][] = [
        ['mimi', '秘密'],
        ['jihua', '计划'],
      ];
      await sendAndCheck(pair, '秘密计划', 'enter', typedWithIme(ime));
    });

    it('a message longer than the chat takes travels as several envelopes, shown as one', async () => {
      const long = Array.from(
        { length: 40 },
        (_, i) => `${editor.toUpperCase()} line-part ${i} of a long report.`,
      ).join(' ');
      expect(long.length).toBeGreaterThan(1200);
      // Firefox takes it pasted (as a long report mostly arrives): typed key by key over WebDriver
      // BiDi, 1,200 characters cost seconds per editor and test nothing the other cases do not.
      const firefox = (pair.a.browser() as unknown as { protocol: string }).protocol !== 'cdp';
      const entry = firefox ? pasted(long) : undefined;
      const sent = await sendAndCheck(pair, long, 'enter', entry, firefox && editor === 'lexical');
      expect(sent.length).toBeGreaterThan(1);
      for (const t of sent) expect(t.length).toBeLessThanOrEqual(600);
      // The receiver shows the text once, in the first part; the others say they continue it.
      const parts = (await pair.b.$$eval('#messages [data-veil-shown]', (els) => els.map((e) => e.textContent))).filter(
        (t) => (firefox && editor === 'lexical' ? t?.replace(/\n+$/, '') : t) === long,
      );
      expect(parts).toHaveLength(1);
    });
  });

  describe('nothing lost: a send failing at any stage leaves the user their text', () => {
    // One tab per editor, opened in parallel: the chat-refuses stages each wait out Veil's 5 s send
    // confirmation, in every tab at once.
    let pages: Page[] = [];
    beforeAll(async () => {
      const { open } = env();
      const first = await open('alice', EDITORS[0]!, 'bob');
      const cdp = (first.browser() as unknown as { protocol: string }).protocol === 'cdp';
      // Firefox loads the tabs one by one: seven large editors loading at once on two cores kept
      // Veil from showing in one of them within the wait.
      const rest = EDITORS.slice(1);
      pages = [first];
      if (cdp) pages.push(...(await Promise.all(rest.map((e) => open('alice', e, 'bob')))));
      else for (const e of rest) pages.push(await open('alice', e, 'bob'));
      for (const p of pages) await composerStatus(p);
      // Each tab behaves as the focused one (as for a user who stays on it): the tabs' sends run
      // side by side, and an editor takes text back only while its page has focus.
      if (cdp) await Promise.all(pages.map((p) => p.emulateFocusedPage(true)));
    });
    afterAll(async () => Promise.all(pages.map((p) => p.close())));

    it.each(FAILURE_STAGES)('%s, on every editor', async (stage) => {
      const kept: string[] = [];
      // Every tab's send started first, then each checked: the waits for the chat overlap.
      const checks: [string, () => Promise<boolean>][] = [];
      for (const [i, editor] of EDITORS.entries()) {
        const conv = { withKey: 'bob', noKey: 'carol' };
        const check = await startFailure({ editor, server: env().server, a: pages[i]! }, stage, conv).catch((e) => {
          throw new Error(`${editor}: ${(e as Error).message}`);
        });
        checks.push([editor, check]);
      }
      for (const [editor, check] of checks) {
        const veilKept = await check().catch((e) => {
          throw new Error(`${editor}: ${(e as Error).message}`);
        });
        if (veilKept) kept.push(editor);
      }
      if (stage === 'chat-refuses-then-editor-refuses') expect(kept).toContain('react-textarea');
    });
  });

  // A tab of its own: seven open tabs of the chat hold every connection to its host with their
  // live streams, and the rewritten page must load its editor again.
  describe('text Veil keeps, when the page rewrites its document', () => {
    const editor = 'react-textarea'; // the editor that refuses the text back in every browser
    let page: Page | undefined;
    beforeAll(async () => {
      page = await env().open('alice', editor, 'bob');
      await composerStatus(page);
    });
    afterAll(async () => page?.close());

    it("is still offered, and put back on the user's click, in the new compose box", async () => {
      await keptTextAfterRewrite({ editor, a: page! });
    });
  });
}
