/**
 * Fault cases that need no browser internals, shared by faults.test.ts (Chromium, which also stops
 * the service worker over CDP) and firefox-faults.test.ts: rapid repeated Enter, two tabs of one
 * chat, typing while Veil is still sending, and a vendor that drops, duplicates or cuts live
 * deliveries. Each: no plaintext reaches the server, nothing lost or duplicated, no reload needed.
 */
import { expect } from 'vitest';
import type { Page } from 'puppeteer';
import type { ChatServer } from '../../fixtures/chat/server.mjs';
import { leakedSubstrings } from './leaks';
import { sendAndSettle } from './send';
import { typeText } from './typing';
import { composerStatus, shownMessages, typeAndSend, waitForMessage } from './veil-ui';

export interface FaultEnv {
  server: ChatServer;
  /** alice's page in her conversation with bob, and bob's with alice. */
  a: Page;
  b: Page;
  /** A second tab of alice's conversation with bob. */
  secondTab(): Promise<Page>;
}

const vendorRecords = (server: ChatServer) => JSON.stringify(server.inspect().messages);
const texts = (page: Page) => shownMessages(page).then((list) => list.map((m) => m.text));

export async function rapidEnterSendsOnce({ server, a, b }: FaultEnv): Promise<void> {
  const before = server.inspect().messages.length;
  await a.bringToFront();
  await a.focus('#compose');
  await typeText(a, 'press press press');
  for (let i = 0; i < 6; i++) await a.keyboard.press('Enter');
  await waitForMessage(b, (m) => m.text === 'press press press', 'rapid message');
  await new Promise((r) => setTimeout(r, 500));
  expect(server.inspect().messages.length - before).toBe(1);
}

export async function twoTabsEachOnce({ a, b, secondTab }: FaultEnv): Promise<void> {
  const a2 = await secondTab();
  await composerStatus(a2);
  await typeAndSend(a2, 'from the second tab');
  await typeAndSend(a, 'from the first tab');
  for (const page of [a, a2, b]) {
    for (const text of ['from the second tab', 'from the first tab']) {
      await waitForMessage(page, (m) => m.text === text && m.status === 'decrypted', `${text} everywhere`);
    }
    expect((await texts(page)).filter((t) => t === 'from the first tab')).toHaveLength(1);
  }
  await a2.close();
}

/** Text typed right after Enter used to land next to the envelope, and restoring the plaintext overwrote it. */
export async function typedWhileSendingKept({ server, a, b }: FaultEnv): Promise<void> {
  const before = server.inspect().messages.length;
  await a.bringToFront();
  await a.focus('#compose');
  await typeText(a, 'typed first');
  await a.keyboard.press('Enter');
  await typeText(a, ' and typed right after');
  await a.waitForFunction(
    () => document.querySelector<HTMLElement>('.veil-composer-status')?.dataset.state !== 'busy',
    { polling: 10 },
  );
  await new Promise((r) => setTimeout(r, 300));
  const left = await a.$eval('#compose', (el) => (el as HTMLTextAreaElement).value);
  const sent = server.inspect().messages.length - before;
  expect(left).toContain(' and typed right after');
  if (sent === 0) expect(left).toContain('typed first');
  else await waitForMessage(b, (m) => m.text === 'typed first' && m.status === 'decrypted', 'first part arrives');
  expect(leakedSubstrings(vendorRecords(server), 'typed first and typed right after')).toEqual([]);
  await a.$eval('#compose', (el) => {
    (el as HTMLTextAreaElement).value = '';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export async function droppedLiveRecovered({ server, a, b }: FaultEnv): Promise<void> {
  const all = ['dropped one', 'dropped two', 'delivered three'];
  server.faults({ dropLive: 2 });
  for (const t of all) expect((await sendAndSettle(a, t)).sent).toBe(true);
  await waitForMessage(b, (m) => m.text === 'delivered three' && m.status === 'decrypted', 'the third, live');
  expect(await texts(b)).not.toContain('dropped one');
  // The sender's own page shows all three (it renders what the server answered).
  for (const t of all.slice(0, 2))
    await waitForMessage(a, (m) => m.text === t && m.status === 'decrypted', `${t} at alice`);
  await b.reload();
  await b.waitForSelector('#compose');
  for (const t of all) await waitForMessage(b, (m) => m.text === t && m.status === 'decrypted', `${t} after reload`);
  const shown = await texts(b);
  for (const t of all) expect(shown.filter((x) => x === t)).toHaveLength(1);
  for (const t of all) expect(leakedSubstrings(vendorRecords(server), t)).toEqual([]);
}

export async function duplicatedLiveShownOnce({ server, a, b }: FaultEnv): Promise<void> {
  await composerStatus(b);
  server.faults({ duplicateLive: 2 });
  expect((await sendAndSettle(a, 'said once, delivered twice')).sent).toBe(true);
  expect((await sendAndSettle(b, 'and the answer, also twice')).sent).toBe(true);
  await waitForMessage(
    b,
    (m) => m.text === 'said once, delivered twice' && m.status === 'decrypted',
    'duplicate at bob',
  );
  await waitForMessage(
    a,
    (m) => m.text === 'and the answer, also twice' && m.status === 'decrypted',
    'duplicate at alice',
  );
  await new Promise((r) => setTimeout(r, 300));
  for (const page of [a, b]) {
    const list = await shownMessages(page);
    for (const t of ['said once, delivered twice', 'and the answer, also twice']) {
      expect(list.filter((m) => m.text === t).map((m) => m.status)).toEqual(['decrypted']);
    }
  }
}

export async function cutStreamCatchesUp({ server, a, b }: FaultEnv): Promise<void> {
  server.disconnectLive();
  expect((await sendAndSettle(a, 'sent while the stream was down')).sent).toBe(true);
  // EventSource reconnects on its own (about 3 s) and the server replays by Last-Event-ID.
  const m = await waitForMessage(b, (x) => x.text === 'sent while the stream was down', 'replayed after reconnect');
  expect(m.status).toBe('decrypted');
  expect((await texts(b)).filter((t) => t === 'sent while the stream was down')).toHaveLength(1);
}
