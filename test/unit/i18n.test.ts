import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import en from '../../public/_locales/en/messages.json';
import zh from '../../public/_locales/zh_CN/messages.json';
import { catalogLookup, formatTime, setMessageLookup } from '../../lib/i18n';
import { briefViewOf, decryptingView, notEncryptedView, viewOf } from '../../lib/i18n/status-text';
import type { DecryptedItem } from '../../lib/messaging/protocol';

const catalogs: Record<string, Record<string, { message: string }>> = { en, zh_CN: zh };
const placeholders = (m: string) => [...new Set(m.match(/\$\d/g) ?? [])].sort();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|html)$/.test(f) ? [p] : [];
  });
}

afterAll(() => setMessageLookup(undefined));

describe('translations', () => {
  it('English and Simplified Chinese have the same keys, none empty, with the same placeholders', () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [lang, cat] of Object.entries(catalogs)) {
      for (const [key, { message }] of Object.entries(cat)) {
        expect(message.trim(), `${lang}.${key}`).not.toBe('');
        // Chrome refuses to load an extension whose message has "$1$2" (read as a named placeholder).
        expect(message, `${lang}.${key}`).not.toMatch(/\$\d\$|\$[A-Za-z_]+\$/);
        expect(placeholders(message), `${lang}.${key}`).toEqual(
          placeholders((en as Record<string, { message: string }>)[key]!.message),
        );
      }
    }
  });

  it('every key the code uses exists', () => {
    const used = new Set<string>();
    for (const file of [...sources('lib'), ...sources('entrypoints')]) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([A-Za-z0-9_]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/data-i18n(?:-[a-z-]+)?="([A-Za-z0-9_]+)"/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((k) => !(k in en))).toEqual([]);
  });

  const cases: [string, DecryptedItem, string, string][] = [
    [
      'decrypted',
      { id: '1', status: 'decrypted', keyId: 'a1b2c3d4', fingerprint: 'AAAA-BBBB', sentAt: 1 },
      '🔒 Decrypted',
      '🔒 已解密',
    ],
    [
      'unknown key',
      { id: '1', status: 'unknown-key', keyId: 'a1b2c3d4' },
      '🔑 Unknown key a1b2c3d4',
      '🔑 未知密钥 a1b2c3d4',
    ],
    ['tampered', { id: '1', status: 'tampered', keyId: 'a1b2c3d4' }, '⚠ Tampered', '⚠ 已被篡改'],
    [
      'moved',
      { id: '1', status: 'decrypted', movedFromOtherConversation: true },
      '⚠ From another conversation',
      '⚠ 来自其他会话',
    ],
    ['re-posted', { id: '1', status: 'decrypted', senderMismatch: true }, '⚠ Not written by bob', '⚠ 并非 bob 所写'],
    [
      'signed by other',
      { id: '1', status: 'decrypted', signature: { state: 'failed', signedBy: 'carol' } },
      '⚠ Signed by carol, not bob',
      '⚠ 由 carol 签名，而非 bob',
    ],
    [
      'verified',
      { id: '1', status: 'decrypted', signature: { state: 'verified' } },
      '🔒 Decrypted · ✓ bob',
      '🔒 已解密 · ✓ bob',
    ],
    ['locked', { id: '1', status: 'locked', keyId: 'a1b2c3d4' }, '🔒 Veil is locked', '🔒 Veil 已锁定'],
    [
      'revoked',
      { id: '1', status: 'decrypted', keyId: 'a1b2c3d4', keyStatus: 'revoked' },
      '🔓 Revoked key',
      '🔓 密钥已吊销',
    ],
    ['malformed', { id: '1', status: 'malformed', reason: 'bad' }, '⚠ Malformed', '⚠ 格式错误'],
  ];

  it.each(cases)('status "%s" reads right in both languages', (_name, item, enLabel, zhLabel) => {
    setMessageLookup(catalogLookup(en));
    expect(viewOf(item, 'bob', false).label).toBe(enLabel);
    setMessageLookup(catalogLookup(zh));
    expect(viewOf(item, 'bob', false).label).toBe(zhLabel);
    expect(viewOf(item, 'bob', false).detail).not.toMatch(/\$\d|undefined/);
    // The archive's view: the same verdict and label, only without the tooltip's text.
    for (const replayed of [false, true])
      expect(briefViewOf(item, 'bob', replayed)).toEqual({ ...viewOf(item, 'bob', replayed), detail: '' });
  });

  it("puts names from the page in as they are, even names holding the templates' own marker characters", () => {
    setMessageLookup(catalogLookup(en));
    // The page chooses author names; a name that looks like a template marker must not pull in another value.
    const author = '\uE001mallory\uE000';
    const item: DecryptedItem = { id: '1', status: 'decrypted', signature: { state: 'failed', signedBy: 'carol' } };
    expect(viewOf(item, author, false).label).toBe(`⚠ Signed by carol, not ${author}`);
    const byMarker: DecryptedItem = { ...item, signature: { state: 'failed', signedBy: '\uE001' } };
    expect(viewOf(byMarker, 'bob', false).label).toBe('⚠ Signed by \uE001, not bob');
  });

  it('replayed, not encrypted and decrypting read right in both languages', () => {
    const item: DecryptedItem = {
      id: '1',
      status: 'decrypted',
      keyId: 'a1b2c3d4',
      fingerprint: 'AAAA-BBBB',
      sentAt: 1,
      messageId: 'm',
    };
    for (const [cat, replayed, plain, pending] of [
      [en, '⚠ Replayed', '⚠ Not encrypted', '⏳ Decrypting…'],
      [zh, '⚠ 重放', '⚠ 未加密', '⏳ 正在解密…'],
    ] as const) {
      setMessageLookup(catalogLookup(cat));
      expect(viewOf(item, 'bob', true).label).toBe(replayed);
      expect(notEncryptedView().label).toBe(plain);
      expect(decryptingView().label).toBe(pending);
    }
  });

  it("a message's time reads the same unambiguous way in both languages (local time, ISO 8601 order)", () => {
    const sentAt = new Date(2026, 0, 5, 7, 3, 9).getTime(); // 5 January, local time: never "1/5" or "5/1"
    for (const [cat, sent] of [
      [en, ' · sent 2026-01-05 07:03:09'],
      [zh, ' · 发送于 2026-01-05 07:03:09'],
    ] as const) {
      setMessageLookup(catalogLookup(cat));
      expect(viewOf({ id: '1', status: 'decrypted', sentAt }, 'bob', false).detail).toContain(sent);
    }
    expect(formatTime(new Date(987, 10, 20, 23, 59, 0).getTime())).toBe('0987-11-20 23:59:00');
    expect(formatTime(Number.NaN)).toBe('?');
    expect(formatTime(Date.UTC(10000, 0, 1, 12))).toBe('+010000-01-01T12:00:00.000Z');
  });

  it('the Chinese catalog is really Chinese: every sentence has CJK text', () => {
    // Labels that are only names, symbols or placeholders (e.g. "Veil", "$1 ($2)") are exempt.
    const untranslated = Object.entries(zh as Record<string, { message: string }>)
      .filter(
        ([, { message }]) =>
          /[A-Za-z]{3,}\s+[a-z]{2,}\s+[a-z]{2,}/.test(message.replace(/XChaCha20-Poly1305|scrypt|Veil/g, '')) &&
          !/[\u4e00-\u9fff]/.test(message),
      )
      .map(([k]) => k);
    expect(untranslated).toEqual([]);
  });

  it("Veil's UI code has no hard-coded English sentences outside the catalogs", () => {
    // Every folder whose code shows text to a person: pages, frames, the content script, the
    // background's answers.
    const files = [
      ...['lib/ui', 'lib/frames', 'lib/page', 'lib/background/handlers', 'lib/background/isolated'].flatMap(sources),
      'lib/messaging/client.ts',
    ].filter((f) => f.endsWith('.ts'));
    const offenders: string[] = [];
    for (const file of files) {
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '')
        .replace(/\s\/\/ .*$/gm, '')
        .replace(/^import .*$/gm, '')
        .replace(/console\.\w+\([^)]*\)/g, '')
        .replace(/new (?:Request)?Error\('[^']*'\)/g, ''); // protocol errors for developers, never shown as UI text
      // A quoted run of three or more lower-case words after a capital: a sentence someone reads.
      for (const m of code.matchAll(/(['`])([A-Z][a-z]+(?:[ ,;:]+[a-z'’]+){3,}[^'`]*)\1/g))
        offenders.push(`${file}: ${m[2]}`);
    }
    expect(offenders).toEqual([]);
  });
});
