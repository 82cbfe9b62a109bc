/**
 * A hostile page asking for secure reader frames without end: junk is refused, a tab's tokens and
 * reader text are bounded (its own oldest go first, never another tab's), and persisting tokens
 * costs one small write per token, not a rewrite of every token held.
 */
import { describe, expect, it, vi } from 'vitest';
import { randomBytes } from '@noble/ciphers/utils.js';

vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));

const caps = await import('../../lib/background/isolated/capabilities');
const { CapabilityRegistry, validReaderTexts, MAX_PER_TAB, MAX_TAB_READER_CHARS, MAX_TOTAL_READER_CHARS } = caps;
const { sealMessage, deriveKey } = await import('../../lib/crypto/envelope');
const { toEnvelopeTexts } = await import('../../lib/crypto/chunks');

const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
const envelopeOf = (text: string) =>
  toEnvelopeTexts(
    sealMessage(key, text, { conversationId: 'c', senderId: 'a' }, { sentAt: 1.7e12, nonce: randomBytes(16) }),
    10_000_000,
    randomBytes(4),
    false,
  )[0]!;
const host = (tabId: number) => ({ tabId, frameId: 0, documentId: 'doc', url: 'http://127.0.0.1/' });
const readerOf = (texts: string[]) => ({ conversationId: 'c', author: 'a', texts });

/** A storage.session stand-in that records how much each write carries. */
function session() {
  const data: Record<string, unknown> = {};
  const writes: number[] = [];
  return {
    data,
    writes,
    area: {
      async get(k: string | null) {
        return k === null ? { ...data } : { [k]: data[k] };
      },
      async set(v: Record<string, unknown>) {
        writes.push(JSON.stringify(v).length);
        Object.assign(data, v);
      },
      async remove(keys: string[]) {
        for (const k of keys) delete data[k];
      },
    },
  };
}
const tick = () => new Promise((r) => setTimeout(r, 0));
/** A registry whose clock stands still, over `area` (none: memory only, as without storage.session). */
const registry = (area?: ReturnType<typeof session>['area']) =>
  new CapabilityRegistry(
    () => area,
    () => 1_000,
  );

describe('secure frame bounds', () => {
  it('a reader is only made for Veil envelopes, at most one maximal message', () => {
    const real = envelopeOf('hello');
    expect(validReaderTexts([real])).toBe(true);
    expect(validReaderTexts(['x'.repeat(4_000_000)])).toBe(false); // data parked in the background
    expect(validReaderTexts([real + real])).toBe(false); // two envelopes in one text
    expect(validReaderTexts([])).toBe(false);
    expect(validReaderTexts(Array(256).fill(real))).toBe(false);
  });

  it("a tab spraying readers evicts its own oldest tokens, never another tab's", async () => {
    const reg = registry();
    const victim = await reg.mint(host(1), { kind: 'composer', handle: 'c', theme: {} });
    const big = envelopeOf('y'.repeat(500_000));
    const tokens: string[] = [];
    for (let i = 0; i < 40; i++)
      tokens.push(await reg.mint(host(2), { kind: 'reader', handle: `r${i}`, theme: {}, reader: readerOf([big]) }));
    expect(reg.heldReaderChars).toBeLessThanOrEqual(MAX_TAB_READER_CHARS + big.length);
    const frame = { tabId: 2, frameId: 5, documentId: 'f', url: 'x' };
    expect(await reg.redeem(tokens[0]!, frame)).toBeUndefined(); // evicted
    expect(await reg.redeem(tokens[39]!, frame)).toBeDefined(); // the newest stays
    expect(await reg.redeem(victim, { tabId: 1, frameId: 5, documentId: 'f', url: 'x' })).toBeDefined();
    for (let i = 0; i < MAX_PER_TAB + 50; i++)
      await reg.mint(host(3), { kind: 'composer', handle: `c${i}`, theme: {} });
    expect(reg.size).toBeLessThanOrEqual(1 + 20 + MAX_PER_TAB);
  });

  it("readers minted without end (a long scroll) evict older readers, not the tab's composer", async () => {
    const reg = registry();
    const composer = await reg.mint(host(6), { kind: 'composer', handle: 'c', theme: {} });
    const text = envelopeOf('short');
    for (let i = 0; i < MAX_PER_TAB + 20; i++)
      await reg.mint(host(6), { kind: 'reader', handle: `r${i}`, theme: {}, reader: readerOf([text]) });
    expect(reg.size).toBeLessThanOrEqual(MAX_PER_TAB);
    expect(await reg.redeem(composer, { tabId: 6, frameId: 5, documentId: 'f', url: 'x' })).toBeDefined();
  });

  it('all tabs together stay within the total, the greediest tab giving up first', async () => {
    const reg = registry();
    const big = envelopeOf('z'.repeat(600_000));
    for (let tab = 10; tab < 20; tab++)
      for (let i = 0; i < 12; i++)
        await reg.mint(host(tab), { kind: 'reader', handle: `r${i}`, theme: {}, reader: readerOf([big]) });
    expect(reg.heldReaderChars).toBeLessThanOrEqual(MAX_TOTAL_READER_CHARS + big.length);
  });

  it('persists each token on its own, without reader texts, in one write per task', async () => {
    const s = session();
    const reg = registry(s.area);
    const text = envelopeOf('secret-ish');
    for (let i = 0; i < 300; i++)
      await reg.mint(host(4), { kind: 'reader', handle: `r${i}`, theme: {}, reader: readerOf([text]) });
    await tick();
    const writesAfterBurst = s.writes.length;
    await reg.mint(host(4), { kind: 'composer', handle: 'c', theme: {} });
    await tick();
    // The 301st token costs one small write, not a rewrite of all 301.
    expect(s.writes.length).toBe(writesAfterBurst + 1);
    expect(s.writes.at(-1)!).toBeLessThan(1_000);
    expect(JSON.stringify(s.data)).not.toContain(text.slice(0, 40));
    // A new worker restores the tokens (bound ones keep working).
    const again = registry(s.area);
    await again.mint(host(5), { kind: 'composer', handle: 'x', theme: {} });
    expect(again.size).toBe(302);
  });

  it("an edit composer keeps what the edit is bound to across a worker restart, never the message's envelope", async () => {
    const s = session();
    const reg = registry(s.area);
    const text = envelopeOf('the message being edited');
    const frame = { ...host(4), frameId: 3, documentId: 'f' };
    const token = await reg.mint(host(4), {
      kind: 'composer',
      handle: 'c1',
      theme: {},
      composer: { kind: 'edit', edit: readerOf([text]) },
    });
    expect(reg.heldReaderChars).toBe(text.length); // counted against the same budget as readers
    const cap = (await reg.redeem(token, frame))!;
    cap.composer!.editOf = { messageId: 'ab'.repeat(16), hostId: 'm1' };
    cap.composer!.author = 'a';
    reg.changed(token);
    await tick();
    expect(JSON.stringify(s.data)).not.toContain(text.slice(0, 40));
    const again = registry(s.area);
    const restored = (await again.forFrame(token, frame, 'composer'))!;
    expect(restored.composer).toEqual({
      kind: 'edit',
      edit: { ...readerOf([]), hostMessageId: undefined },
      editOf: { messageId: 'ab'.repeat(16), hostId: 'm1' },
      author: 'a',
    });
  });
});
