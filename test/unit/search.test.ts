/**
 * Local search (lib/background/search): the tokenizer folds what people type the way they wrote
 * it, the index finds decrypted messages, holds no readable term at rest, evicts the oldest past
 * its cap, and a wipe leaves nothing that opens.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { KeyStore } from '../../lib/background/keys/store';
import { type IndexedMessage, SearchIndex } from '../../lib/background/search/store';
import { fold, queryTerms, snippet, terms } from '../../lib/background/search/tokenize';

let n = 0;
const fresh = (max?: number) => {
  const name = `veil-search-test-${n++}`;
  return { name, index: new SearchIndex(new KeyStore(`${name}-keys`), name, max) };
};
const msg = (i: number, text: string, extra: Partial<IndexedMessage> = {}): IndexedMessage => ({
  keyId: 'aabbccdd',
  messageId: `m${i}`.padStart(32, '0'),
  site: 'fixture-chat',
  conversationId: 'dm:alice:bob',
  author: 'alice',
  text,
  sentAt: 1_700_000_000_000 + i,
  ...extra,
});
const hitText = (parts: { text: string; hit: boolean }[]) =>
  parts
    .filter((p) => p.hit)
    .map((p) => p.text)
    .join('|');

/** Every byte the database stores for `name`, as one string per encoding the browser might use. */
async function rawDump(name: string): Promise<string> {
  const db = await openDB(name);
  const out: unknown[] = [];
  for (const store of db.objectStoreNames) out.push(await db.getAll(store), await db.getAllKeys(store));
  db.close();
  const bytes: number[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) bytes.push(...v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(out);
  return JSON.stringify(out) + '\n' + Buffer.from(bytes).toString('utf8') + Buffer.from(bytes).toString('utf16le');
}

describe('search tokenizer', () => {
  it('folds case and diacritics, decomposed or not, Turkish İ and German ß', () => {
    expect(terms('Café RÉSUMÉ naïve')).toEqual(['cafe', 'resume', 'naive']);
    expect(terms('Cafe\u0301')).toEqual(['cafe']);
    expect(terms('İstanbul Straße')).toEqual(['istanbul', 'strasse']);
    expect(queryTerms('STRASSE')).toEqual(['strasse']);
  });

  it('cuts CJK into characters and bigrams, and a query into bigrams', () => {
    expect(terms('加密消息')).toEqual(['加', '加密', '密', '密消', '消', '消息', '息']);
    expect(queryTerms('密消息')).toEqual(['密消', '消息']);
    expect(queryTerms('密')).toEqual(['密']);
    expect(terms('東京タワーへ')).toContain('タワ');
    expect(terms('안녕하세요 world')).toEqual(expect.arrayContaining(['안녕', 'world']));
  });

  it('keeps emoji as terms, skin tones and variation selectors folded', () => {
    expect(terms('ship it 🚀')).toContain('🚀');
    expect(queryTerms('👍')).toEqual(terms('👍🏽'));
    expect(terms('❤️')).toEqual(terms('❤'));
  });

  it('handles right-to-left text, Arabic marks and tatweel', () => {
    expect(terms('مرحبا بالعالم')).toEqual(['مرحبا', 'بالعالم']);
    expect(fold('مَرْحَبـــا')).toBe('مرحبا');
    expect(terms('שָׁלוֹם עולם')).toEqual(['שלום', 'עולם']);
  });

  it('highlights the match in the original text, accents and case as written', () => {
    const parts = snippet('We met at the Café Müller yesterday', 'cafe muller')!;
    expect(hitText(parts)).toBe('Café|Müller');
    expect(parts.map((p) => p.text).join('')).toBe('We met at the Café Müller yesterday');
    expect(snippet('nothing here', 'cafe')).toBeUndefined();
    const long = 'x '.repeat(200) + 'needle' + ' y'.repeat(200);
    const cut = snippet(long, 'needle')!;
    expect(cut[0]!.text).toBe('…');
    expect(cut.at(-1)!.text).toBe('…');
    expect(hitText(cut)).toBe('needle');
  });
});

describe('search index', () => {
  it('finds messages by word, across conversations, newest first, and by CJK and emoji', async () => {
    const { index } = fresh();
    await index.add([
      msg(1, 'The falcon lands at noon'),
      msg(2, 'Falcon ☕ meeting moved', { conversationId: '#general', author: 'carol', signature: 'verified' }),
      msg(3, '我们明天发布加密消息'),
      msg(4, 'ship it 🚀'),
    ]);
    const hits = await index.search('FALCON');
    expect(hits.map((h) => [h.conversationId, h.author, h.signature])).toEqual([
      ['#general', 'carol', 'verified'],
      ['dm:alice:bob', 'alice', undefined],
    ]);
    expect(hitText(hits[1]!.snippet)).toBe('falcon');
    expect((await index.search('加密消息')).map((h) => h.id)).toEqual([3]);
    expect(await index.search('消息加密')).toEqual([]); // all its bigrams? no: 息加 is not in the text
    expect((await index.search('🚀')).map((h) => h.id)).toEqual([4]);
    expect(await index.search('falcon noon moved')).toEqual([]); // every word must match
    expect(await index.search('falcon', { site: 'other-chat' })).toEqual([]);
  });

  it('indexes a message once however often it is shown', async () => {
    const { index } = fresh();
    expect(await index.add([msg(1, 'hello again'), msg(1, 'hello again')])).toBe(1);
    expect(await index.add([msg(1, 'hello again')])).toBe(0);
    expect(await index.count()).toBe(1);
  });

  it('stores no term, message or name readably: only sealed records under pseudorandom labels', async () => {
    const { index, name } = fresh();
    const secret = ['zebracornflake', 'quokkasecret', '机密项目', 'مرحبا'];
    await index.add([
      msg(1, `${secret[0]} and ${secret[1]}`, { author: 'mallory-author', conversationId: 'secret-room' }),
      msg(2, `${secret[2]} ${secret[3]}`),
    ]);
    expect((await index.search(secret[0]!)).length).toBe(1);
    const raw = await rawDump(name);
    for (const word of [...secret, 'mallory-author', 'secret-room', 'fixture-chat', 'aabbccdd']) {
      expect(raw.includes(word), word).toBe(false);
    }
  });

  it('evicts the oldest messages whole segments at a time past its cap', async () => {
    const { index } = fresh(50);
    for (let i = 1; i <= 120; i++) await index.add([msg(i, `common word${i}`)]);
    expect(await index.count()).toBeLessThanOrEqual(50);
    expect(await index.count()).toBeGreaterThanOrEqual(45);
    expect(await index.search('word1')).toEqual([]);
    expect((await index.search('word120')).length).toBe(1);
    const all = await index.search('common', { limit: 1000 });
    expect(all.length).toBe(await index.count());
    expect(all[0]!.id).toBeGreaterThan(all.at(-1)!.id);
  });

  it('keeps postings right when one batch holds more than a bucket of one term', async () => {
    const { index } = fresh();
    await index.add(Array.from({ length: 300 }, (_, i) => msg(i, `bulk item${i}`)));
    await index.add([msg(1000, 'bulk last')]);
    expect((await index.search('bulk', { limit: 1000 })).length).toBe(301);
  });

  it('a wipe deletes every record and the index key; a restarted index still reads its own', async () => {
    const { index, name } = fresh();
    await index.add([msg(1, 'persisted words')]);
    const again = new SearchIndex(new KeyStore(`${name}-keys`), name);
    expect((await again.search('persisted')).length).toBe(1);
    expect([...(await again.indexedKeyIds())]).toEqual(['aabbccdd']);
    await again.add([msg(2, 'persisted more')]);
    expect((await index.search('persisted')).length).toBe(2);
    await index.wipe();
    expect(await index.count()).toBe(0);
    const db = await openDB(name);
    expect(await db.count('meta')).toBe(0);
    expect(await db.count('buckets')).toBe(0);
    db.close();
    expect(await index.search('persisted')).toEqual([]);
    expect((await index.indexedKeyIds()).size).toBe(0);
  });
});

describe('search index without its device key', () => {
  it('starts afresh when the index key can no longer be opened (the keyring database was deleted)', async () => {
    const { index, name } = fresh();
    await index.add([msg(1, 'unreadable later')]);
    const orphan = new SearchIndex(new KeyStore(`${name}-other-keys`), name);
    expect(await orphan.search('unreadable')).toEqual([]);
    expect(await orphan.count()).toBe(0);
    await orphan.add([msg(2, 'fresh start')]);
    expect((await orphan.search('fresh')).length).toBe(1);
  });
});

describe('search index re-renders', () => {
  it('a message shown again after a wipe or an eviction goes back in', async () => {
    const { index } = fresh(20);
    await index.add([msg(1, 'first one')]);
    await index.wipe();
    expect(await index.add([msg(1, 'first one')])).toBe(1);
    for (let i = 2; i <= 40; i++) await index.add([msg(i, `filler ${i}`)]);
    expect(await index.search('first')).toEqual([]);
    expect(await index.add([msg(1, 'first one')])).toBe(1);
    expect((await index.search('first')).length).toBe(1);
  });
});
