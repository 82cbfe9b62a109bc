/**
 * What a real chat does with a message besides sending and showing it: edits, deletes, thread
 * replies, quotes, the conversation list, the page title and desktop notifications. First the
 * fixture chat on its own (so the vendor's features are known to work), then with Veil, asserted
 * as the vendor's server sees it (/api/inspect) and as the user sees it; edits, threads and quotes
 * in Firefox ESR too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { launchUser, type User } from '../support/browser';
import { envelopeFor, makeKey, TEST_KDF } from '../support/keys';
import { createBundle, directoryEntryOf } from '../../lib/crypto/bundle';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { SigningIdentity } from '../../lib/keys/model';
import { injectMessage } from '../support/chat';
import { findEnvelopes } from '../../lib/crypto/codec';
import { parseHeader } from '../../lib/crypto/envelope';
import { quoteDigest } from '../../lib/crypto/quotes';
import type { KeyRecord } from '../../lib/keys/model';
import { leakedSubstrings } from '../support/leaks';
import { shot } from '../support/screenshots';
import { typeText } from '../support/typing';
import {
  type BrowserName,
  type ChatUser,
  type ChatUserSetup,
  launchAliceAndBob,
  launchChatUser,
} from '../support/users';
import { composerStatus, importBundle, waitForMessage } from '../support/veil-ui';
import {
  composerOfKind,
  composerState,
  selectAllIn,
  typeInIsolated,
  veilFrames,
  waitForReader,
} from '../support/isolated-cases';

let server: ChatServer;
const PASS = 'chat features bundle passphrase';
const signingIdentity = (userId: string): SigningIdentity => ({
  site: 'fixture-chat',
  userId,
  secretKey: ed25519.utils.randomSecretKey(),
  createdAt: Date.now(),
});

/** Lets the page show desktop notifications (the browser's permission, as a user's click would grant). */
async function allowNotifications(page: Page): Promise<void> {
  // Over WebDriver BiDi (Firefox) permissions cannot be set: the Firefox cases show no notification.
  if ((page.browser() as unknown as { protocol: string }).protocol !== 'cdp') return;
  await page.browserContext().overridePermissions(server.url, ['notifications']);
}

/** The notifications the page showed, as the Notification objects themselves report them. */
const notificationsOf = (page: Page) =>
  page.evaluate(() =>
    ((window as unknown as { fixtureNotifications?: Notification[] }).fixtureNotifications ?? []).map((n) => ({
      title: n.title,
      body: n.body,
    })),
  );

async function openAs(user: User, as: string, conv: string): Promise<Page> {
  const page = await user.newPage();
  await allowNotifications(page);
  await page.goto(`${server.url}/?user=${as}&conv=${encodeURIComponent(conv)}`);
  await page.waitForSelector('#compose');
  return page;
}

async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  await page.bringToFront();
  await page.focus(selector);
  await typeText(page, text);
  await page.keyboard.press('Enter');
}

/** The page's own click (no Veil involved), once the element is there: the server may answer before the page renders. */
async function click(page: Page, selector: string): Promise<void> {
  await page.waitForSelector(selector);
  await page.$eval(selector, (el) => (el as HTMLElement).click());
}
const lastStored = () => server.inspect().messages.at(-1)!;
/** The first message `from` sent among those stored after the first `count`. */
const storedSince = (count: number, from: string) =>
  server
    .inspect()
    .messages.slice(count)
    .find((m) => m.from === from)!;

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean = Boolean): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last saw ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  server = await startChatServer();
});

afterAll(async () => {
  await server?.close();
});

describe('the fixture chat on its own (no Veil)', () => {
  let plain: User;
  beforeAll(async () => {
    plain = await launchUser('plain', { extension: false });
  });
  afterAll(async () => {
    await plain?.close();
  });

  it('edits, deletes, threads, quotes, lists conversations, titles and notifies', async () => {
    const a = await openAs(plain, 'alice', 'bob');
    const b = await openAs(plain, 'bob', 'general'); // elsewhere: the DM is unread there
    await typeInto(a, '#compose', 'first words');
    const first = (await until('the first message', () => server.inspect().messages[0]))!;
    expect(first.text).toBe('first words');

    // bob's conversation list, title and notification show the new message.
    const aliceEntry = 'a.conv[data-conv="alice"]';
    await until(
      'unread count',
      () => b.$eval(`${aliceEntry} .unread`, (el) => el.textContent),
      (t) => t === '1',
    );
    expect(await b.$eval(`${aliceEntry} .preview`, (el) => el.textContent)).toBe('first words');
    expect(await b.title()).toBe('(1) alice: first words — Fixture Chat');
    expect(await notificationsOf(b)).toEqual([{ title: 'alice', body: 'first words' }]);

    // Edit: the box holds the current text; the server stores the new one, marked edited.
    await click(a, `li.message[data-id="${first.id}"] button.edit`);
    expect(await a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).value)).toBe('first words');
    await a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).select());
    await typeInto(a, '.edit-input', 'second words');
    await until(
      'the edit stored',
      () => server.inspect().messages[0]!,
      (m) => m.text === 'second words',
    );
    expect(server.inspect().messages[0]!.edited).toBeGreaterThan(0);
    await a.waitForSelector(`li.message[data-id="${first.id}"] .edited`);
    expect(await a.$eval(`li.message[data-id="${first.id}"] .text`, (el) => el.textContent)).toBe('second words');

    // Thread reply: a side panel with its own composer; the reply names its thread.
    await click(a, `li.message[data-id="${first.id}"] button.reply-thread`);
    await a.waitForSelector('#thread:not([hidden]) #thread-messages li.thread-root');
    await typeInto(a, '#thread-compose', 'in the thread');
    const reply = await until('the thread reply', lastStored, (m) => m.text === 'in the thread');
    expect(reply.thread).toBe(first.id);
    await a.waitForSelector(`#thread-messages li.message[data-id="${reply.id}"]`);
    expect(await a.$eval(`li.message[data-id="${first.id}"] .replies`, (el) => el.textContent)).toBe('1 reply');
    expect(await a.$(`#messages li.message[data-id="${reply.id}"]`)).toBeNull();

    // Quote-reply: the composer is pre-filled with the quote.
    await click(a, `#messages li.message[data-id="${first.id}"] button.quote`);
    expect(await a.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe('> second words\n\n');
    await typeInto(a, '#compose', 'agreed');
    await until('the quote-reply', lastStored, (m) => m.text === '> second words\n\nagreed');

    // Delete: a tombstone.
    const quoted = lastStored();
    await click(a, `li.message[data-id="${quoted.id}"] button.delete`);
    await until('the tombstone', lastStored, (m) => m.deleted === true && m.text === '');
    await a.waitForSelector(`li.message.deleted[data-id="${quoted.id}"] .tombstone`);
    await Promise.all([a.close(), b.close()]);
  });
});

/** The test's secrets: words no envelope, id or field name of the fixture's JSON contains. */
const SECRETS = {
  original: 'Quokka marmalade',
  edited: 'Wugrel harbour',
  saved: 'Plinth jamboree',
  thread: 'Zyxcorp ledger',
  quote: 'Fennimore quibble',
  undeclared: 'Gazpacho vortex',
  other: 'Tamarind obelisk',
  preview: 'Halcyon dirigible',
  planted: 'I approve the wire transfer',
  forged: 'Xylophone mandate',
};
const ENVELOPE = /^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/;

/** A protected page of the fixture chat, notifications recorded, once Veil runs on it. */
async function openVeil(user: ChatUser, as: string, conv: string): Promise<Page> {
  const page = await user.newPage();
  await allowNotifications(page);
  const url = `${server.url}/?user=${as}&conv=${encodeURIComponent(conv)}`;
  await page.goto(url);
  await until('Veil on the page', async () => {
    if (await page.$('.veil-composer-status')) return true;
    await new Promise((r) => setTimeout(r, 500));
    if (await page.$('.veil-composer-status')) return true;
    await page.reload();
    return false;
  });
  await composerStatus(page);
  return page;
}

/** What the thread panel shows: [id, decrypted text or raw text, status]. */
const threadShown = (page: Page) =>
  page.$$eval('#thread-messages > li.message', (els) =>
    els.map((el) => [
      el.getAttribute('data-id'),
      el.querySelector('[data-veil-shown]')?.textContent ?? el.querySelector('.text')?.textContent ?? '',
      el.getAttribute('data-veil-status'),
    ]),
  );

/** Edit (Enter and Save), thread reply, quote-reply and a grafted edit, between alice and bob. */
async function editsThreadsQuotes(alice: ChatUser, bob: ChatUser, team: KeyRecord, signed = false): Promise<void> {
  const [a, b] = await Promise.all([openVeil(alice, 'alice', 'bob'), openVeil(bob, 'bob', 'alice')]);
  const before = server.inspect().messages.length;
  await typeInto(a, '#compose', SECRETS.original);
  const first = (await until(
    'the first envelope',
    () => server.inspect().messages[before],
    (m) => !!m && ENVELOPE.test(m.text),
  ))!;
  const stored = () => server.inspect().messages.find((m) => m.id === first.id)!;
  await waitForMessage(b, (m) => m.text === SECRETS.original && m.status === 'decrypted', 'bob reads it');

  // Edit with Enter: the box opens with the decrypted text (the page put the envelope there), and
  // Veil encrypts the new text, bound to this message.
  await click(a, `li.message[data-id="${first.id}"] button.edit`);
  const editBox = () => a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).value);
  await until('the decrypted text in the edit box', editBox, (v) => v === SECRETS.original);
  await a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).select());
  await typeInto(a, '.edit-input', SECRETS.edited);
  const edited = await until('the edit stored', stored, (m) => !!m.edited);
  expect(edited.text).toMatch(ENVELOPE);
  expect(edited.text).not.toBe(first.text);
  const shown = await waitForMessage(
    b,
    (m) => m.text === SECRETS.edited && m.status === 'decrypted',
    'bob reads the edit',
  );
  expect(shown.id).toBe(first.id);
  expect(shown.badge).toContain('edited');
  // Where alice signs (identities imported), the edit shows her as its verified sender.
  if (signed) expect(shown.badge).toContain('✓ alice');
  await b.waitForSelector(`li.message[data-id="${first.id}"] .edited`);

  // Edit with the Save button.
  await click(a, `li.message[data-id="${first.id}"] button.edit`);
  await a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).select());
  await a.focus('.edit-input');
  await typeText(a, SECRETS.saved);
  await a.click('.edit-save');
  await waitForMessage(b, (m) => m.text === SECRETS.saved && m.status === 'decrypted', 'bob reads the saved edit');
  expect(stored().text).toMatch(ENVELOPE);

  // Thread reply from the panel's own composer.
  await click(a, `li.message[data-id="${first.id}"] button.reply-thread`);
  await a.waitForSelector('#thread:not([hidden])');
  await typeInto(a, '#thread-compose', SECRETS.thread);
  const reply = await until('the thread reply', lastStored, (m) => m.thread === first.id);
  expect(reply.text).toMatch(ENVELOPE);
  await b.waitForSelector(`li.message[data-id="${first.id}"] button.replies`);
  await click(b, `li.message[data-id="${first.id}"] button.replies`);
  await until(
    'bob reads the thread',
    () => threadShown(b),
    (rows) => rows.some(([id, text, status]) => id === reply.id && text === SECRETS.thread && status === 'decrypted'),
  );
  // The README's picture (Chromium): the edited message, its thread open, the conversation list labelled.
  expect(await b.$eval('#conversations', (el) => el.textContent ?? '')).not.toContain('VEIL1');
  if (alice.browserName === 'chromium') await shot(b, 'chat-features');

  // Quote-reply: whatever the page quotes, what leaves is one envelope.
  await click(a, `#messages li.message[data-id="${first.id}"] button.quote`);
  await typeInto(a, '#compose', SECRETS.quote);
  const quoted = await until('the quote-reply', lastStored, (m) => m.id !== reply.id && !m.thread);
  expect(quoted.text).toMatch(ENVELOPE);
  // The page quoted the envelope; bob reads the quoted words, checked against the message he saw.
  const reads = await waitForMessage(b, (m) => m.id === quoted.id && m.status !== null, 'bob reads the quote');
  expect(reads).toMatchObject({ status: 'decrypted', text: `> ${SECRETS.saved}\n\n${SECRETS.quote}` });
  expect(reads.badgeDetail).toContain('The quote matches the message by alice that it names.');

  // A key holder quotes alice as saying what she did not: the quote names her message, the words differ.
  const savedFrame = findEnvelopes(stored().text)[0] as { frame: Uint8Array };
  const lie = `> ${SECRETS.planted}\n\n${SECRETS.forged}`;
  const ref = {
    messageId: (parseHeader(savedFrame.frame) as { nonce: Uint8Array }).nonce,
    digest: quoteDigest(SECRETS.planted),
    start: 2,
    length: new TextEncoder().encode(SECRETS.planted).length,
    prefix: '> ',
    author: 'alice',
  };
  const ctx = { conversationId: 'dm-alice-bob', senderId: 'alice' };
  await injectMessage(server, 'alice', 'bob', envelopeFor(team, lie, ctx, undefined, { quotes: [ref] }));
  const planted = lastStored();
  const forged = await waitForMessage(
    b,
    (m) => m.text.includes(SECRETS.forged) && m.status !== null,
    'the forged quote',
  );
  expect(forged.status).toBe('quote-mismatch');
  expect(forged.badge).toContain('Quote does not match the original');

  // The vendor moves the edit onto another message of alice's: flagged, its text not shown there.
  await typeInto(a, '#compose', SECRETS.other);
  const target = await until(
    'another message',
    lastStored,
    (m) => m.id !== quoted.id && m.id !== planted.id && !m.thread,
  );
  await waitForMessage(b, (m) => m.id === target.id && m.status === 'decrypted', 'bob reads it');
  const editEnvelope = server.inspect().messages.find((m) => m.id === first.id)!.text;
  await fetch(`${server.url}/api/admin/tamper`, {
    method: 'POST',
    body: JSON.stringify({ id: target.id, text: editEnvelope }),
  });
  await b.reload();
  const grafted = await waitForMessage(b, (m) => m.id === target.id && m.status !== null, 'the grafted edit');
  expect(grafted.status).toBe('moved');
  expect(grafted.badge).toContain('Edit of another message');
  expect(grafted.text).not.toContain(SECRETS.saved);
  const original = await waitForMessage(b, (m) => m.id === first.id && m.status !== null, 'the edited message');
  expect(original).toMatchObject({ status: 'decrypted', text: SECRETS.saved });

  // The vendor's whole store and every request it received: no 4-character piece of any secret.
  // Drafts aside: in inline mode the page reads its own box and autosaves it 2 s after a keystroke
  // (the documented limitation isolated mode closes), so they hold typing whenever the machine is slow.
  const { drafts: _drafts, requests, ...store } = server.inspect();
  const vendor = JSON.stringify([store, requests.filter((r) => r.path !== '/api/drafts')]);
  for (const secret of Object.values(SECRETS)) expect(leakedSubstrings(vendor, secret)).toEqual([]);
  await Promise.all([a.close(), b.close()]);
}

describe('with Veil (Chromium, inline mode)', () => {
  let alice: ChatUser;
  let bob: ChatUser;
  let team: KeyRecord;
  let signed = false;
  beforeAll(async () => {
    await fetch(`${server.url}/api/admin/reset`, { method: 'POST', body: '{}' });
    team = makeKey('Team', { site: 'fixture-chat', conversations: ['*'] });
    // Policy hands out the team key; each person imports their own signing identity and the
    // directory, as the admin CLI's per-person bundles give them, so edits show the verified sender.
    const setup = { keys: [team], matches: `${server.url}/*`, settings: { allowUserKeys: true } };
    [alice, bob] = await Promise.all([
      launchChatUser('chromium', 'alice', setup),
      launchChatUser('chromium', 'bob', setup),
    ]);
    const ids = { alice: signingIdentity('alice'), bob: signingIdentity('bob') };
    const directory = Object.values(ids).map(directoryEntryOf);
    for (const [user, who] of [
      [alice, ids.alice],
      [bob, ids.bob],
    ] as const) {
      const file = JSON.stringify(await createBundle([], PASS, { kdf: TEST_KDF, identities: [who], directory }));
      expect((await importBundle(user.chromium!, file, PASS)).tone).toBe('ok');
    }
    signed = true;
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
  });

  it('a box no adapter declares takes no typing, and its Save sends nothing', async () => {
    const a = await openVeil(alice, 'alice', 'bob');
    // The vendor's page adds a note box of its own, with a Save button that posts what it holds.
    await a.evaluate(() => {
      const box = document.createElement('textarea');
      box.id = 'side-note';
      const rich = document.createElement('div');
      rich.id = 'side-rich';
      rich.contentEditable = 'true';
      rich.style.minHeight = '20px';
      const save = document.createElement('button');
      save.type = 'button';
      save.id = 'side-save';
      save.textContent = 'Save note';
      save.addEventListener('click', () => {
        const text = box.value + (rich.textContent ?? '');
        if (text)
          void fetch('/api/messages', { method: 'POST', body: JSON.stringify({ from: 'alice', to: 'bob', text }) });
      });
      // Like an editor library: it takes a paste itself and posts it at once.
      rich.addEventListener('paste', (e) => {
        e.preventDefault();
        const text = e.clipboardData?.getData('text/plain') ?? '';
        rich.textContent += text;
        void fetch('/api/messages', { method: 'POST', body: JSON.stringify({ from: 'alice', to: 'bob', text }) });
      });
      document.querySelector('main')!.prepend(box, rich, save);
    });
    for (const sel of ['#side-note', '#side-rich']) {
      await a.focus(sel);
      await a.keyboard.sendCharacter(SECRETS.undeclared); // an IME commit or a paste
      await a.keyboard.type('Gazpacho'); // key by key
      expect(await a.$eval(sel, (el) => (el as HTMLTextAreaElement).value ?? el.textContent)).toBe('');
      expect(await a.$eval(sel, (el) => el.textContent)).toBe('');
      expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toContain('keeps your typing out');
    }
    // A real paste (Ctrl+V from the system clipboard) never reaches the page's own paste handler.
    await alice.browser
      .defaultBrowserContext()
      .overridePermissions(server.url, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    await a.bringToFront();
    const paste = async (selector: string, text: string) => {
      await a.evaluate((t) => navigator.clipboard.writeText(t), text);
      await a.focus(selector);
      await a.keyboard.down('Control');
      await a.keyboard.press('KeyV', { commands: ['Paste'] } as never);
      await a.keyboard.up('Control');
      await new Promise((r) => setTimeout(r, 300));
    };
    await paste('#compose', 'pasting works'); // where Veil encrypts from, a paste goes in
    expect(await a.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe('pasting works');
    await paste('#side-rich', SECRETS.undeclared);
    expect(await a.$eval('#side-rich', (el) => el.textContent)).toBe('');
    expect(server.inspect().messages).toEqual([]);
    // An IME composition cannot be refused: the box is then kept from any button press.
    await a.focus('#side-note');
    const cdp = await a.createCDPSession();
    await cdp.send('Input.imeSetComposition', { text: 'Gazpa', selectionStart: 5, selectionEnd: 5 });
    await cdp.send('Input.insertText', { text: SECRETS.undeclared });
    await cdp.detach();
    const got = await a.$eval('#side-note', (el) => (el as HTMLTextAreaElement).value);
    expect(got).toBe(SECRETS.undeclared); // Chromium lets the commit in
    await a.click('#side-save');
    await new Promise((r) => setTimeout(r, 500));
    expect(server.inspect().messages).toEqual([]);
    expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toContain('cannot encrypt');
    expect(leakedSubstrings(JSON.stringify(server.inspect()), SECRETS.undeclared)).toEqual([]);
    await a.close();
  });

  it('an edit box the page plants beside a button never speaks for the user', async () => {
    const a = await openVeil(alice, 'alice', 'bob');
    const before = server.inspect().messages.length;
    // The page plants edit boxes holding its own words: one off screen inside the composer's form,
    // one next to a button it gives the edit box's Save class.
    await a.evaluate((words) => {
      const plant = () => {
        const box = document.createElement('textarea');
        box.className = 'edit-input';
        box.value = words;
        return box;
      };
      const hidden = plant();
      hidden.style.cssText = 'position:absolute;left:-9999px;width:80px;height:30px';
      document.querySelector('#composer')!.append(hidden);
      const like = document.createElement('button');
      like.type = 'button';
      like.id = 'like';
      like.className = 'edit-save';
      like.textContent = 'Like';
      const wrap = document.createElement('div');
      wrap.append(plant(), like);
      document.querySelector('main')!.prepend(wrap);
    }, SECRETS.planted);
    await a.bringToFront();
    await a.focus('#compose');
    await a.keyboard.type('Real words');
    await a.click('#send');
    await waitForMessage(a, (m) => m.text === 'Real words' && m.status === 'decrypted', 'what alice typed');
    await a.click('#like');
    await new Promise((r) => setTimeout(r, 500));
    expect(server.inspect().messages.length).toBe(before + 1);
    expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toContain('cannot tell which');
    const shown = await a.$$eval('#messages [data-veil-shown]', (els) => els.map((el) => el.textContent));
    expect(shown).not.toContain(SECRETS.planted);
    await a.close();
  });

  it('an edit box the page moves onto another message saves nothing, and keeps the text', async () => {
    const a = await openVeil(alice, 'alice', 'bob');
    const sent = async (text: string) => {
      const before = server.inspect().messages.length;
      await typeInto(a, '#compose', text);
      await waitForMessage(a, (m) => m.text === text && m.status === 'decrypted', text);
      return server.inspect().messages[before]!;
    };
    const x = await sent('Xylo one');
    const y = await sent('Xylo two');
    await click(a, `li.message[data-id="${x.id}"] button.edit`);
    const editBox = () => a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).value);
    await until('the decrypted text in the edit box', editBox, (v) => v === 'Xylo one');
    await a.evaluate((id) => {
      document.querySelector(`li.message[data-id="${id}"]`)!.append(document.querySelector('.edit-input')!);
    }, y.id);
    await a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).select());
    await typeInto(a, '.edit-input', 'Xylo edited');
    await new Promise((r) => setTimeout(r, 500));
    const stored = server.inspect().messages;
    expect([x.id, y.id].map((id) => stored.find((m) => m.id === id))).toEqual([x, y]);
    expect(await editBox()).toBe('Xylo edited');
    expect(await a.$eval('.veil-composer-status', (el) => el.textContent)).toContain('moved off the message');
    await a.close();
  });

  it('the conversation list, the title and the notification show a label, never the envelope nor the text', async () => {
    const b = await openVeil(bob, 'bob', 'general'); // elsewhere: the DM arrives as unread
    const a = await openVeil(alice, 'alice', 'bob');
    await typeInto(a, '#compose', SECRETS.preview);
    await until('the envelope stored', lastStored, (m) => !!m && ENVELOPE.test(m.text) && m.to === 'bob');
    const entry = 'a.conv[data-conv="alice"]';
    await until(
      'unread count',
      () => b.$eval(`${entry} .unread`, (el) => el.textContent),
      (n) => n !== '0',
    );
    const preview = await until(
      'the preview',
      () => b.$eval(`${entry} .preview`, (el) => el.textContent ?? ''),
      (p) => p !== '',
    );
    expect(preview).toBe('🔒 Encrypted message');
    const title = await b.title();
    expect(title).toMatch(/^\(\d+\) alice: 🔒 Encrypted message — Fixture Chat$/);
    // The page's own new Notification(…, { body: envelope }) was labelled in the page's world.
    const notes = await until(
      'the notification',
      () => notificationsOf(b),
      (n) => n.length > 0,
    );
    expect(notes).toEqual([{ title: 'alice', body: '🔒 Encrypted message' }]);
    const seen = (await b.$eval('#conversations', (el) => el.textContent ?? '')) + title + JSON.stringify(notes);
    expect(seen).not.toContain('VEIL1');
    expect(leakedSubstrings(seen, SECRETS.preview)).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('edits, thread replies and quotes reach the vendor as envelopes only', () =>
    editsThreadsQuotes(alice, bob, team, signed));
});

/** alice and bob under one team key from policy, launched for the enclosing describe and closed after it. */
function teamOfTwo(browserName: BrowserName, settings?: ChatUserSetup['settings']) {
  const users = {} as { alice: ChatUser; bob: ChatUser; team: KeyRecord };
  beforeAll(async () => {
    await fetch(`${server.url}/api/admin/reset`, { method: 'POST', body: '{}' });
    users.team = makeKey('Team', { site: 'fixture-chat', conversations: ['*'] });
    [users.alice, users.bob] = await launchAliceAndBob(browserName, server.url, [users.team], settings);
  });
  afterAll(async () => {
    await Promise.all([users.alice?.close(), users.bob?.close()]);
  });
  return users;
}

describe('with Veil (Chromium, inline mode, policy previews: "decrypt")', () => {
  const users = teamOfTwo('chromium', { previews: 'decrypt' });

  it('the conversation list shows decrypted previews; the title, a planted envelope and the notification stay labelled', async () => {
    const { alice, bob, team } = users;
    const b = await openVeil(bob, 'bob', 'general');
    const a = await openVeil(alice, 'alice', 'bob');
    await typeInto(a, '#compose', SECRETS.preview);
    await until('the envelope stored', lastStored, (m) => !!m && ENVELOPE.test(m.text) && m.to === 'bob');
    const entry = 'a.conv[data-conv="alice"]';
    const preview = await until(
      'the decrypted preview',
      () => b.$eval(`${entry} .preview`, (el) => el.textContent ?? ''),
      (p) => p === SECRETS.preview,
    );
    expect(preview).toBe(SECRETS.preview);
    // The title keeps the label: browsers keep titles in their history.
    expect(await b.title()).toBe('(1) alice: 🔒 Encrypted message — Fixture Chat');
    // A desktop notification's body is readable by the page's script and set synchronously: the label.
    const notes = await until(
      'the notification',
      () => notificationsOf(b),
      (n) => n.length > 0,
    );
    expect(notes).toEqual([{ title: 'alice', body: '🔒 Encrypted message' }]);
    // The page plants a message of another conversation (same key) beside one of this conversation
    // in the preview: the same answer opens the one and not the other.
    const here = envelopeFor(team, 'Okapi lantern', { conversationId: 'dm-alice-bob', senderId: 'alice' });
    const elsewhere = envelopeFor(team, SECRETS.other, { conversationId: 'dm-alice-carol', senderId: 'alice' });
    await b.$eval(`${entry} .preview`, (el, text) => (el.textContent = text), `${here} ${elsewhere}`);
    await until(
      'the planted preview',
      () => b.$eval(`${entry} .preview`, (el) => el.textContent ?? ''),
      (p) => p === 'Okapi lantern 🔒 Encrypted message',
    );
    expect(leakedSubstrings(await b.$eval('#conversations', (el) => el.textContent ?? ''), SECRETS.other)).toEqual([]);
    // The vendor saw envelopes only.
    expect(leakedSubstrings(JSON.stringify(server.inspect()), SECRETS.preview)).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });
});

/** Words typed in isolated mode: none may ever be in the page or at the vendor. */
const ISO = {
  original: 'Oqelot zarsnip',
  edited: 'Nyrwhal tinzel',
  thread: 'Jyckdaw pergoxa',
  bobs: 'Wulrus kardymom',
  forged: 'Zanzibqr quorvm',
  steered: 'Qorvath lumbrix',
  fifth: 'Vexmoor quabbet',
  draft: 'Gryphqz vamzrisk',
};

/**
 * Types into the secure composer `f` once it has the keyboard: the chat focused the box it covers,
 * or else the user clicks where the box is (on the composer over it).
 */
async function typeInComposer(page: Page, f: Frame, hostBox: string, text: string): Promise<void> {
  await page.bringToFront();
  await until('the secure composer to have the keyboard', async () => {
    if ((await composerState(f)).focused) return true;
    await page.click(hostBox);
    if (!(await composerState(f)).focused) await f.focus('#input').catch(() => undefined);
    return false;
  });
  await typeText(page, text);
  await until(
    'the text in the secure composer',
    async () => (await composerState(f)).value,
    (v) => v === text,
  );
  await page.keyboard.press('Enter');
}

/** The page puts an edit box of its own on a message, holding what the message shows (its envelope). */
async function plantEditBox(page: Page, messageId: string, opts: { focus?: boolean; style?: string } = {}) {
  await page.$eval(
    `li.message[data-id="${messageId}"] .text`,
    (text, o) => {
      const box = document.createElement('textarea');
      box.className = 'edit-input';
      box.value = text.textContent ?? '';
      if (o.style) box.style.cssText = o.style;
      text.after(box);
      if (o.focus) box.focus();
    },
    opts,
  );
}

/** The page takes its compose box out and puts it back a moment later, as a framework re-render does. */
async function rerenderCompose(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const box = document.getElementById('compose')!;
    const [parent, next] = [box.parentElement!, box.nextSibling];
    box.remove();
    await new Promise((r) => setTimeout(r, 300));
    parent.insertBefore(box, next);
  });
}

/**
 * Isolated mode: an edit box and a thread's reply box get secure composers of their own. The edit
 * opens with the decrypted text in Veil's frame (the page's box keeps the envelope), is saved as an
 * envelope bound to the message, and an edit box the page plants on someone else's message opens
 * empty and sends nothing.
 */
async function isolatedEditsAndThreads(alice: ChatUser, bob: ChatUser): Promise<void> {
  const [a, b] = await Promise.all([openVeil(alice, 'alice', 'bob'), openVeil(bob, 'bob', 'alice')]);
  const before = server.inspect().messages.length;
  await typeInIsolated(server, a, b, [ISO.original]);
  const first = storedSince(before, 'alice');
  expect(first.text).toMatch(ENVELOPE);
  const stored = () => server.inspect().messages.find((m) => m.id === first.id)!;

  // Edit: Veil's composer covers the page's edit box, holding the text the page never had.
  await click(a, `li.message[data-id="${first.id}"] button.edit`);
  const edit = await composerOfKind(a, 'edit');
  await until(
    'the decrypted text in the secure edit box',
    async () => (await composerState(edit)).value,
    (v) => v === ISO.original,
  );
  expect(await a.$eval('.edit-input', (el) => (el as HTMLTextAreaElement).value)).toMatch(ENVELOPE);
  await selectAllIn(edit);
  await typeInComposer(a, edit, '.edit-input', ISO.edited);
  const edited = await until('the edit stored', stored, (m) => !!m.edited);
  expect(edited.text).toMatch(ENVELOPE);
  expect(edited.text).not.toBe(first.text);
  await waitForReader(b, server, ISO.edited);
  await until(
    'the edit box closed',
    () => a.$('.edit-input'),
    (box) => box === null,
  );

  // Thread reply: the panel's box gets its own secure composer when the chat opens and focuses it.
  await click(a, `li.message[data-id="${first.id}"] button.reply-thread`);
  const thread = await composerOfKind(a, 'thread');
  await typeInComposer(a, thread, '#thread-compose', ISO.thread);
  const reply = await until('the thread reply', lastStored, (m) => m.thread === first.id);
  expect(reply.text).toMatch(ENVELOPE);
  await click(b, `li.message[data-id="${first.id}"] button.replies`);
  await waitForReader(b, server, ISO.thread);

  // The page plants an edit box on bob's message: Veil's composer over it opens empty, says why, sends nothing.
  const count = server.inspect().messages.length;
  await typeInIsolated(server, b, a, [ISO.bobs]);
  const bobs = storedSince(count, 'bob');
  await plantEditBox(a, bobs.id, { focus: true });
  const planted = await until('the planted box covered', async () => {
    for (const f of await veilFrames(a, 'secure-composer.html')) {
      const st = await composerState(f);
      if (st.notice.includes('cannot open this message for editing')) return { f, st };
    }
    return undefined;
  });
  expect(planted!.st.value).toBe('');
  await typeInComposer(a, planted!.f, `li.message[data-id="${bobs.id}"] .edit-input`, ISO.forged);
  await until(
    'the refusal',
    async () => (await composerState(planted!.f)).notice,
    (n) => n.startsWith('Not sent: '),
  );
  expect((await composerState(planted!.f)).value).toBe(ISO.forged); // the user's text stays
  expect(server.inspect().messages.find((m) => m.id === bobs.id)!.edited).toBeUndefined();

  // The page plants an edit box on alice's own message, off screen, re-renders its compose box, and
  // focuses the planted box while she types: her keys stay with the main composer (the page
  // cannot pick the composer that gets them), and her old message is not rewritten.
  await a.$$eval('.edit-input', (boxes) => boxes.forEach((x) => x.remove()));
  await click(a, '#thread-close');
  const editedAt = stored().edited;
  await plantEditBox(a, first.id, { style: 'position:fixed;left:-3000px;top:0' });
  await until('the off-screen box covered', async () => (await veilFrames(a, 'secure-composer.html')).length >= 3);
  await rerenderCompose(a);
  const main = await composerOfKind(a, 'main');
  const [head, tail] = [ISO.steered.slice(0, 6), ISO.steered.slice(6)];
  await a.bringToFront();
  await until('the main composer to have the keyboard', async () => {
    if ((await composerState(main)).focused) return true;
    await a.focus('#compose'); // the page focusing its box: Veil sends the keys on to the main composer
    return false;
  });
  await typeText(a, head);
  await a.$eval(`li.message[data-id="${first.id}"] .edit-input`, (x) => (x as HTMLElement).focus());
  await new Promise((r) => setTimeout(r, 300));
  await typeText(a, tail);
  await until(
    'the whole text in the main composer',
    async () => (await composerState(main)).value,
    (v) => v === ISO.steered,
  );
  await a.keyboard.press('Enter');
  await waitForReader(b, server, ISO.steered);
  expect(stored().edited).toBe(editedAt);

  // The page re-renders its compose box while alice is mid-sentence: the new composer over it
  // starts with what she had typed (kept in the background, never in the page), and sends it.
  await typeText(a, ISO.draft);
  await until(
    'the text in the main composer',
    async () => (await composerState(main)).value,
    (v) => v === ISO.draft,
  );
  await new Promise((r) => setTimeout(r, 800)); // the composer keeps its unsent text 300 ms after the last key
  await rerenderCompose(a);
  const again = await composerOfKind(a, 'main');
  expect(again).not.toBe(main);
  await until(
    'the unsent text back',
    async () => (await composerState(again)).value,
    (v) => v === ISO.draft,
  );
  await until('the new composer to have the keyboard', async () => {
    if ((await composerState(again)).focused) return true;
    await a.click('#compose');
    return false;
  });
  await a.keyboard.press('Enter');
  await waitForReader(b, server, ISO.draft);

  // More boxes than Veil covers (the page plants five): typing in the uncovered one never reaches
  // the page; it is held for the secure composer.
  await a.$$eval('.edit-input', (boxes) => boxes.forEach((x) => x.remove()));
  await a.evaluate(() => {
    const w = window as unknown as { keysSeen: string[] };
    w.keysSeen = [];
    document.addEventListener('keydown', (e) => w.keysSeen.push(e.key), true);
    const li = document.querySelector('li.message')!;
    for (let i = 0; i < 5; i++) {
      const box = document.createElement('textarea');
      box.className = 'edit-input';
      box.id = `planted-${i}`;
      li.append(box);
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  await a.click('#planted-4');
  await typeText(a, ISO.fifth);
  await new Promise((r) => setTimeout(r, 500));
  expect(await a.evaluate(() => (window as unknown as { keysSeen: string[] }).keysSeen)).toEqual([]);
  expect(await a.$eval('#planted-4', (x) => (x as HTMLTextAreaElement).value)).toBe('');
  await a.$$eval('.edit-input', (boxes) => boxes.forEach((x) => x.remove()));

  // Neither the page nor the vendor ever held one of these words.
  const pageText = await a.evaluate(() => document.documentElement.outerHTML + document.title);
  const vendor = JSON.stringify(server.inspect());
  expect(Object.values(ISO).flatMap((w) => leakedSubstrings(pageText, w))).toEqual([]);
  expect(Object.values(ISO).flatMap((w) => leakedSubstrings(vendor, w))).toEqual([]);
  await Promise.all([a.close(), b.close()]);
}

describe('with Veil (Chromium, isolated mode)', () => {
  const users = teamOfTwo('chromium', { mode: 'isolated' });
  it('edits and thread replies go through secure composers of their own; a planted edit box sends nothing', () =>
    isolatedEditsAndThreads(users.alice, users.bob));
});

describe('with Veil (Firefox ESR, isolated mode)', () => {
  const users = teamOfTwo('firefox', { mode: 'isolated' });
  it('edits and thread replies go through secure composers of their own; a planted edit box sends nothing', () =>
    isolatedEditsAndThreads(users.alice, users.bob));
});

describe('with Veil (Firefox ESR, inline mode)', () => {
  const users = teamOfTwo('firefox');
  it('edits, thread replies and quotes reach the vendor as envelopes only', () =>
    editsThreadsQuotes(users.alice, users.bob, users.team));
});
