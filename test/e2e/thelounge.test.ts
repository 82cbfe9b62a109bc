/**
 * a real chat nobody on this team wrote. The Lounge 4.5.2 (Vue web IRC client) with
 * ngircd, both on 127.0.0.1; alice and bob in #veil, each in their own Chromium with Veil. A third
 * IRC client without Veil (a raw socket from Node) sits in the channel and logs what the IRC
 * server relays: it must never see plaintext.
 *
 * The Lounge has no fixed domain, so an enterprise policy names it (as an admin would):
 * { adapter: 'thelounge', matches: [this instance] } plus a policy key for '#veil'; each browser reads it from its own copy of
 * /etc/chromium/policies (test/support/browser.ts), so no other browser on the machine sees it.
 *
 * Setup (cached): scripts/setup-thelounge.mjs installs The Lounge under node_modules/.cache; ngircd
 * comes from Debian (.ci/run installs it).
 */
import net from 'node:net';
import { base64 } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Page } from 'puppeteer';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { startLoungeStack } from '../../scripts/setup-thelounge.mjs';
import { launchUser, waitFor, type User, waitForPolicy } from '../support/browser';
import { makeKey } from '../support/keys';
import { leakedSubstrings } from '../support/leaks';
import { ircConnect } from '../support/irc';
import { loungePolicy } from '../support/lounge';

const ENVELOPE = /^VEIL1[1-9A-HJ-NP-Za-km-z]+0$/;

let stack: Awaited<ReturnType<typeof startLoungeStack>>;
let alice: User;
let bob: User;
let alicePage: Page;
let bobPage: Page;
let observer: IrcObserver;
const key = makeKey('IRC #veil', { site: 'thelounge', conversations: ['#veil'] });

/** A plain IRC client: joins the channel and records every PRIVMSG text the server relays. */
interface IrcObserver {
  said: { from: string; text: string }[];
  raw: string[];
  close(): void;
}

function observe(port: number, channel: string): Promise<IrcObserver> {
  return new Promise((resolve, reject) => {
    const obs: IrcObserver = { said: [], raw: [], close: () => sock.destroy() };
    const sock = ircConnect(port, (line) => {
      obs.raw.push(line);
      if (/^:\S+ 001 /.test(line)) sock.write(`JOIN ${channel}\r\n`);
      if (new RegExp(`^:\\S+ JOIN :?${channel}`, 'i').test(line)) resolve(obs);
      const m = /^:([^!]+)!\S+ PRIVMSG \S+ :(.*)$/.exec(line);
      if (m) obs.said.push({ from: m[1]!, text: m[2]! });
    });
    sock.once('error', reject);
    sock.on('connect', () => sock.write('NICK eve\r\nUSER eve 0 * :observer without Veil\r\n'));
    setTimeout(() => reject(new Error(`IRC observer could not join: ${obs.raw.join('\n')}`)), 10_000);
  });
}

/** Opens The Lounge, connects with `nick` to the locked network and waits for the channel. */
async function joinAs(user: User, nick: string): Promise<Page> {
  const page = await user.newPage();
  await page.goto(`${stack.url}/`);
  await page.waitForSelector('input[name=nick]');
  await page.$eval('input[name=nick]', (el) => {
    (el as HTMLInputElement).value = '';
  });
  await page.type('input[name=nick]', nick);
  await page.click('#connect button[type=submit]');
  await page.waitForSelector('#chat .chat-view[data-type="channel"] ~ *, #chat .chat-view[data-type="channel"]');
  await page.waitForSelector('form#form textarea#input');
  // The channel view opens before the server confirms the JOIN; sending earlier is refused by IRC.
  await page.waitForSelector(`.msg.self[data-type="join"][data-from="${nick}"]`, { timeout: 30_000 });
  await page.waitForSelector('.veil-composer-status[data-state="ready"], .veil-composer-status[data-state="error"]');
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.focus('textarea#input');
  await page.keyboard.sendCharacter(text);
  await page.keyboard.press('Enter'); // Veil intercepts it and sends through The Lounge's button
}

/** The decrypted messages from `nick` on `page`, as shown. */
function shown(page: Page, nick: string): Promise<{ status: string | null; text: string }[]> {
  return page.$$eval(`.msg[data-type="message"][data-from="${nick}"]`, (els) =>
    els.map((el) => ({
      status: el.getAttribute('data-veil-status'),
      text: el.querySelector('[data-veil-shown]')?.textContent ?? el.querySelector('.content')?.textContent ?? '',
    })),
  );
}

async function waitShown(page: Page, nick: string, text: string): Promise<void> {
  await waitFor(
    async () => (await shown(page, nick)).some((m) => m.status === 'decrypted' && m.text === text),
    `${nick}'s message to be shown decrypted`,
    30_000,
  ).catch(async (e) => {
    const statuses = await Promise.all(
      [alicePage, bobPage].map((p) => p.$eval('.veil-composer-status', (el) => el.textContent).catch(() => '')),
    );
    throw new Error(
      `${(e as Error).message}; page shows ${JSON.stringify(await shown(page, nick)).slice(0, 2000)}; ` +
        `status lines ${JSON.stringify(statuses)}; IRC saw ${JSON.stringify(observer.said).slice(0, 500)}`,
    );
  });
}

beforeAll(async () => {
  stack = await startLoungeStack();
  observer = await observe(stack.ircPort, stack.channel);
  const pattern = `${stack.url}/*`;
  const policy = loungePolicy(pattern, key);
  [alice, bob] = await Promise.all([launchUser('alice', { policy }), launchUser('bob', { policy })]);
  await Promise.all([waitForPolicy(alice, pattern), waitForPolicy(bob, pattern)]);
  alicePage = await joinAs(alice, 'alice');
  bobPage = await joinAs(bob, 'bob');
}, 120_000);

afterAll(async () => {
  observer?.close();
  await Promise.all([alice?.close(), bob?.close()]);
  await stack?.stop();
});

describe('The Lounge (real IRC web client) with ngircd', () => {
  it('names the key for #veil before anyone types', async () => {
    for (const page of [alicePage, bobPage]) {
      expect(await page.$eval('.veil-composer-status', (el) => el.textContent)).toContain(key.label);
    }
  });

  it('alice -> bob in #veil: bob reads the exact text; IRC only carried an envelope', async () => {
    const text = 'IRC secret: launch moved to Thursday 🚀 <b>no html</b>';
    await send(alicePage, text);
    await waitShown(bobPage, 'alice', text);
    await waitShown(alicePage, 'alice', text); // her own copy too
    await waitFor(() => observer.said.some((m) => m.from === 'alice'), 'observer to see alice');
    for (const m of observer.said) expect(m.text).toMatch(ENVELOPE);
    expect(leakedSubstrings(observer.raw.join('\n'), text, 6)).toEqual([]);
    expect(await alicePage.$eval('textarea#input', (el) => (el as HTMLTextAreaElement).value)).toBe('');
  });

  it('bob -> alice', async () => {
    const text = 'Reply from bob: agreed, Thursday works — see https://example.com/plan';
    await send(bobPage, text);
    await waitShown(alicePage, 'bob', text);
    await waitFor(() => observer.said.some((m) => m.from === 'bob'), 'observer to see bob');
    for (const m of observer.said) expect(m.text).toMatch(ENVELOPE);
    expect(leakedSubstrings(observer.raw.join('\n'), text, 6)).toEqual([]);
  });

  it('a 2,000-character message travels as several IRC messages and arrives as one exact message', async () => {
    const before = observer.said.length;
    const words = 'quarterly numbers remain confidential until the board meets next week'.split(' ');
    let text = '';
    for (let i = 0; text.length < 2000; i++) text += `${words[i % words.length]}${i} `;
    text = text.slice(0, 2000);
    await send(alicePage, text);
    await waitShown(bobPage, 'alice', text);
    const parts = observer.said.slice(before);
    expect(parts.length).toBeGreaterThan(1);
    for (const m of parts) {
      expect(m.from).toBe('alice');
      expect(m.text).toMatch(ENVELOPE);
      expect(m.text.length).toBeLessThanOrEqual(300);
    }
    expect(leakedSubstrings(observer.raw.join('\n'), text, 6)).toEqual([]);
    // Shown once: the full text sits in one message; the other parts only say they continue it.
    const all = await shown(bobPage, 'alice');
    expect(all.filter((m) => m.text === text)).toHaveLength(1);
    expect(all.filter((m) => m.text.includes('quarterly'))).toHaveLength(1);
  });

  it('a plaintext line from a client without Veil is marked "not encrypted"', async () => {
    observer.raw.length = 0;
    const sock = net.connect(stack.ircPort, '127.0.0.1');
    await new Promise<void>((resolve) => {
      sock.setEncoding('utf8');
      let buf = '';
      sock.on('connect', () => sock.write('NICK mallory\r\nUSER m 0 * :no veil\r\n'));
      sock.on('data', (d: string) => {
        buf += d;
        if (/ 001 /.test(buf)) {
          buf = '';
          sock.write(`JOIN ${stack.channel}\r\nPRIVMSG ${stack.channel} :plain words here\r\n`);
          setTimeout(resolve, 300);
        }
      });
    });
    const msg = '.msg[data-type="message"][data-from="mallory"]';
    await bobPage.waitForSelector(`${msg}[data-veil-unencrypted="true"] .veil-badge`);
    expect(await bobPage.$eval(`${msg} .veil-badge`, (el) => el.getAttribute('data-veil-label'))).toContain(
      'Not encrypted',
    );
    expect(await bobPage.$eval(`${msg} .content`, (el) => el.textContent)).toBe('plain words here');
    sock.destroy();
  });
});

describe('The Lounge in isolated mode (a site the build knows only from policy)', () => {
  let carol: User;
  let dave: User;
  let carolPage: Page;
  let davePage: Page;

  /** A secure frame of `kind` on `page` that Veil granted (it shows the user's indicator). */
  async function grantedFrame(page: Page, kind: 'composer' | 'reader', has: (f: Frame) => Promise<boolean>) {
    let found: Frame | undefined;
    await waitFor(
      async () => {
        for (const f of page.frames().filter((fr) => fr.url().endsWith(`/secure-${kind}.html`))) {
          if (await has(f).catch(() => false)) found = f;
        }
        return !!found;
      },
      `a granted secure ${kind} in The Lounge`,
      30_000,
    );
    return found!;
  }

  beforeAll(async () => {
    const pattern = `${stack.url}/*`;
    const policy = JSON.stringify({
      '3rdparty': {
        extensions: {
          [CHROME_EXTENSION_ID]: {
            protectedSites: [{ adapter: 'thelounge', matches: [pattern], mode: 'isolated' }],
            keys: [{ ...key, secret: base64.encode(key.secret), source: undefined }],
          },
        },
      },
    });
    [carol, dave] = await Promise.all([launchUser('carol', { policy }), launchUser('dave', { policy })]);
    await Promise.all([waitForPolicy(carol, pattern), waitForPolicy(dave, pattern)]);
    carolPage = await joinAs(carol, 'carol');
    davePage = await joinAs(dave, 'dave');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([carol?.close(), dave?.close()]);
  });

  it("carol types in Veil's secure composer, dave reads in a secure reader; IRC and the page's DOM hold envelopes only", async () => {
    const text = 'Quorbex wibbleton huckleberry 42k';
    const composer = await grantedFrame(carolPage, 'composer', (f) =>
      f.evaluate(() => !!document.getElementById('veil-indicator')),
    );
    await carolPage.bringToFront();
    await composer.focus('#input');
    await carolPage.keyboard.type(text);
    await carolPage.keyboard.press('Enter');
    await grantedFrame(davePage, 'reader', (f) =>
      f.evaluate((t) => [...document.querySelectorAll('.veil-reader-text')].some((e) => e.textContent === t), text),
    );
    await waitFor(() => observer.said.some((m) => m.from === 'carol'), 'observer to see carol');
    for (const m of observer.said.filter((s) => s.from === 'carol')) expect(m.text).toMatch(ENVELOPE);
    expect(leakedSubstrings(observer.raw.join('\n'), text, 6)).toEqual([]);
    // The Lounge's own DOM (what its page script can read) never held the plaintext.
    for (const page of [carolPage, davePage]) {
      expect(leakedSubstrings(await page.evaluate(() => document.documentElement.outerHTML), text, 6)).toEqual([]);
    }
  });
});
