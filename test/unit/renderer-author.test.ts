/**
 * The page names another author on a message Veil already shows (an attribute or the author's
 * name changed after the badge was drawn): the message is judged again for that author, so Veil
 * never vouches for words under a name the background did not check them against. (A name changed
 * in the text is tested in real Chromium, test/e2e/attack-review.test.ts: linkedom reports text
 * changes against the document, not the element.)
 */
import { describe, expect, it } from 'vitest';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
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
});
