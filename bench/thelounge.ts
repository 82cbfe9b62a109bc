/**
 * History in a real chat: The Lounge (its own Vue client and history handling) on ngircd, both on
 * 127.0.0.1. The Lounge runs with accounts, as a team's install does: a user's network stays
 * connected while no browser is open and The Lounge keeps the channel's messages; opening The
 * Lounge then shows the open channel's last 100 (The Lounge loads older ones on scrolling up). A
 * bot posts the backlog while nobody looks: envelopes into #veil for bob, who opens it in Chromium
 * with Veil (policy: the site and a key for #veil), the same texts in plaintext into #plain for
 * carol, who opens it in Chromium without Veil. Each run opens The Lounge in a new tab and times
 * until every message is shown (Veil: every message has a final status, all checked `decrypted`).
 */
import { randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText } from '../lib/crypto/codec';
import { deriveKey, sealMessage } from '../lib/crypto/envelope';
import { startLoungeStack, type LoungeStack } from '../scripts/setup-thelounge.mjs';
import { launchUser, waitForPolicy, type User } from '../test/support/browser';
import { makeKey } from '../test/support/keys';
import { ircConnect } from '../test/support/irc';
import { loungePolicy } from '../test/support/lounge';
import { corpus, sleep, stat, type Stat } from './common';
import { timeShown, type HistoryRun } from './history';

/** What The Lounge shows of a channel when it is opened: its last 100 lines. */
export const LOUNGE_SHOWN = 100;
/** Posted: more than that, so the last 100 lines are all messages (no joins or modes among them). */
const BACKLOG = 120;
const PASSWORD = 'bench password, not a secret';
const OPERATOR = 'veilbench';
const MESSAGE = '#chat .msg[data-type="message"]';
/** Short enough that every envelope is one IRC message of at most 300 characters (no parts to join). */
const MAX_TEXT = 150;

export interface LoungeBench {
  veil: User;
  plain: User;
  url: string;
  /** Messages each browser shows on opening the channel. */
  shown: { veil: number; plain: number };
  /** One opening of the channel in each browser (Veil: bob in #veil; plain: carol in #plain). */
  open(which: 'veil' | 'plain'): Promise<HistoryRun>;
  close(): Promise<void>;
}

/** Starts the stack, posts the backlog, signs bob and carol in once and opens their channel. */
export async function startLoungeBench(): Promise<LoungeBench> {
  const key = makeKey('Bench key, The Lounge', { site: 'thelounge', conversations: ['#veil'] });
  const stack = await startLoungeStack({
    users: { bob: { password: PASSWORD, channels: ['#veil'] }, carol: { password: PASSWORD, channels: ['#plain'] } },
    operator: OPERATOR,
  });
  const started: User[] = [];
  try {
    await postBacklog(stack, key);
    const pattern = `${stack.url}/*`;
    const policy = loungePolicy(pattern, key);
    const veil = await launchUser('lounge-veil', { policy });
    started.push(veil);
    const plain = await launchUser('lounge-plain', { extension: false });
    started.push(plain);
    await waitForPolicy(veil, pattern);
    const shown = {
      veil: await signIn(veil, stack.url, 'bob', '#veil'),
      plain: await signIn(plain, stack.url, 'carol', '#plain'),
    };
    return {
      veil,
      plain,
      url: `${stack.url}/`,
      shown,
      open: (which) =>
        timeShown(
          which === 'veil' ? veil : plain,
          `${stack.url}/`,
          which === 'veil' ? `${MESSAGE}[data-veil-status]` : MESSAGE,
          shown[which],
          {
            decryptedSelector: which === 'veil' ? `${MESSAGE}[data-veil-status="decrypted"]` : undefined,
            timeoutMs: 60_000,
          },
        ),
      async close() {
        await Promise.all(started.map((u) => u.close()));
        await stack.stop();
      },
    };
  } catch (e) {
    await Promise.all(started.map((u) => u.close()));
    await stack.stop();
    throw e;
  }
}

/**
 * alice (an IRC operator, so ngircd lets her post fast) says the same BACKLOG messages as
 * envelopes in #veil and in plaintext in #plain, once bob and carol (The Lounge) are in them.
 */
async function postBacklog(stack: LoungeStack, key: ReturnType<typeof makeKey>): Promise<void> {
  const derived = deriveKey({ id: Buffer.from(key.id, 'hex'), secret: key.secret });
  const texts = corpus(BACKLOG).map((t) => t.slice(0, MAX_TEXT));
  const lines: string[] = [];
  const sock = ircConnect(stack.ircPort, (line) => lines.push(line));
  const waitLine = async (re: RegExp, what: string) => {
    for (let t = 0; t < 300; t++) {
      if (lines.some((l) => re.test(l))) return;
      await sleep(100);
    }
    throw new Error(`IRC: no ${what}: ${lines.slice(-10).join('\n')}\nThe Lounge: ${stack.logs.lounge.slice(-2000)}`);
  };
  try {
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    sock.write('NICK alice\r\nUSER alice 0 * :bench poster\r\n');
    await waitLine(/ 001 /, 'welcome');
    sock.write(`OPER ${OPERATOR} ${OPERATOR}\r\nMODE alice +F\r\nJOIN #veil,#plain\r\n`);
    await waitLine(/ MODE alice :?\+F/, 'relaxed flood limit');
    // The Lounge connects its users' networks at start: wait until bob and carol are in.
    for (let t = 0; ; t++) {
      lines.length = 0;
      sock.write('NAMES #veil,#plain\r\n');
      await sleep(200);
      const names = lines.filter((l) => / 353 /.test(l)).join(' ');
      if (/#veil :.*\bbob\b/.test(names) && /#plain :.*\bcarol\b/.test(names)) break;
      if (t > 150) throw new Error(`bob and carol never joined: ${names}\n${stack.logs.lounge.slice(-2000)}`);
    }
    const start = Date.now() - texts.length * 60_000;
    let out = '';
    texts.forEach((text, i) => {
      const envelope = encodeEnvelopeText(
        sealMessage(
          derived,
          text,
          { conversationId: '#veil', senderId: 'alice' },
          { sentAt: start + i * 60_000, nonce: randomBytes(16) },
        ),
      );
      out += `PRIVMSG #veil :${envelope}\r\nPRIVMSG #plain :${text}\r\n`;
    });
    sock.write(out);
    // Every message relayed: a PING answered after them comes back after them.
    sock.write('PING :backlog-done\r\n');
    await waitLine(/PONG .*backlog-done/, 'answer after the backlog');
    await sleep(500); // The Lounge's own connections take them in too
  } finally {
    sock.destroy();
  }
}

/**
 * Signs `name` in (The Lounge keeps the session) and opens `channel`, which opens again next time;
 * returns how many messages The Lounge shows there when the page opens (its last 100 lines; one
 * of them is The Lounge's own).
 */
async function signIn(user: User, url: string, name: string, channel: string): Promise<number> {
  const page = await user.newPage();
  try {
    await page.goto(`${url}/`);
    await page.waitForSelector('#signin-username');
    await page.type('#signin-username', name);
    await page.type('#signin-password', PASSWORD);
    await page.keyboard.press('Enter');
    const item = `.channel-list-item[data-name="${channel}"]`;
    await page.waitForSelector(item, { timeout: 30_000 });
    await page.click(item);
    // What an opening shows: the page loaded again with the channel open (before, it had loaded
    // the channel's lines on the click and may show one more).
    await page.reload();
    const enough = (sel: string, n: number) => document.querySelectorAll(sel).length >= n;
    await page.waitForFunction(enough, { timeout: 30_000 }, MESSAGE, LOUNGE_SHOWN - 10);
    await sleep(1500);
    return await page.$$eval(MESSAGE, (els) => els.length);
  } finally {
    await page.close();
  }
}

export interface LoungeResult {
  /** Messages shown on opening (The Lounge's last 100 lines, less its own). */
  n: number;
  veilMs: Stat;
  plainMs: Stat;
  /** Veil / plain per pair of runs (they alternate). */
  ratio: Stat;
  veilCpuMs: Stat;
  plainCpuMs: Stat;
}

/** `runs` openings in each browser, alternating which goes first; every Veil run must decrypt all. */
export async function benchLounge(runs: number, log: (...a: unknown[]) => void): Promise<LoungeResult> {
  log('The Lounge: posting the backlog, signing in');
  const b = await startLoungeBench();
  try {
    await b.open('veil'); // warm: the first opening after sign-in
    await b.open('plain');
    const pairs: { v: HistoryRun; p: HistoryRun }[] = [];
    for (let i = 0; i < runs; i++) {
      const first = i % 2 ? 'plain' : 'veil';
      const a = await b.open(first);
      const c = await b.open(first === 'veil' ? 'plain' : 'veil');
      const [v, p] = first === 'veil' ? [a, c] : [c, a];
      if (v.decrypted !== b.shown.veil) throw new Error(`The Lounge: only ${v.decrypted} of ${b.shown.veil} decrypted`);
      pairs.push({ v, p });
      log(`The Lounge run ${i + 1}/${runs}: veil ${v.paintMs.toFixed(0)} ms, plain ${p.paintMs.toFixed(0)} ms`);
    }
    return {
      n: b.shown.veil,
      veilMs: stat(pairs.map((x) => x.v.paintMs)),
      plainMs: stat(pairs.map((x) => x.p.paintMs)),
      ratio: stat(pairs.map((x) => x.v.paintMs / x.p.paintMs)),
      veilCpuMs: stat(pairs.map((x) => x.v.cpuMs)),
      plainCpuMs: stat(pairs.map((x) => x.p.cpuMs)),
    };
  } finally {
    await b.close();
  }
}

const fmt = (x: number, d = 0) => x.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
const spread = (s: Stat, d = 0) => `${fmt(s.median, d)} (IQR ${fmt(s.iqr, d)}, ${fmt(s.min, d)}–${fmt(s.max, d)})`;

/** The results.md section. */
export function loungeReport(r: LoungeResult): string[] {
  return [
    '## History in a real chat: opening The Lounge',
    '',
    "The Lounge 4.5.2 (its own Vue client and history handling) on ngircd, both on 127.0.0.1, with accounts as a team's " +
      "install runs it: a user's network stays connected while no browser is open and The Lounge keeps the channel's " +
      "messages; opening The Lounge shows the open channel's last 100 lines (older ones load on scrolling up). A bot posted " +
      '120 messages of the bench corpus (at most 150 characters, so each envelope is one IRC message) while nobody looked: ' +
      'envelopes into #veil, which bob opens in Chromium with Veil (the site and a key for #veil from policy, as admins deploy ' +
      'it), and the same texts in plaintext into #plain, which carol opens in Chromium without Veil. Time from navigation ' +
      'start until every shown message is painted (Veil: every one has a final status, all checked `decrypted`), the two ' +
      'browsers alternating; the ratio is taken per pair of runs. *Browser CPU* as in the history table.',
    '',
    '| messages shown | runs | plain, ms | Veil, ms | **ratio Veil / plain** | browser CPU, plain / Veil, ms |',
    '|---|---|---|---|---|---|',
    `| ${r.n} | ${r.ratio.n} | ${spread(r.plainMs)} | ${spread(r.veilMs)} | **${fmt(r.ratio.median, 2)}** (${fmt(r.ratio.min, 2)}–${fmt(r.ratio.max, 2)}) | ${fmt(r.plainCpuMs.median)} / ${fmt(r.veilCpuMs.median)} |`,
    '',
  ];
}
