/**
 * The page can make up as many envelopes as it likes and remove each once Veil has read it: the
 * answers Veil keeps for re-renders stay bounded (the oldest leave first and are simply asked for
 * again), and a message still on screen whose answer left is still re-judged when a key changes.
 */
import { describe, expect, it } from 'vitest';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';
import { MAX_CACHED_ANSWERS, MessageRenderer } from '../../lib/page/renderer';
import { fixtureChatDom, fixtureEnvelopes } from '../support/fixture-dom';
import { shownText } from '../support/shown-text';

const envelope = fixtureEnvelopes();
const tick = () => new Promise((r) => setTimeout(r, 5));

/** A background answering every envelope as decrypted under `keyStatus()`; records what it was asked. */
function background(keyStatus: () => 'active' | 'revoked') {
  const asked = new Map<string, number>();
  const decrypt = async (_c: string, items: DecryptItem[]) =>
    items.map((it) => {
      asked.set(it.texts[0]!, (asked.get(it.texts[0]!) ?? 0) + 1);
      return {
        id: it.id,
        status: 'decrypted',
        text: 'words',
        keyId: 'cccc0001',
        keyStatus: keyStatus(),
      } as DecryptedItem;
    });
  return { decrypt, asked };
}

/** The page shows `count` made-up envelopes, each removed as soon as Veil has read it. */
async function flood(deliver: (text: string, id: string) => Element, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const shown = Array.from({ length: Math.min(500, count - i) }, (_, j) =>
      deliver(envelope(`x${i + j}`), `f${i + j}`),
    );
    await tick();
    for (const li of shown) li.remove();
  }
  await tick();
}

describe('renderer: what the page can make Veil keep is bounded', () => {
  it('more made-up envelopes than Veil keeps answers for: the oldest is asked for again when shown again', async () => {
    const { doc, deliver } = fixtureChatDom();
    const bg = background(() => 'active');
    const r = new MessageRenderer(doc, fixtureChat, bg.decrypt);
    r.start();
    const first = envelope('first');
    const shownOnce = async () => {
      const li = deliver(first, 'm1');
      await tick();
      li.remove();
    };
    await shownOnce();
    await shownOnce(); // shown again soon after: the kept answer, no new request
    expect(bg.asked.get(first)).toBe(1);
    await flood(deliver, MAX_CACHED_ANSWERS);
    const again = deliver(first, 'm1');
    await tick();
    expect(bg.asked.get(first)).toBe(2);
    expect(shownText(again.querySelector('.text')!)).toBe('words🔒 Decrypted');
    r.stop();
  });

  it('a message still shown whose answer left the cache is re-judged when its key is revoked', async () => {
    const { doc, deliver } = fixtureChatDom();
    let status: 'active' | 'revoked' = 'active';
    const bg = background(() => status);
    const r = new MessageRenderer(doc, fixtureChat, bg.decrypt);
    r.start();
    const kept = deliver(envelope('still on screen'), 'm1');
    await tick();
    expect(kept.getAttribute('data-veil-status')).toBe('decrypted');
    await flood(deliver, MAX_CACHED_ANSWERS);
    status = 'revoked';
    r.refresh({ keyIds: ['cccc0001'] });
    await tick();
    expect(kept.getAttribute('data-veil-status')).toBe('revoked-key');
    r.stop();
  });
});
