/**
 * every per-message status, the composer line, a blocked send with its fix, the popup,
 * the options page and the first-run page read right in English and in Simplified Chinese, chosen
 * by the browser's language (Chromium started with --lang). Each status appears in both languages:
 * decrypted (fingerprint and verified sender on hover and keyboard focus), unknown key, tampered,
 * moved, replayed, not encrypted, decrypting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import en from '../../public/_locales/en/messages.json';
import zh from '../../public/_locales/zh_CN/messages.json';
import { catalogLookup } from '../../lib/i18n';
import { createBundle, directoryEntryOf } from '../../lib/crypto/bundle';
import { toInfo, type SigningIdentity } from '../../lib/keys/model';
import { dismissWelcome, launchUser, waitFor, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { envelopeFor, makeKey, TEST_KDF } from '../support/keys';
import {
  composerStatus,
  importBundle,
  openChat,
  openPopup,
  shownMessages,
  typeAndSend,
  waitForMessage,
} from '../support/veil-ui';

const PASS = 'i18n test passphrase';
const team = makeKey('Team key', { site: 'fixture-chat', conversations: ['dm-alice-bob', 'ch-general'] });
const fingerprint = toInfo(team).fingerprint;
const identity = (userId: string): SigningIdentity => ({
  site: 'fixture-chat',
  userId,
  secretKey: ed25519.utils.randomSecretKey(),
  createdAt: Date.now(),
});
const ids = { alice: identity('alice'), bob: identity('bob') };
const directory = Object.values(ids).map(directoryEntryOf);
const foreign = makeKey('Other company', { site: '*', conversations: ['*'] });

type Lang = 'en' | 'zh';
const catalogs = { en, zh } as Record<Lang, Record<string, { message: string }>>;
const say = (lang: Lang, key: keyof typeof en, ...subs: string[]) => catalogLookup(catalogs[lang])(key, subs);

/** What each status reads in each language; literal text, so a reader of this test sees both. */
const LABELS: Record<string, Record<Lang, string>> = {
  verified: { en: '🔒 Decrypted · ✓ alice', zh: '🔒 已解密 · ✓ alice' },
  unknown: { en: `🔑 Unknown key ${foreign.id}`, zh: `🔑 未知密钥 ${foreign.id}` },
  tampered: { en: '⚠ Tampered', zh: '⚠ 已被篡改' },
  moved: { en: '⚠ From another conversation', zh: '⚠ 来自其他会话' },
  replayed: { en: '⚠ Replayed', zh: '⚠ 重放' },
  plain: { en: '⚠ Not encrypted', zh: '⚠ 未加密' },
  decrypting: { en: '⏳ Decrypting…', zh: '⏳ 正在解密…' },
};

let server: ChatServer;
let bundle: string;
const users: Partial<Record<Lang, User>> = {};

function seal(text: string, conversationId: string, key = team, signingKey?: Uint8Array): string {
  return envelopeFor(key, text, { conversationId, senderId: 'alice' }, signingKey);
}

const inject = (text: string) => injectMessage(server, 'alice', 'bob', text);

beforeAll(async () => {
  server = await startChatServer();
  // alice's side of the conversation, as the vendor stores it: one of every kind of message.
  const signed = seal('verified hello', 'dm-alice-bob', team, ids.alice.secretKey);
  const tampered = [...seal('soon tampered', 'dm-alice-bob', team, ids.alice.secretKey)];
  tampered[30] = tampered[30] === 'a' ? 'b' : 'a';
  for (const text of [
    signed,
    seal('hidden', 'dm-alice-bob', foreign),
    tampered.join(''),
    seal('said in #general', 'ch-general', team, ids.alice.secretKey),
    signed,
    'plain words',
  ]) {
    await inject(text);
  }
  bundle = JSON.stringify(await createBundle([team], PASS, { kdf: TEST_KDF, identities: [ids.bob], directory }));
  const [enUser, zhUser] = await Promise.all([
    launchUser('bob-en', { lang: 'en-US', keepWelcome: true }),
    launchUser('bob-zh', { lang: 'zh-CN', keepWelcome: true }),
  ]);
  users.en = enUser;
  users.zh = zhUser;
  await Promise.all([dismissWelcome(enUser), dismissWelcome(zhUser)]);
  for (const u of [enUser, zhUser]) expect((await importBundle(u, bundle, PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await Promise.all(Object.values(users).map((u) => u?.close()));
  await server?.close();
});

/** Records every badge text the page ever shows, from before Veil's content script runs. */
async function recordBadges(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(() => {
    const seen: string[] = [];
    (window as unknown as { __veilBadges: string[] }).__veilBadges = seen;
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (!(n instanceof Element)) continue;
          for (const b of [n, ...n.querySelectorAll('.veil-badge')])
            if (b.matches('.veil-badge')) seen.push(b.getAttribute('data-veil-label') ?? '');
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
}

describe.each(['en', 'zh'] as const)('Veil in %s', (lang) => {
  it("every per-message status reads in the browser's language", async () => {
    const user = users[lang]!;
    const page = await user.newPage();
    await recordBadges(page);
    await page.goto(`${server.url}/?user=bob&conv=alice`);
    await page.waitForSelector('#compose');
    const byText = async (pred: (m: Awaited<ReturnType<typeof shownMessages>>[number]) => boolean, what: string) =>
      waitForMessage(page, pred, what);

    const verified = await byText((m) => m.text === 'verified hello' && m.status === 'decrypted', 'verified');
    expect(verified.badge).toBe(LABELS.verified![lang]);
    // The detail names the key's fingerprint and the verified sender (title on hover, aria-label, focus).
    expect(verified.badgeDetail).toContain(fingerprint);
    expect(verified.badgeDetail).toContain(
      lang === 'en' ? 'signed by alice, verified against the directory' : '由 alice 签名，已根据目录验证',
    );
    const focused = await page.evaluate(() => {
      const b = document.querySelector<HTMLElement>('#messages .veil-badge[data-veil-status="decrypted"]')!;
      b.focus();
      return {
        active: document.activeElement === b,
        tip: getComputedStyle(b, '::before').content,
        aria: b.getAttribute('aria-label'),
      };
    });
    expect(focused.active).toBe(true);
    expect(focused.tip).toContain(fingerprint);
    expect(focused.aria).toMatch(lang === 'en' ? /^Veil: Decrypted · ✓ alice\. / : /^Veil：已解密 · ✓ alice。/);

    expect((await byText((m) => m.status === 'unknown-key', 'unknown key')).badge).toBe(LABELS.unknown![lang]);
    const unknown = (await shownMessages(page)).find((m) => m.status === 'unknown-key')!;
    expect(unknown.badgeDetail).toBe(say(lang, 'statusUnknownKeyDetail', foreign.id));
    expect((await byText((m) => m.status === 'tampered', 'tampered')).badge).toBe(LABELS.tampered![lang]);
    expect((await byText((m) => m.status === 'moved', 'moved')).badge).toBe(LABELS.moved![lang]);
    expect((await byText((m) => m.status === 'replayed', 'replayed')).badge).toBe(LABELS.replayed![lang]);
    const plain = await byText((m) => m.text === 'plain words' && !!m.badge, 'not encrypted');
    expect(plain.badge).toBe(LABELS.plain![lang]);
    expect(plain.badgeDetail).toBe(say(lang, 'statusNotEncryptedDetail'));
    // "Decrypting…" shows while the background works, then gives way to the result.
    const seen = await page.evaluate(() => (window as unknown as { __veilBadges: string[] }).__veilBadges);
    expect(seen).toContain(LABELS.decrypting![lang]);
    await page.close();
  });

  it('the composer says which key and scope encrypt; a blocked send explains itself and offers the fix', async () => {
    const user = users[lang]!;
    const page = await openChat(user, server.url, 'alice', 'bob');
    const ready = await composerStatus(page);
    expect(ready.state).toBe('ready');
    expect(ready.text).toBe(
      say(
        lang,
        'composerReady',
        team.label,
        fingerprint,
        lang === 'en' ? 'dm-alice-bob, ch-general on Fixture Chat' : 'Fixture Chat 上的 dm-alice-bob, ch-general',
      ),
    );
    if (lang === 'en') expect(ready.text).toContain('Messages here are end-to-end encrypted with “Team key”');
    else expect(ready.text).toContain('此处的消息使用“Team key”');

    // No key covers bob <-> carol: nothing is sent, the line says why and offers to open Veil's options.
    const blocked = await openChat(user, server.url, 'carol', 'bob');
    await blocked.waitForSelector('.veil-composer-status[data-state="error"] .veil-composer-action');
    const before = server.inspect().messages.length;
    await typeAndSend(blocked, 'must stay here');
    await blocked.waitForFunction(
      (prefix) => (document.querySelector('.veil-composer-text')?.textContent ?? '').startsWith(prefix),
      {},
      lang === 'en' ? 'Not sent:' : '未发送：',
    );
    const line = await blocked.$eval('.veil-composer-text', (e) => e.textContent ?? '');
    expect(line).toBe(say(lang, 'composerNotSent', say(lang, 'errNoKey', 'dm-bob-carol')));
    if (lang === 'en') expect(line).toContain('No Veil key covers this conversation (dm-bob-carol)');
    else expect(line).toContain('没有覆盖此会话（dm-bob-carol）的 Veil 密钥');
    expect(await blocked.$eval('#compose', (e) => (e as HTMLTextAreaElement).value)).toBe('must stay here');
    expect(server.inspect().messages.length).toBe(before);
    const action = await blocked.$eval('.veil-composer-action', (b) => b.textContent);
    expect(action).toBe(lang === 'en' ? 'Open Veil options' : '打开 Veil 选项');
    // The fix button is keyboard reachable and opens the options page at the import section.
    await blocked.focus('.veil-composer-action');
    await blocked.keyboard.press('Enter');
    const target = await user.browser.waitForTarget((t) => t.url().endsWith('/options.html#import'), {
      timeout: 10_000,
    });
    const options = (await target.asPage())!;
    await options.waitForFunction(() => document.activeElement?.id === 'import-file');
    expect(await options.$eval('#import-h', (e) => e.textContent)).toBe(
      lang === 'en' ? 'Import a key bundle' : '导入密钥包',
    );
    await Promise.all([options.close(), blocked.close(), page.close()]);
  });

  it('the popup answers "protected here, by whom" and the options page reads in the same language', async () => {
    const user = users[lang]!;
    const chat = await openChat(user, server.url, 'alice', 'bob');
    await composerStatus(chat);
    const popup = await openPopup(user, chat);
    expect(await popup.$eval('html', (e) => e.lang)).toBe(lang === 'en' ? 'en' : 'zh-CN');
    expect(await popup.$eval('#verdict', (e) => e.getAttribute('data-state'))).toBe('protected');
    expect(await popup.$eval('#verdict-title', (e) => e.textContent)).toBe(lang === 'en' ? 'Protected' : '受保护');
    expect(await popup.$eval('#site-state', (e) => e.textContent)).toBe(
      lang === 'en' ? "Fixture Chat is protected by Veil's defaults." : 'Fixture Chat 受 Veil 默认设置保护。',
    );
    expect(await popup.$eval('#keys', (e) => e.textContent)).toContain(
      lang === 'en'
        ? `Team key (${team.id}, ${fingerprint}) · active · yours`
        : `Team key（${team.id}，${fingerprint}）· 有效 · 您的`,
    );
    expect(await popup.$eval('#open-options', (e) => e.textContent)).toBe(
      lang === 'en' ? 'Keys and settings' : '密钥和设置',
    );
    await Promise.all([popup.close(), chat.close()]);

    const options = await user.newPage();
    await options.goto(`chrome-extension://${user.extensionId}/options.html`);
    await options.waitForSelector('#keys tbody tr');
    const headings = await options.$$eval('h2', (hs) => hs.map((h) => h.textContent));
    for (const key of ['optPolicyH', 'optSitesH', 'optKeysH', 'optLockH', 'optImportH', 'optDiagH'] as const) {
      expect(headings).toContain(say(lang, key));
    }
    expect(await options.$eval('#keys tbody tr td:nth-child(5)', (e) => e.textContent)).toBe(
      lang === 'en' ? 'active' : '有效',
    );
    expect(await options.$eval('#policy-source', (e) => e.textContent)).toBe(
      lang === 'en' ? "No enterprise policy: Veil's defaults apply." : '没有企业策略：使用 Veil 的默认设置。',
    );
    // Nothing left untranslated: no element shows a bare catalog key.
    expect(
      await options.evaluate(
        () =>
          [...document.querySelectorAll('[data-i18n]')].filter((e) => /^[a-z]+[A-Z]\w+$/.test(e.textContent ?? ''))
            .length,
      ),
    ).toBe(0);
    await options.close();
  });
});

describe('diagnostics for IT', () => {
  it('the options page exports version, browser, policy, sites, keys, lock and content scripts, and no secret', async () => {
    const user = users.en!;
    const page = await user.newPage();
    await page.goto(`chrome-extension://${user.extensionId}/options.html#diagnostics`);
    await page.waitForSelector('#keys tbody tr');
    await page.click('#diagnostics-button');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#diagnostics-result')?.dataset.tone === 'ok');
    const text = await page.$eval('#diagnostics-download', async (a) =>
      (await fetch((a as HTMLAnchorElement).href)).text(),
    );
    const d = JSON.parse(text);
    expect(d).toMatchObject({
      format: 'veil-diagnostics/1',
      veil: { version: expect.any(String) },
      browser: { userAgent: expect.stringContaining('Chrome') },
      policy: { managed: false, valid: true, errors: [] },
      lock: 'none',
      keys: [
        {
          id: team.id,
          fingerprint,
          status: 'active',
          scope: { site: 'fixture-chat', conversations: ['dm-alice-bob', 'ch-general'] },
        },
      ],
      signingIdentities: [{ site: 'fixture-chat', userId: 'bob' }],
    });
    expect(d.protectedSites.map((s: { adapter: string }) => s.adapter)).toContain('fixture-chat');
    expect(d.contentScripts[0].matches).toEqual(expect.arrayContaining(['http://127.0.0.1/*']));
    const secrets = [team.secret, ids.bob.secretKey].flatMap((b) => [
      Buffer.from(b).toString('hex'),
      Buffer.from(b).toString('base64'),
      Buffer.from(b).toString('base64url'),
    ]);
    for (const secret of [...secrets, PASS]) expect(text).not.toContain(secret);
    await page.close();
  });
});

describe('first run', () => {
  it('an unmanaged install opens the welcome page: get a key, pick the security indicator', async () => {
    const fresh = await launchUser('newcomer-zh', { lang: 'zh-CN', keepWelcome: true });
    try {
      const target = await fresh.browser.waitForTarget((t) => t.url().endsWith('/welcome.html'), { timeout: 20_000 });
      const page = (await target.asPage())!;
      await page.waitForFunction(() => document.body.dataset.welcome === 'steps');
      expect(await page.$eval('h1', (e) => e.textContent)).toBe('欢迎使用 Veil');
      expect(await page.$eval('#step-sites-h', (e) => e.textContent)).toBe('1. 选择要保护的聊天');
      expect(await page.$eval('#step-keys-h', (e) => e.textContent)).toBe('2. 获取密钥');
      // Create a key right here; the keyring has it afterwards.
      await page.click('#w-create-button');
      await page.waitForFunction(() => document.querySelector<HTMLElement>('#w-keys-result')?.dataset.tone === 'ok');
      expect(await page.$eval('#w-keys-result', (e) => e.textContent)).toMatch(/^已生成 团队密钥（[0-9a-f]{8}，指纹 /);
      expect(await page.$eval('#have-keys', (e) => e.textContent)).toBe('您已拥有 1 个密钥。');
      // The security indicator step is there when isolated mode is built.
      if (!(await page.$eval('#step-indicator', (e) => (e as HTMLElement).hidden))) {
        await page.$eval('#w-indicator-phrase', (e) => {
          (e as HTMLInputElement).value = 'purple kettle 42';
        });
        await page.click('#w-indicator-button');
        await page.waitForFunction(
          () => document.querySelector<HTMLElement>('#w-indicator-result')?.dataset.tone === 'ok',
        );
      }
      // It opens once: a restart of the background does not open it again.
      const pages = async () => (await fresh.browser.pages()).filter((p) => p.url().endsWith('/welcome.html')).length;
      expect(await pages()).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('English too, and the options page is one link away', async () => {
    const fresh = await launchUser('newcomer-en', { lang: 'en-US', keepWelcome: true });
    try {
      const target = await fresh.browser.waitForTarget((t) => t.url().endsWith('/welcome.html'), { timeout: 20_000 });
      const page = (await target.asPage())!;
      await page.waitForFunction(() => document.body.dataset.welcome === 'steps');
      expect(await page.$eval('h1', (e) => e.textContent)).toBe('Welcome to Veil');
      expect(await page.$eval('#w-open-options', (e) => e.textContent)).toBe('Open Veil options');
      await waitFor(
        async () => (await page.$eval('#w-create-label', (e) => (e as HTMLInputElement).value)) === 'Team key',
        'default key name',
      );
    } finally {
      await fresh.close();
    }
  });
});
