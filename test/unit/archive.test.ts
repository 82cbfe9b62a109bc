/**
 * `admin archive decrypt` (scripts/archive-*.ts), run in-process over exports made here with
 * lib/crypto under keys made here: every status the browser gives, the same verdicts from the
 * fixture chat's JSON lines, a Slack-style folder and ZIP, and generic JSON lines; filters, output
 * files and exit codes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64 } from '@scure/base';
import { hexToBytes, randomBytes } from '@noble/ciphers/utils.js';
import { createBundle, directoryEntryOf } from '../../lib/crypto/bundle';
import { encodeEnvelopeText, findEnvelopes } from '../../lib/crypto/codec';
import { toEnvelopeTexts } from '../../lib/crypto/chunks';
import { deriveKey, parseHeader, sealMessage } from '../../lib/crypto/envelope';
import { insertQuotes, type QuoteRef, quoteDigest } from '../../lib/crypto/quotes';
import type { KeyRecord, SigningIdentity } from '../../lib/keys/model';
import { runAdmin } from '../../scripts/admin-cli';
import { runArchive } from '../../scripts/archive-cli';
import { csvCell, isoTime } from '../../scripts/archive-output';
import { envelopeFor, makeKey, TEST_KDF } from '../support/keys';

const PASS = 'archive passphrase for tests';
const KDF_TIMEOUT = 60_000;
const scope = { site: 'fixture-chat', conversations: ['*'] };
const team = makeKey('Team', scope);
const old = makeKey('Team 2025', scope, 'retired');
const revoked = makeKey('Leaked', scope, 'revoked');
const stranger = makeKey('Not ours', scope);
const identity = (userId: string): SigningIdentity => ({
  site: 'fixture-chat',
  userId,
  secretKey: ed25519.utils.randomSecretKey(),
  createdAt: Date.now(),
});
const ids = { alice: identity('alice'), carol: identity('carol') };

/** One message of the synthetic chat, and what the archive must say about it. */
interface Case {
  conv: string;
  from: string;
  text: string;
  expect: { status: string; plaintext?: string; signer?: string; parts?: number; quote?: string };
}

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
let dir: string;
let keysFile: string;
let policyFile: string;
let cases: Case[];

function seal(
  key: KeyRecord,
  text: string,
  conversationId: string,
  senderId: string,
  signingKey?: Uint8Array,
  quotes?: QuoteRef[],
) {
  const d = deriveKey({ id: hexToBytes(key.id), secret: key.secret });
  return sealMessage(d, text, { conversationId, senderId }, { sentAt: T0, nonce: randomBytes(16), signingKey, quotes });
}

/** The story: one line per chat message as the vendor stores it (chunk parts are lines of their own). */
function story(): Case[] {
  const gen = 'ch-general';
  const signedHello = envelopeFor(
    team,
    'hello from alice',
    { conversationId: gen, senderId: 'alice' },
    ids.alice.secretKey,
  );
  const frame = seal(team, 'the quarterly numbers', gen, 'bob');
  frame[frame.length - 3]! ^= 0x01; // the vendor flips one ciphertext bit
  const long = 'a long message that travels in parts. '.repeat(12);
  const chunks = toEnvelopeTexts(seal(team, long, gen, 'carol', ids.carol.secretKey), 200, randomBytes(4));
  const lost = toEnvelopeTexts(seal(team, 'x'.repeat(400), gen, 'bob'), 200, randomBytes(4));
  // bob quotes alice's hello as it was; carol quotes it as saying something else.
  const helloId = (parseHeader((findEnvelopes(signedHello)[0] as { frame: Uint8Array }).frame) as { nonce: Uint8Array })
    .nonce;
  const reply = insertQuotes('> {q}\n\nagreed', [
    { start: 2, end: 5, messageId: helloId, plaintext: 'hello from alice', author: 'alice' },
  ]);
  const lie = { ...reply.refs[0]!, digest: quoteDigest('hello from mallory'), length: 18 };
  return [
    {
      conv: gen,
      from: 'alice',
      text: signedHello,
      expect: { status: 'verified', plaintext: 'hello from alice', signer: 'alice' },
    },
    {
      conv: gen,
      from: 'bob',
      text: envelopeFor(old, "sent under last year's key", { conversationId: gen, senderId: 'bob' }),
      expect: { status: 'decrypted', plaintext: "sent under last year's key" },
    },
    { conv: gen, from: 'bob', text: encodeEnvelopeText(frame), expect: { status: 'tampered' } },
    { conv: gen, from: 'alice', text: signedHello, expect: { status: 'replayed', plaintext: 'hello from alice' } },
    {
      conv: gen,
      from: 'bob',
      text: envelopeFor(team, 'only for alice', { conversationId: 'dm-alice-bob', senderId: 'bob' }),
      expect: { status: 'moved', plaintext: 'only for alice' },
    },
    {
      conv: gen,
      from: 'carol',
      text: envelopeFor(team, 'bob said this', { conversationId: gen, senderId: 'bob' }),
      expect: { status: 'sender-mismatch', plaintext: 'bob said this' },
    },
    ...chunks.map((text, i) => ({
      conv: gen,
      from: 'carol',
      text,
      expect: i === 0 ? { status: 'verified', plaintext: long, signer: 'carol', parts: chunks.length } : { status: '' },
    })),
    {
      conv: gen,
      from: 'bob',
      text: encodeEnvelopeText(seal(team, reply.text, gen, 'bob', undefined, reply.refs)),
      expect: { status: 'decrypted', plaintext: '> hello from alice\n\nagreed', quote: 'verified' },
    },
    {
      conv: gen,
      from: 'carol',
      text: encodeEnvelopeText(seal(team, '> hello from mallory\n\nok', gen, 'carol', undefined, [lie])),
      expect: { status: 'quote-mismatch', plaintext: '> hello from mallory\n\nok', quote: 'mismatch' },
    },
    {
      conv: gen,
      from: 'dave',
      text: 'lunch? <b>plain</b>',
      expect: { status: 'not-encrypted', plaintext: 'lunch? <b>plain</b>' },
    },
    {
      conv: gen,
      from: 'bob',
      text: envelopeFor(stranger, "someone else's key", { conversationId: gen, senderId: 'bob' }),
      expect: { status: 'unknown-key' },
    },
    {
      conv: gen,
      from: 'bob',
      text: envelopeFor(revoked, 'under a leaked key', { conversationId: gen, senderId: 'bob' }),
      expect: { status: 'revoked-key', plaintext: 'under a leaked key' },
    },
    { conv: gen, from: 'bob', text: 'VEIL1abcdefgh', expect: { status: 'malformed' } },
    {
      conv: 'dm-alice-bob',
      from: 'alice',
      text: envelopeFor(
        team,
        '=HYPERLINK("http://evil")',
        { conversationId: 'dm-alice-bob', senderId: 'alice' },
        ids.alice.secretKey,
      ),
      expect: { status: 'verified', plaintext: '=HYPERLINK("http://evil")', signer: 'alice' },
    },
    {
      conv: 'dm-alice-bob',
      from: 'bob',
      text: envelopeFor(team, '<script>alert(1)</script>', { conversationId: 'dm-alice-bob', senderId: 'bob' }),
      expect: { status: 'decrypted', plaintext: '<script>alert(1)</script>' },
    },
    { conv: 'dm-alice-bob', from: 'bob', text: lost[0]!, expect: { status: 'incomplete' } },
  ];
}

const timeOf = (i: number) => T0 + i * 60_000;

function writeFixtureExport(file: string, list: Case[]): void {
  const lines = list.map((c, i) =>
    JSON.stringify({ id: `m${i + 1}`, from: c.from, to: '#general', conv: c.conv, text: c.text, ts: timeOf(i) }),
  );
  writeFileSync(file, lines.join('\n') + '\n');
}

function writeSlackFolder(root: string, list: Case[]): void {
  const days = new Map<string, object[]>();
  list.forEach((c, i) => {
    const day = new Date(timeOf(i)).toISOString().slice(0, 10);
    const file = join(c.conv, `${day}.json`);
    if (!days.has(file)) days.set(file, []);
    days
      .get(file)!
      .push({ type: 'message', user: c.from, text: c.text, ts: `${timeOf(i) / 1000}.${String(i).padStart(6, '0')}` });
  });
  writeFileSync(join(root, 'channels.json'), JSON.stringify([{ name: 'ch-general' }]));
  writeFileSync(join(root, 'users.json'), '[]');
  for (const [file, msgs] of days) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), JSON.stringify(msgs, null, 2));
  }
}

function writeGeneric(file: string, list: Case[]): void {
  const lines = list.map((c, i) =>
    JSON.stringify({
      uid: 1000 + i,
      sender: c.from,
      thread: c.conv,
      at: new Date(timeOf(i)).toISOString(),
      msg: { body: c.text },
    }),
  );
  writeFileSync(file, lines.join('\n') + '\n');
}

async function archive(argv: string[], env: Record<string, string | undefined> = { VEIL_ADMIN_PASSPHRASE: PASS }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(['archive', 'decrypt', ...argv], {
    env,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err: err.join('\n') };
}

const records = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** What must match across input layouts (ids and times are the layout's own). */
const verdicts = (rs: Record<string, unknown>[]) =>
  rs.map((r) => ({
    conversation: r.conversation,
    author: r.author,
    status: r.status,
    plaintext: r.plaintext,
    signer: r.verifiedSigner,
  }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veil-archive-'));
  keysFile = join(dir, 'admin-keys.json');
  const directory = Object.values(ids).map(directoryEntryOf);
  writeFileSync(keysFile, JSON.stringify(await createBundle([team, old], PASS, { kdf: TEST_KDF, directory })));
  // The revoked key comes from the deployed policy, as an admin who lost the old key file would have it.
  policyFile = join(dir, 'policy.json');
  const policyKey = (k: KeyRecord) => ({
    id: k.id,
    secret: base64.encode(k.secret),
    label: k.label,
    scope: k.scope,
    status: k.status,
    createdAt: k.createdAt,
  });
  writeFileSync(
    policyFile,
    JSON.stringify({
      protectedSites: [{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] }],
      keys: [policyKey(revoked), policyKey(team)],
    }),
  );
  cases = story();
  writeFixtureExport(join(dir, 'export.jsonl'), cases);
  mkdirSync(join(dir, 'slack'));
  writeSlackFolder(join(dir, 'slack'), cases);
  execFileSync('zip', ['-qr', join(dir, 'slack.zip'), '.'], { cwd: join(dir, 'slack') });
  writeGeneric(join(dir, 'generic.jsonl'), cases);
}, KDF_TIMEOUT);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keys = () => ['--keys', keysFile, '--policy', policyFile];

describe('archive decrypt', () => {
  it(
    'gives every message the status the browser gives',
    async () => {
      const out = join(dir, 'fixture.jsonl');
      const r = await archive(['--input', join(dir, 'export.jsonl'), ...keys(), '--out', out]);
      expect(r.code, r.err).toBe(1); // some messages are not cleanly decrypted
      const got = records(out);
      const want = cases.filter((c) => c.expect.status);
      expect(got.map((g) => g.status)).toEqual(want.map((c) => c.expect.status));
      got.forEach((g, i) => {
        const w = want[i]!.expect;
        if (w.plaintext !== undefined) expect(g.plaintext).toBe(w.plaintext);
        else expect(g.plaintext).toBeUndefined();
        expect(g.verifiedSigner).toBe(w.signer);
        if (w.parts) expect(g.parts).toHaveLength(w.parts);
        expect(g.quote).toBe(w.quote);
        expect(g.label).toBeTruthy();
      });
      const tampered = got.find((g) => g.status === 'tampered')!;
      expect(tampered.keyId).toBe(team.id);
      expect(got.find((g) => g.status === 'unknown-key')!.keyId).toBe(stranger.id);
      expect(got.find((g) => g.status === 'decrypted')!.keyStatus).toBe('retired');
      expect(got[0]!.time).toBe(new Date(T0).toISOString());
      expect(r.out.join('\n')).toMatch(/16 message\(s\) in 2 conversation\(s\)/);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    },
    KDF_TIMEOUT,
  );

  it(
    'reads the Slack-style folder and ZIP and generic JSON lines to the same verdicts',
    async () => {
      const base = join(dir, 'fixture.jsonl');
      const want = verdicts(records(base));
      for (const [name, extra] of [
        ['slack', []],
        ['slack.zip', []],
        [
          'generic.jsonl',
          [
            '--text-field',
            'msg.body',
            '--author-field',
            'sender',
            '--conversation-field',
            'thread',
            '--time-field',
            'at',
            '--id-field',
            'uid',
          ],
        ],
      ] as const) {
        const out = join(dir, `${name}.out.jsonl`);
        const r = await archive(['--input', join(dir, name), ...keys(), '--out', out, ...extra]);
        expect(r.code, `${name}: ${r.err}`).toBe(1);
        const got = records(out);
        // Slack orders by channel folder, then day: compare per conversation.
        const byConv = (v: ReturnType<typeof verdicts>) =>
          [...v].sort((a, b) => String(a.conversation).localeCompare(String(b.conversation)));
        expect(byConv(verdicts(got)), name).toEqual(byConv(want));
        if (name === 'generic.jsonl') expect(got[0]!.id).toBe('1000');
        if (name !== 'generic.jsonl')
          expect(got.find((g) => g.conversation === 'ch-general')!.id).toMatch(/^\d+\.\d{6}$/);
      }
    },
    KDF_TIMEOUT,
  );

  it(
    'filters by conversation, author and time; counts only on a dry run',
    async () => {
      const input = ['--input', join(dir, 'export.jsonl'), ...keys()];
      const out = join(dir, 'filtered.jsonl');
      let r = await archive([...input, '--conversation', 'dm-*', '--author', 'alice', '--out', out]);
      expect(r.code, r.err).toBe(0); // the one selected message verified
      expect(records(out).map((g) => g.plaintext)).toEqual(['=HYPERLINK("http://evil")']);
      r = await archive([
        ...input,
        '--since',
        new Date(timeOf(1)).toISOString(),
        '--until',
        String(timeOf(2)),
        '--out',
        out,
      ]);
      expect(r.code).toBe(1); // the tampered message is in range
      expect(records(out).map((g) => g.status)).toEqual(['decrypted', 'tampered']);
      const dry = join(dir, 'never-written.jsonl');
      r = await archive([...input, '--dry-run']);
      expect(r.code).toBe(1);
      expect(r.out.join('\n')).toMatch(/dry run: 16 message\(s\)/);
      expect(r.out.join('\n')).toMatch(/tampered\s+1/);
      expect(() => statSync(dry)).toThrow();
    },
    KDF_TIMEOUT,
  );

  it(
    'writes CSV that a spreadsheet keeps as text and HTML with everything escaped',
    async () => {
      const csv = join(dir, 'archive.csv');
      await archive(['--input', join(dir, 'export.jsonl'), ...keys(), '--format', 'csv', '--out', csv]);
      const text = readFileSync(csv, 'utf8');
      expect(text.split('\n')[0]).toMatch(/^conversation,author,time,id,parts,status/);
      expect(text).toContain(`"'=HYPERLINK(""http://evil"")"`);
      expect(csvCell('-1+2')).toBe("'-1+2");
      const html = join(dir, 'archive.html');
      const r = await archive(['--input', join(dir, 'export.jsonl'), ...keys(), '--format', 'html', '--out', html]);
      expect(r.code).toBe(1);
      const page = readFileSync(html, 'utf8');
      expect(page).not.toContain('<script>');
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page).toContain('lunch? &lt;b&gt;plain&lt;/b&gt;');
      expect(page).toContain("default-src 'none'");
      expect(page).toMatch(/<table id="summary">[\s\S]*tampered/);
      expect(page.indexOf('<h2>ch-general</h2>')).toBeLessThan(page.indexOf('<h2>dm-alice-bob</h2>'));
      expect(statSync(html).mode & 0o777).toBe(0o600);
      expect(readFileSync(html, 'utf8')).not.toMatch(/parts-\d+/); // the spool folder is gone
    },
    KDF_TIMEOUT,
  );

  it(
    'exits 0 when every message decrypted, 1 when not, 2 on usage errors',
    async () => {
      const clean = join(dir, 'clean.jsonl');
      writeFixtureExport(
        clean,
        cases.filter((c) => c.expect.status === 'verified' && !c.expect.parts),
      );
      const out = join(dir, 'clean.out.jsonl');
      expect((await archive(['--input', clean, ...keys(), '--out', out])).code).toBe(0);
      expect((await archive(['--input', clean, ...keys()])).code).toBe(2); // no --out: plaintext goes nowhere by default
      expect((await archive(['--input', clean, '--out', out])).code).toBe(2); // no keys
      expect((await archive(['--input', clean, ...keys(), '--out', out, '--format', 'pdf'])).code).toBe(2);
      expect((await archive(['--input', clean, ...keys(), '--out', '/dev/null'])).code).toBe(2); // never renamed over a device
      expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
      expect((await archive(['--input', clean, ...keys(), '--out', out, '--since', 'yesterday-ish'])).code).toBe(2);
      expect((await archive(['--input', clean, '--keys', keysFile, '--out', out], {})).code).toBe(2); // no passphrase
      const wrong = await archive(['--input', clean, '--keys', keysFile, '--out', out], {
        VEIL_ADMIN_PASSPHRASE: 'not the passphrase',
      });
      expect(wrong.code).toBe(1);
      expect(wrong.err).toMatch(/passphrase|decrypt/i);
      expect((await archive(['--input', join(dir, 'missing.jsonl'), ...keys(), '--out', out])).code).toBe(1);
    },
    KDF_TIMEOUT * 2,
  );

  it(
    'decrypts the same with worker threads (--jobs) as on one thread',
    async () => {
      const single = join(dir, 'single.jsonl');
      await archive(['--input', join(dir, 'export.jsonl'), ...keys(), '--out', single, '--jobs', '0']);
      // A small export under the default (auto) stays on one thread; the result is the same either way.
      const auto = join(dir, 'auto.jsonl');
      await archive(['--input', join(dir, 'export.jsonl'), ...keys(), '--out', auto]);
      expect(readFileSync(auto, 'utf8')).toBe(readFileSync(single, 'utf8'));
      const many = await archive(['--input', join(dir, 'export.jsonl'), ...keys(), '--out', auto, '--jobs', 'many']);
      expect(many.code).toBe(2);
      expect(many.err).toContain('0 for none, or auto');
      const threaded = join(dir, 'threaded.jsonl');
      const r = await archive(['--input', join(dir, 'export.jsonl'), ...keys(), '--out', threaded, '--jobs', '2']);
      expect(r.code, r.err).toBe(1);
      expect(readFileSync(threaded, 'utf8')).toBe(readFileSync(single, 'utf8'));
    },
    KDF_TIMEOUT,
  );

  it(
    'reads an export of many blocks the same with worker threads: lines across block ends, BOM, CRLF, junk, no last newline',
    async () => {
      const lines = readFileSync(join(dir, 'export.jsonl'), 'utf8').split('\n').filter(Boolean);
      const parts: string[] = ['\uFEFF' + lines[0]!];
      // Past the workers' 256 KB blocks several times; odd lines end in CRLF, junk now and then.
      for (let i = 0; parts.join('\n').length < 700_000; i++) {
        const l = lines[i % lines.length]!;
        parts.push(i % 2 ? `${l}\r` : l);
        if (i % 97 === 0) parts.push('not json at all \u00e9\u4e2d', '');
      }
      parts.push(JSON.stringify({ id: 'long', from: 'x', conv: 'y', text: 'z'.repeat(300_000) })); // spans a block end
      const big = join(dir, 'big.jsonl');
      writeFileSync(big, parts.join('\n')); // no newline after the last line
      const single = join(dir, 'big-single.jsonl');
      const threaded = join(dir, 'big-threaded.jsonl');
      const one = await archive(['--input', big, ...keys(), '--out', single, '--jobs', '0']);
      const two = await archive(['--input', big, ...keys(), '--out', threaded, '--jobs', '2']);
      expect(two.code).toBe(one.code);
      const out = readFileSync(single, 'utf8');
      expect(readFileSync(threaded, 'utf8')).toBe(out);
      // The BOM stays in its line (as on one thread), and each junk line carries its own number.
      expect(out).toContain('"reason":"line 1 is not JSON"');
      expect(out).toContain('"reason":"line 3 is not JSON"');
      expect(out).toMatch(/"reason":"line \d{4,} is not JSON"/);
      expect(out).toContain('"id":"long"');
    },
    KDF_TIMEOUT,
  );

  it(
    'shows a progress line with rate and ETA only where there is a terminal to show it on',
    async () => {
      const progress: string[] = [];
      const out = join(dir, 'progress.jsonl');
      const argv = ['decrypt', '--input', join(dir, 'export.jsonl'), ...keys(), '--out', out];
      const io = { env: { VEIL_ADMIN_PASSPHRASE: PASS }, out: () => undefined, err: () => undefined };
      await runArchive(argv, { ...io, progress: (l) => progress.push(l) });
      expect(progress[0]).toMatch(/^\d+ messages {2}[\d,]+\/s {2}\d+% {2}ETA /);
      expect(progress.at(-1)).toBe(''); // cleared before the summary
      // In CI, or with no terminal (as under vitest), no progress line at all.
      expect(await runArchive(argv, { ...io, env: { ...io.env, CI: '1' } })).toBe(1);
    },
    KDF_TIMEOUT,
  );

  it(
    'reports unreadable export lines instead of dropping them',
    async () => {
      const file = join(dir, 'broken.jsonl');
      writeFileSync(file, '{"id":"m1","from":"bob","conv":"ch-general","ts":1}\nnot json\n');
      const out = join(dir, 'broken.out.jsonl');
      const r = await archive(['--input', file, ...keys(), '--out', out]);
      expect(r.code).toBe(1);
      expect(records(out).map((g) => [g.status, g.reason])).toEqual([
        ['malformed', 'no text in field "text"'],
        ['malformed', 'line 2 is not JSON'],
      ]);
    },
    KDF_TIMEOUT,
  );

  it(
    'keeps a bounded replay window: a replay further back than the window is not remembered',
    async () => {
      const gen = 'ch-general';
      const env = envelopeFor(team, 'once', { conversationId: gen, senderId: 'bob' });
      const list: Case[] = [env, envelopeFor(team, 'between', { conversationId: gen, senderId: 'bob' }), env].map(
        (text) => ({ conv: gen, from: 'bob', text, expect: { status: '' } }),
      );
      const file = join(dir, 'window.jsonl');
      writeFixtureExport(file, list);
      const out = join(dir, 'window.out.jsonl');
      await archive(['--input', file, ...keys(), '--out', out]);
      expect(records(out).map((g) => g.status)).toEqual(['decrypted', 'decrypted', 'replayed']);
      await archive(['--input', file, ...keys(), '--out', out, '--replay-window', '1']);
      expect(records(out).map((g) => g.status)).toEqual(['decrypted', 'decrypted', 'decrypted']);
      expect(findEnvelopes(env)).toHaveLength(1);
    },
    KDF_TIMEOUT,
  );
});

describe('archive times', () => {
  it('formats every time exactly as Date.toISOString, minute after minute and anywhere in its range', () => {
    const times = [0, 1, -1, 59_999, 60_000, -60_000, -59_999, 1.5, 8.64e15, -8.64e15, 253402300800000];
    const start = Date.UTC(2026, 0, 1, 23, 58, 30);
    for (let i = 0; i < 5_000; i++) times.push(start + i * 997, start - i * 61_003);
    // A fixed sequence of far-apart times (a multiplicative hash, no randomness in a unit test).
    for (let i = 0; i < 5_000; i++) times.push(((i * 2_654_435_761) % 2 ** 32) * 1_999 - 3e12);
    for (const ms of times) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
    expect(isoTime(undefined)).toBe('');
    expect(isoTime(Number.NaN)).toBe('');
  });
});
