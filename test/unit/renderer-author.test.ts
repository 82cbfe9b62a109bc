/**
 * The page names another author on a message Veil already shows (an attribute or the author's
 * name changed after the badge was drawn): the message is judged again for that author, so Veil
 * never vouches for words under a name the background did not check them against. (A name changed
 * in the text is tested in real Chromium, test/e2e/attack-review.test.ts: linkedom reports text
 * changes against the document, not the element.)
 */
import { randomBytes } from '@noble/ciphers/utils.js';
import { describe, expect, it } from 'vitest';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import { toEnvelopeTexts } from '../../lib/crypto/chunks';
import { deriveKey, sealMessage } from '../../lib/crypto/envelope';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';
import { MessageRenderer } from '../../lib/page/renderer';
import { fixtureChatDom, fixtureEnvelopes } from '../support/fixture-dom';

const envelope = fixtureEnvelopes();
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** The background's judgement: the envelope was sent by alice, so under any other name it is a mismatch. */
function judge(asked: string[]) {
  return async (_c: string, items: DecryptItem[]) =>
    items.map((it) => {
      asked.push(it.author);
      return {
        id: it.id,
        status: 'decrypted',
        text: 'wire the money today',
        keyId: 'k',
        senderMismatch: it.author !== 'alice',
      } as DecryptedItem;
    });
}

const words = (li: Element) => li.querySelector('.text')!.textContent ?? '';

describe('renderer: an author renamed after the message was shown', () => {
  it('a new author attribute: the message is asked again for that author and no longer vouched for', async () => {
    const { doc, deliver } = fixtureChatDom();
    const asked: string[] = [];
    const r = new MessageRenderer(doc, fixtureChat, judge(asked));
    r.start();
    const li = deliver(envelope('hello'), 'm1');
    await tick();
    expect(li.getAttribute('data-veil-status')).toBe('decrypted');
    expect(words(li)).toContain('wire the money today');
    (li as HTMLElement).dataset.from = 'bob';
    await tick(20);
    r.stop();
    expect(asked).toEqual(['alice', 'bob']);
    expect(li.getAttribute('data-veil-status')).toBe('sender-mismatch');
    expect(words(li)).not.toContain('wire the money today');
  });

  it('renamed while its answer is out: the answer for the old author is not painted over the new one', async () => {
    const { doc, deliver } = fixtureChatDom();
    const asked: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const answer = judge(asked);
    const r = new MessageRenderer(doc, fixtureChat, async (c, items) => {
      if (items[0]!.author === 'alice') await gate; // alice's answer comes last
      return answer(c, items);
    });
    r.start();
    const li = deliver(envelope('hello'), 'm1');
    await tick();
    (li as HTMLElement).dataset.from = 'bob';
    await tick(20);
    expect(li.getAttribute('data-veil-status')).toBe('sender-mismatch');
    release();
    await tick(20);
    r.stop();
    expect(li.getAttribute('data-veil-status')).toBe('sender-mismatch');
    expect(words(li)).not.toContain('wire the money today');
  });

  it('a long message: a part renamed before the rest came, or after it was shown, is never decrypted under one name', async () => {
    for (const when of ['before', 'after'] as const) {
      const { doc, deliver } = fixtureChatDom();
      const asked: string[] = [];
      const r = new MessageRenderer(doc, fixtureChat, judge(asked));
      r.start();
      const parts = longMessage();
      expect(parts.length).toBeGreaterThan(2);
      const lis = [deliver(parts[0]!, 'p0')];
      await tick();
      if (when === 'before') (lis[0] as HTMLElement).dataset.from = 'carol';
      lis.push(...parts.slice(1).map((t, i) => deliver(t, `p${i + 1}`)));
      await tick(20);
      if (when === 'after') {
        expect(lis[0]!.getAttribute('data-veil-status')).toBe('decrypted');
        (lis[1] as HTMLElement).dataset.from = 'carol';
        await tick(20);
      }
      r.stop();
      expect(lis[0]!.getAttribute('data-veil-status'), when).not.toBe('decrypted');
      expect(lis.map(words).join(' '), when).not.toContain('wire the money today');
    }
  });

  it("a name the adapter's rule cannot read is a new name, not a name taken away", async () => {
    const { doc, deliver } = fixtureChatDom();
    const adapter = { ...fixtureChat, normalizeAuthor: (raw: string) => /^user:(.+)$/.exec(raw)?.[1] };
    const asked: string[] = [];
    const r = new MessageRenderer(doc, adapter, judge(asked));
    r.start();
    const li = deliver(envelope('hello'), 'm1') as HTMLElement;
    li.dataset.from = 'user:alice';
    await tick();
    expect(li.getAttribute('data-veil-status')).toBe('decrypted');
    li.dataset.from = 'carol';
    await tick(20);
    r.stop();
    expect(asked).toEqual(['alice', '']);
    expect(li.getAttribute('data-veil-status')).toBe('sender-mismatch');
  });

  it('the words swapped for another envelope while the first answer is out: the late answer is not painted', async () => {
    const { doc, deliver } = fixtureChatDom();
    const [e1, e2] = [envelope('one'), envelope('two')];
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const r = new MessageRenderer(doc, fixtureChat, async (_c, items) => {
      if (items[0]!.texts[0] === e1) await gate;
      return items.map(
        (it) =>
          ({
            id: it.id,
            status: 'decrypted',
            text: it.texts[0] === e1 ? 'first' : 'second',
            keyId: 'k',
          }) as DecryptedItem,
      );
    });
    r.start();
    const li = deliver(e1, 'm1');
    await tick();
    const text = li.querySelector('.text')!;
    text.textContent = e2;
    // The record a browser makes for it (linkedom names the document as its target).
    (r as any).take([{ type: 'childList', target: text, addedNodes: [...text.childNodes] }]);
    (r as any).processDirty();
    await tick(20);
    expect(words(li)).toContain('second');
    release();
    await tick(20);
    r.stop();
    expect(words(li)).toContain('second');
    expect(words(li)).not.toContain('first');
  });
});

/** One message of alice's long enough to travel as several chat messages of at most 200 characters. */
function longMessage(): string[] {
  const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
  const frame = sealMessage(
    key,
    'x'.repeat(400),
    { conversationId: 'dm-alice-bob', senderId: 'alice' },
    { sentAt: 1, nonce: randomBytes(16) },
  );
  return toEnvelopeTexts(frame, 200, randomBytes(4));
}
