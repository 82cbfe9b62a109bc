/**
 * Recovery without reloading, in real Chromium: the keyring locked mid-conversation
 * (by hand and by the auto-lock), a missing key imported, a key revoked. The open chat page follows
 * each change: locked messages decrypt after unlocking, unknown-key messages after importing the
 * key, a revoked key's messages get their badge; sending fails closed with the reason while locked
 * and works again after; decrypted messages never flicker back to ciphertext or "Decrypting…".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import type { KeyRecord } from '../../lib/keys/model';
import { launchUser, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { bundleText, envelopeFor, makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';
import { sendAndSettle } from '../support/send';
import {
  composerStatus,
  importBundle,
  openChat,
  openOptions,
  shownMessages,
  typeAndSend,
  waitForMessage,
} from '../support/veil-ui';

const PASS = 'recovery bundle passphrase';
const LOCK = 'bob locks his keyring';
const team = makeKey('Team', { site: 'fixture-chat', conversations: ['*'] });
/** A key bob does not have yet: its messages show "unknown key" until he imports it. */
const late = makeKey('Late key', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });

let server: ChatServer;
let alice: User;
let bob: User;
let a: Page;
let b: Page;
let bobOptions: Page;

function envelopeUnder(key: KeyRecord, text: string, conversationId: string, senderId: string): string {
  return envelopeFor(key, text, { conversationId, senderId });
}

const inject = (from: string, to: string, text: string) => injectMessage(server, from, to, text);

const statusLine = (page: Page) => page.$eval('.veil-composer-status', (el) => el.textContent ?? '');

/**
 * Watches a chat page for flicker: records every Veil badge label added from now on and whether a
 * message's text area ever showed an envelope again. Runs in the page's own world (DOM only).
 */
async function watchFlicker(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { veilFlicker: { badges: string[]; envelopes: number } };
    w.veilFlicker = { badges: [], envelopes: 0 };
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (!(n instanceof Element)) continue;
          for (const badge of [n, ...n.querySelectorAll('.veil-badge')]) {
            if (badge.classList.contains('veil-badge'))
              w.veilFlicker.badges.push(badge.getAttribute('data-veil-label') ?? '');
          }
          if (
            n.closest('.text') &&
            /VEIL1[1-9A-HJ-NP-Za-km-z]{20,}/.test(n.textContent ?? '') &&
            !n.closest('.veil-rendered')
          )
            w.veilFlicker.envelopes++;
        }
      }
    }).observe(document.querySelector('#messages')!, { childList: true, subtree: true });
  });
}

const flicker = (page: Page) =>
  page.evaluate(() => (window as unknown as { veilFlicker: { badges: string[]; envelopes: number } }).veilFlicker);

/** Marks the badges of the messages shown decrypted now (a repaint makes new ones); returns how many. */
const markDecrypted = (page: Page) =>
  page.$$eval('#messages li[data-veil-status="decrypted"] .veil-badge', (els) => {
    els.forEach((el) => el.setAttribute('data-test-mark', 'kept'));
    return els.length;
  });
const stillMarked = (page: Page) =>
  page.$$eval('#messages li[data-veil-status="decrypted"] .veil-badge[data-test-mark="kept"]', (els) => els.length);

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await Promise.all([launchUser('alice'), launchUser('bob')]);
  const teamFile = await bundleText([team], PASS);
  expect((await importBundle(alice, teamFile, PASS)).tone).toBe('ok');
  expect((await importBundle(bob, teamFile, PASS)).tone).toBe('ok');
  [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
  await Promise.all([composerStatus(a), composerStatus(b)]);
  bobOptions = await openOptions(bob);
  bobOptions.on('dialog', (d) => void d.accept());
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('recovery without reloading', () => {
  it('locked mid-conversation: new messages show locked, sending fails closed; unlocking decrypts them in place', async () => {
    expect((await sendAndSettle(a, 'before the lock')).sent).toBe(true);
    await waitForMessage(b, (m) => m.text === 'before the lock' && m.status === 'decrypted', 'first message');

    await bobOptions.bringToFront();
    await bobOptions.type('#new-passphrase', LOCK);
    await bobOptions.click('#set-passphrase-button');
    await bobOptions.waitForFunction(() =>
      /Passphrase set/.test(document.querySelector('#lock-result')?.textContent ?? ''),
    );
    await bobOptions.click('#lock-button');
    await bobOptions.waitForFunction(
      () => document.querySelector<HTMLElement>('#lock-state')?.dataset.lock === 'locked',
    );

    // The open page hears about the lock: its composer line says so before bob types anything, and
    // what it had decrypted leaves the screen (locking is for walking away from the screen).
    await b.waitForFunction(() => /locked/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''), {
      timeout: 20_000,
      polling: 100,
    });
    await waitForMessage(b, (m) => m.id === 'm1' && m.status === 'locked', 'the earlier message locked');
    expect(await b.$eval('#messages', (el) => el.textContent)).not.toContain('before the lock');

    expect((await sendAndSettle(a, 'while bob is locked: one')).sent).toBe(true);
    expect((await sendAndSettle(a, 'while bob is locked: two 🔐')).sent).toBe(true);
    await b.waitForFunction(() => document.querySelectorAll('#messages li[data-veil-status="locked"]').length === 3, {
      timeout: 20_000,
      polling: 100,
    });
    const locked = (await shownMessages(b)).filter((m) => m.status === 'locked');
    expect(locked).toHaveLength(3);
    expect(locked.every((m) => m.badge.includes('Veil is locked'))).toBe(true);

    const before = server.inspect().messages.length;
    await typeAndSend(b, 'bob types while locked');
    await b.waitForFunction(() => /Not sent/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''), {
      polling: 100,
    });
    expect(await statusLine(b)).toContain('locked');
    expect(await b.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe('bob types while locked');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.inspect().messages.length).toBe(before);

    await watchFlicker(b);
    await bobOptions.bringToFront();
    await bobOptions.type('#unlock-passphrase', LOCK);
    await bobOptions.click('#unlock-button');
    await bobOptions.waitForFunction(
      () => document.querySelector<HTMLElement>('#lock-state')?.dataset.lock === 'unlocked',
    );

    // Same page, no reload: the locked messages decrypt in place.
    await waitForMessage(
      b,
      (m) => m.text === 'while bob is locked: one' && m.status === 'decrypted',
      'first locked message decrypts',
    );
    await waitForMessage(
      b,
      (m) => m.text === 'while bob is locked: two 🔐' && m.status === 'decrypted',
      'second locked message decrypts',
    );
    expect((await shownMessages(b)).map((m) => m.status)).toEqual(['decrypted', 'decrypted', 'decrypted']);
    await waitForMessage(
      b,
      (m) => m.text === 'before the lock' && m.status === 'decrypted',
      'the earlier message is back',
    );
    // No flicker: the locked messages went straight to decrypted, never to ciphertext or "Decrypting…".
    const seen = await flicker(b);
    expect(seen.envelopes).toBe(0);
    expect(seen.badges.filter((l) => /Decrypting|Not decrypted/.test(l))).toEqual([]);
    await b.waitForFunction(
      () => /end-to-end encrypted with/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''),
      { polling: 100 },
    );

    // The text bob kept is sent now, with one more Enter.
    await b.bringToFront();
    await b.focus('#compose');
    await b.keyboard.press('Enter');
    await waitForMessage(
      a,
      (m) => m.text === 'bob types while locked' && m.status === 'decrypted',
      "bob's kept message",
    );
    expect(leakedSubstrings(JSON.stringify(server.inspect().messages), 'bob types while locked')).toEqual([]);
  });

  it('the auto-lock tells the open page too', async () => {
    const w = await bob.worker();
    // The idle alarm fires now instead of in 15 minutes (unpacked extensions may set short alarms).
    await w.evaluate(() => (globalThis as any).chrome.alarms.create('veil-autolock', { when: Date.now() + 50 }));
    await b.waitForFunction(() => /locked/.test(document.querySelector('.veil-composer-status')?.textContent ?? ''), {
      timeout: 20_000,
      polling: 100,
    });
    expect((await sendAndSettle(a, 'after the auto-lock')).sent).toBe(true);
    expect((await waitForMessage(b, (m) => m.status === 'locked', 'auto-locked message')).badge).toContain('locked');
    await bobOptions.bringToFront();
    await bobOptions.reload();
    await bobOptions.waitForSelector('#unlock-form:not([hidden])');
    await bobOptions.type('#unlock-passphrase', LOCK);
    await bobOptions.click('#unlock-button');
    await bobOptions.waitForFunction(
      () => document.querySelector<HTMLElement>('#lock-state')?.dataset.lock === 'unlocked',
    );
    await waitForMessage(
      b,
      (m) => m.text === 'after the auto-lock' && m.status === 'decrypted',
      'decrypts after unlock',
    );
  });

  it('unknown key: importing the missing key decrypts those messages in place; revoking it flags them', async () => {
    await inject('alice', 'bob', envelopeUnder(late, 'under a key bob lacks', 'dm-alice-bob', 'alice'));
    await inject('alice', 'bob', envelopeUnder(late, 'a second one, 你好', 'dm-alice-bob', 'alice'));
    await waitForMessage(b, (m) => m.status === 'unknown-key' && m.badge.includes(late.id), 'unknown key');
    await b.waitForFunction(
      () => document.querySelectorAll('#messages li[data-veil-status="unknown-key"]').length === 2,
      { polling: 100 },
    );
    const decryptedBefore = await markDecrypted(b);
    await watchFlicker(b);

    expect((await importBundle(bob, await bundleText([late], PASS), PASS)).tone).toBe('ok');
    await waitForMessage(
      b,
      (m) => m.text === 'under a key bob lacks' && m.status === 'decrypted',
      'first unknown-key message decrypts',
    );
    await waitForMessage(
      b,
      (m) => m.text === 'a second one, 你好' && m.status === 'decrypted',
      'second unknown-key message decrypts',
    );
    expect(await stillMarked(b)).toBe(decryptedBefore);
    expect((await flicker(b)).badges.filter((l) => /Decrypting|Not decrypted/.test(l))).toEqual([]);

    // Revoking the key re-labels what it decrypted (in place; the text stays readable, flagged).
    await bobOptions.bringToFront();
    await bobOptions.reload();
    await bobOptions.waitForSelector(`#revoke-${late.id}`);
    await bobOptions.click(`#revoke-${late.id}`);
    await bobOptions.waitForFunction(() => /Revoked/.test(document.querySelector('#keys-result')?.textContent ?? ''));
    await b
      .waitForFunction(() => document.querySelectorAll('#messages li[data-veil-status="revoked-key"]').length === 2, {
        timeout: 20_000,
        polling: 100,
      })
      .catch(async (e) => {
        throw new Error(`${e}: ${JSON.stringify((await shownMessages(b)).map((m) => [m.text, m.status, m.badge]))}`);
      });
    const revoked = (await shownMessages(b)).filter((m) => m.status === 'revoked-key');
    expect(revoked.map((m) => m.text).sort()).toEqual(['a second one, 你好', 'under a key bob lacks']);
    expect(revoked.every((m) => m.badge.includes('Revoked key'))).toBe(true);
    // Team-key messages are untouched by the revocation of another key.
    expect(await stillMarked(b)).toBe(decryptedBefore);
  });
});
