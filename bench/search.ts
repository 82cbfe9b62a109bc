/**
 * Local search at scale (`npx vite-node bench/search.ts -- [--n 100000] [--batch 50]`): indexes N
 * synthetic chat messages through the background's SearchIndex (Node, fake-indexeddb: the same
 * code and transactions as the extension, an in-memory database instead of Chromium's LevelDB),
 * then times queries for a rare word, a common word, two words, a CJK phrase and a miss, and
 * reports what the index holds. Messages arrive in batches, as decrypt requests bring them.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { KeyStore } from '../lib/background/keys/store';
import { SearchIndex, type IndexedMessage } from '../lib/background/search/store';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const N = opt('--n', 100_000);
const BATCH = opt('--batch', 50);

/** A small deterministic generator (mulberry32): the same corpus every run. */
let seed = 42;
const rnd = () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
// Zipf-ish vocabulary: a few words very common, most rare, as in chat.
const VOCAB = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
const word = () => VOCAB[Math.floor(VOCAB.length * rnd() ** 3)]!;
const CJK =
  '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切案根据';
const cjkRun = () =>
  Array.from({ length: 4 + Math.floor(rnd() * 8) }, () => CJK[Math.floor(CJK.length * rnd() ** 2)]).join('');

function message(i: number): IndexedMessage {
  const words = Array.from({ length: 6 + Math.floor(rnd() * 14) }, word);
  if (i % 10 === 0) words.push(cjkRun());
  if (i === Math.floor(N / 2)) words.push('needleinhaystack');
  return {
    keyId: 'aabbccdd',
    messageId: i.toString(16).padStart(32, '0'),
    site: 'fixture-chat',
    conversationId: `conv-${i % 200}`,
    author: `user${i % 50}`,
    text: words.join(' '),
    sentAt: 1_700_000_000_000 + i * 1000,
    url: `https://chat.example/?conv=conv-${i % 200}`,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const name = `veil-search-bench-${Date.now()}`;
  const index = new SearchIndex(new KeyStore(`${name}-keys`), name, N);
  const t0 = performance.now();
  let textBytes = 0;
  for (let i = 0; i < N; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, N - i) }, (_, j) => message(i + j));
    for (const m of batch) textBytes += new TextEncoder().encode(m.text).length;
    await index.add(batch);
    if (i > 0 && i % 10_000 === 0) {
      const s = (performance.now() - t0) / 1000;
      process.stderr.write(`${i} indexed in ${s.toFixed(0)} s\n`);
    }
  }
  const indexMs = performance.now() - t0;
  const db = await openDB(name);
  let stored = 0;
  let records = 0;
  for (const store of ['docs', 'buckets', 'meta'] as const) {
    for (const v of await db.getAll(store)) {
      records++;
      for (const x of Object.values(v)) if (x instanceof Uint8Array) stored += x.length + 0;
      stored += 40; // keys and small fields, roughly
    }
  }
  const docs = await db.count('docs');
  const buckets = await db.count('buckets');
  db.close();
  const queries: Record<string, string> = {
    'rare word (1 hit)': 'needleinhaystack',
    'common word (limit 50)': VOCAB[0]!,
    'mid-frequency word': VOCAB[300]!,
    'two words': `${VOCAB[1]} ${VOCAB[2]}`,
    'CJK phrase': CJK.slice(0, 2),
    miss: 'nosuchwordanywhere',
  };
  const rows: string[] = [];
  for (const [label, q] of Object.entries(queries)) {
    const times: number[] = [];
    let hits = 0;
    for (let r = 0; r < 5; r++) {
      const s = performance.now();
      hits = (await index.search(q)).length;
      times.push(performance.now() - s);
    }
    rows.push(`| ${label} | ${hits} | ${median(times).toFixed(1)} |`);
  }
  console.log(
    `\nLocal search, ${N.toLocaleString('en')} messages in batches of ${BATCH} (Node ${process.version}, fake-indexeddb)`,
  );
  console.log(
    `- indexing: ${(indexMs / 1000).toFixed(1)} s, ${Math.round(N / (indexMs / 1000)).toLocaleString('en')} messages/s`,
  );
  console.log(
    `- held: ${docs.toLocaleString('en')} messages, ${buckets.toLocaleString('en')} posting buckets, ${records.toLocaleString('en')} records`,
  );
  console.log(
    `- size: ${(stored / 1e6).toFixed(1)} MB sealed (plaintext ${(textBytes / 1e6).toFixed(1)} MB: ${(stored / textBytes).toFixed(1)}x)`,
  );
  console.log('\n| query | hits | median ms (5 runs) |\n|---|---|---|');
  console.log(rows.join('\n'));
}

await main();
