/**
 * A hostile vendor page in inline mode tries to make Veil encrypt and send text the user never
 * sent, and a careless one sends on triggers Veil used not to watch. The page can read the
 * composer in inline mode (accepted); it must never get Veil to encrypt, sign or send without the
 * user's own key press or click, and none of its send triggers may carry plaintext to the vendor's
 * message API. Trusted input (puppeteer's keyboard and mouse go through CDP: isTrusted) still sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { launchUser, waitFor, type User } from '../support/browser';
import { bundleText, makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';
import { composerStatus, importBundle, openChat } from '../support/veil-ui';
import en from '../../public/_locales/en/messages.json';

const PASS = 'correct horse battery staple';
const ENVELOPE = /^VEIL1/;
/** What Veil says to a send the page scripted (the browser runs in English). */
const REFUSED = en.composerUntrusted.message;

let server: ChatServer;
let alice: User;
const key = makeKey('Alice and Bob', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });

/** Everything the vendor's message API received: stored messages and raw request bodies. */
function messageTraffic(): string {
  const rec = server.inspect();
  return JSON.stringify([rec.messages, rec.requests.filter((r) => r.path.startsWith('/api/messages'))]);
}
const envelopesStored = () => server.inspect().messages.filter((m) => ENVELOPE.test(m.text)).length;
const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

/**
 * The vendor's page script (main world). A careless chat that sends whatever the box holds on
 * every trigger Veil might miss, plus a recorder of every value the compose box takes (an envelope
 * there means Veil encrypted) and of Veil's "encrypting" state.
 */
async function installVendor(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    const compose = document.querySelector<HTMLTextAreaElement>('#compose')!;
    const sendButton = document.querySelector<HTMLButtonElement>('#send')!;
    const vendor = {
      sends: [] as { via: string; text: string }[],
      values: [] as string[],
      busy: 0,
      said: [] as string[],
    };
    w.vendor = vendor;
    // Each attack starts from a clean record (its own count of values and "encrypting" states).
    w.resetVendorState = () => Object.assign(w.vendor, { values: [], busy: 0, said: [] });
    const ship = (via: string, text: string) => {
      if (!text.trim()) return;
      vendor.sends.push({ via, text });
      void fetch('/api/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'alice', to: 'bob', text }),
      });
    };
    const isEnter = (e: KeyboardEvent) => e.key === 'Enter' || e.code === 'Enter' || e.keyCode === 13;
    // The careless chat: sends on Enter even while an IME composes, and on keyup whatever Shift
    // does. (Shift+Enter on keydown is a newline, as in every chat: Veil lets it through.)
    for (const type of ['keydown', 'keypress']) {
      compose.addEventListener(type, (e) => {
        const k = e as KeyboardEvent;
        if (isEnter(k) && !k.shiftKey) ship(type, compose.value);
      });
    }
    compose.addEventListener('keyup', (e) => isEnter(e) && ship('keyup', compose.value));
    // Enter in a contenteditable arrives as insertParagraph (insertLineBreak is Shift+Enter's newline).
    compose.addEventListener('beforeinput', (e) => {
      if ((e as InputEvent).inputType === 'insertParagraph') ship('beforeinput', compose.value);
    });
    for (const type of ['mousedown', 'pointerdown', 'pointerup', 'touchend', 'click']) {
      sendButton.addEventListener(type, () => ship(type, compose.value));
    }
    compose.addEventListener('input', () => w.vendor.values.push(compose.value));
    new MutationObserver(() => {
      const line = document.querySelector<HTMLElement>('.veil-composer-status');
      if (line?.dataset.state === 'busy') w.vendor.busy++;
      const said = line?.textContent ?? '';
      if (said && w.vendor.said.at(-1) !== said) w.vendor.said.push(said);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    // The page writes the compose box as its own script can.
    w.setCompose = (text: string) => {
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(compose, text);
      compose.dispatchEvent(new Event('input', { bubbles: true }));
    };
    // A box the adapter does not declare (an edit box, a thread reply), sending on Enter.
    const edit = document.createElement('textarea');
    edit.id = 'edit-box';
    edit.addEventListener('keydown', (e) => isEnter(e) && ship('edit-box', edit.value));
    document.querySelector('#chat')!.append(edit);
  });
}

/** Runs one page-script attack on a fresh text the page wrote into the compose box. */
async function attack(page: Page, name: string, run: string): Promise<void> {
  // A word no other attack's text shares, so a leak is this attack's.
  const token = `pay-mallory-${Math.random().toString(36).slice(2, 12)}`;
  const forged = `forged (${name}): ${token}`;
  const before = envelopesStored();
  await page.evaluate(
    (forged, run) => {
      (window as any).resetVendorState();
      (window as any).setCompose(forged);
      new Function(run)();
    },
    forged,
    run,
  );
  await settle();
  const seen = await page.evaluate(() => (window as any).vendor.values as string[]);
  expect(
    seen.filter((v) => ENVELOPE.test(v)),
    `${name}: Veil encrypted`,
  ).toEqual([]);
  expect(await page.evaluate(() => (window as any).vendor.busy), `${name}: Veil started encrypting`).toBe(0);
  // A send Veil started and that failed before its envelope went in says so only on its line: the
  // one thing Veil may say to a scripted send is that it refused it.
  const said = await page.evaluate(() => (window as any).vendor.said as string[]);
  expect(
    said.filter((s) => s !== REFUSED),
    `${name}: Veil started a send`,
  ).toEqual([]);
  expect(envelopesStored(), `${name}: an envelope was sent`).toBe(before);
  expect(messageTraffic(), `${name}: plaintext sent`).not.toContain(token);
  // Nothing lost: the (page's) text is still where it was.
  expect(await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe(forged);
}

beforeAll(async () => {
  server = await startChatServer();
  alice = await launchUser('alice');
  expect((await importBundle(alice, await bundleText([key], PASS), PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await alice?.close();
  await server?.close();
});

describe('hostile page, inline mode', () => {
  let page: Page;

  beforeAll(async () => {
    page = await openChat(alice, server.url, 'bob');
    expect((await composerStatus(page)).state).toBe('ready');
    await installVendor(page);
  });

  const KEY = (type: string, extra = '') =>
    `document.querySelector('#compose').dispatchEvent(new KeyboardEvent('${type}', { key: 'Enter', code: 'Enter', bubbles: true, cancelable: true ${extra} }))`;
  const BUTTON = (type: string, ctor = 'PointerEvent') =>
    `document.querySelector('#send').dispatchEvent(new ${ctor}('${type}', { bubbles: true, cancelable: true }))`;
  const INPUT = (inputType: string) =>
    `document.querySelector('#compose').dispatchEvent(new InputEvent('beforeinput', { inputType: '${inputType}', bubbles: true, cancelable: true }))`;

  const attacks: [string, string][] = [
    ['synthetic Enter keydown', KEY('keydown')],
    ['synthetic Enter keypress', KEY('keypress')],
    ['synthetic Enter keyup', KEY('keyup')],
    ['synthetic Shift+Enter keyup', KEY('keyup', ', shiftKey: true')],
    ['synthetic composing Enter', KEY('keydown', ', isComposing: true')],
    ['pointerdown on Send', BUTTON('pointerdown')],
    ['pointerup on Send', BUTTON('pointerup')],
    ['mousedown on Send', BUTTON('mousedown', 'MouseEvent')],
    ['touchend on Send', BUTTON('touchend', 'Event')],
    ['synthetic click on Send', BUTTON('click', 'MouseEvent')],
    ['sendButton.click()', `document.querySelector('#send').click()`],
    ['form.requestSubmit()', `document.querySelector('#composer').requestSubmit()`],
    ['form.requestSubmit(send)', `document.querySelector('#composer').requestSubmit(document.querySelector('#send'))`],
    [
      'submit event',
      `document.querySelector('#composer').dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }))`,
    ],
    ['beforeinput insertParagraph', INPUT('insertParagraph')],
  ];

  for (const [name, run] of attacks) {
    it(`untrusted ${name}: nothing encrypted, nothing sent`, () => attack(page, name, run));
  }

  it('the page clicks Send right after a trusted key press elsewhere (user activation): still nothing', async () => {
    await page.evaluate(() => {
      const search = document.createElement('input');
      search.id = 'search';
      search.type = 'search';
      search.addEventListener('keydown', () => document.querySelector<HTMLButtonElement>('#send')!.click());
      document.body.prepend(search);
    });
    await page.evaluate(() => {
      (window as any).resetVendorState();
      (window as any).setCompose('forged after activation pay mallory');
    });
    const before = envelopesStored();
    await page.focus('#search');
    await page.keyboard.press('a');
    await settle();
    expect(envelopesStored()).toBe(before);
    expect(await page.evaluate(() => (window as any).vendor.values.filter((v: string) => /^VEIL1/.test(v)))).toEqual(
      [],
    );
    expect(leakedSubstrings(messageTraffic(), 'forged after activation pay mallory', 12)).toEqual([]);
  });

  it('the page fires Enter right after the user typed: the typed text is neither encrypted nor sent', async () => {
    await page.evaluate(() => {
      (window as any).setCompose('');
      const compose = document.querySelector<HTMLTextAreaElement>('#compose')!;
      const follow = (e: Event) => {
        if (!e.isTrusted) return;
        compose.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
      };
      compose.addEventListener('input', follow);
      (window as any).stopFollowing = () => compose.removeEventListener('input', follow);
    });
    const typed = 'typed but not sent by me';
    const before = envelopesStored();
    await page.focus('#compose');
    await page.keyboard.sendCharacter(typed);
    await settle();
    expect(envelopesStored()).toBe(before);
    expect(leakedSubstrings(messageTraffic(), typed, 12)).toEqual([]);
    expect(await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe(typed);
    // The line says a send the page started was ignored.
    expect(await page.$eval('.veil-composer-status', (el) => el.textContent)).toMatch(/started by the page/);
    await page.evaluate(() => (window as any).stopFollowing());
  });

  it('an untrusted Enter in a box the adapter does not declare is swallowed', async () => {
    const text = 'edit box secret for the page';
    await page.$eval('#edit-box', (el, text) => ((el as HTMLTextAreaElement).value = text), text);
    await page.$eval('#edit-box', (el) =>
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true })),
    );
    await settle();
    expect(leakedSubstrings(messageTraffic(), text, 12)).toEqual([]);
  });

  it('the user types and presses Enter in an undeclared box: typing kept out, nothing sent, the reason shown', async () => {
    const text = 'thread reply the user typed';
    await page.$eval('#edit-box', (el) => ((el as HTMLTextAreaElement).value = ''));
    await page.focus('#edit-box');
    await page.keyboard.sendCharacter(text);
    await page.keyboard.press('Enter');
    await settle();
    expect(leakedSubstrings(messageTraffic(), text, 12)).toEqual([]);
    expect(await page.$eval('#edit-box', (el) => (el as HTMLTextAreaElement).value)).toBe(''); // never held it
    expect(await page.$eval('.veil-composer-status', (el) => el.textContent)).toContain(
      'Veil cannot encrypt from this box',
    );
  });

  it('Enter while an IME composes commits the text and sends nothing', async () => {
    await page.evaluate(() => (window as any).setCompose(''));
    await page.focus('#compose');
    const cdp = await page.createCDPSession();
    const before = envelopesStored();
    await cdp.send('Input.imeSetComposition', { text: 'nihao', selectionStart: 5, selectionEnd: 5 });
    // What Chromium sends while a composition is open: key "Process", keyCode 229, code Enter.
    await cdp.send('Input.dispatchKeyEvent', {
      type: 'rawKeyDown',
      key: 'Process',
      code: 'Enter',
      windowsVirtualKeyCode: 229,
    });
    await cdp.send('Input.insertText', { text: '你好' }); // the IME commits
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13 });
    await settle();
    const sends = await page.evaluate(() => (window as any).vendor.sends as { via: string; text: string }[]);
    expect(sends.filter((s) => /nihao|你好/.test(s.text))).toEqual([]); // the chat never saw a send
    expect(envelopesStored()).toBe(before);
    expect(leakedSubstrings(messageTraffic(), 'nihao', 4)).toEqual([]);
    expect(leakedSubstrings(messageTraffic(), '你好你好', 2)).toEqual([]);
    expect(await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toContain('你好');
    await cdp.detach();
  });

  it('trusted input still works: Shift+Enter is a newline, Enter and a click on Send send envelopes', async () => {
    await page.evaluate(() => (window as any).setCompose(''));
    await page.bringToFront();
    await page.focus('#compose');
    await page.keyboard.type('first line');
    await page.keyboard.down('Shift');
    await page.keyboard.press('Enter');
    await page.keyboard.up('Shift');
    await page.keyboard.type('second line');
    expect(await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)).toBe('first line\nsecond line');
    const before = envelopesStored();
    await page.keyboard.press('Enter');
    await waitFor(() => envelopesStored() > before, 'the envelope sent by Enter');
    await waitFor(
      async () => (await page.$eval('#compose', (el) => (el as HTMLTextAreaElement).value)) === '',
      'the composer to clear',
    );
    const afterEnter = envelopesStored();
    await page.keyboard.type('sent with the button');
    await page.click('#send');
    await waitFor(() => envelopesStored() > afterEnter, 'the envelope sent by a click');
    await settle();
    for (const secret of ['first line\nsecond line', 'sent with the button']) {
      expect(leakedSubstrings(messageTraffic(), secret, 8)).toEqual([]);
    }
  });
});

describe("Veil's own buttons on the page", () => {
  it('the page cannot press the fix button on the line under the composer', async () => {
    const page = await openChat(alice, server.url, 'carol'); // no key: the line offers "Open Veil options"
    expect((await composerStatus(page)).state).toBe('error');
    await page.waitForSelector('.veil-composer-action');
    const optionsOpen = () => alice.browser.targets().filter((t) => t.url().includes('/options.html')).length;
    const before = optionsOpen();
    await page.$eval('.veil-composer-action', (b) => (b as HTMLButtonElement).click());
    await settle(1500);
    expect(optionsOpen()).toBe(before);
    // A person's click still works.
    await page.click('.veil-composer-action');
    await waitFor(() => optionsOpen() > before, 'the options page');
    await page.close();
  });
});
