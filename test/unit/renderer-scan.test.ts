/**
 * One way to read the message list for both modes (lib/page/message-scan.ts), and what the inline
 * renderer does with a long history: one request for the batch, one paint pass, and its own paint
 * does not wake it again (a history of thousands must not be rescanned after it is painted).
 * A host change that lands while Veil paints is still seen, and a history listed at once is found
 * with one search of the page.
 */
import { describe, expect, it } from 'vitest';
import { fixtureChatDom } from '../support/fixture-dom';
import { randomBytes } from '@noble/ciphers/utils.js';
import { toEnvelopeTexts } from '../../lib/crypto/chunks';
import { encodeEnvelopeText } from '../../lib/crypto/codec';
import { deriveKey, sealMessage } from '../../lib/crypto/envelope';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import type { SiteAdapter } from '../../lib/adapters/types';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';
import { ChunkGroups, scanText } from '../../lib/page/message-scan';
import { MessageRenderer, type DecryptFn } from '../../lib/page/renderer';

const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
const frame = (text: string) =>
  sealMessage(key, text, { conversationId: 'dm-alice-bob', senderId: 'alice' }, { sentAt: 1, nonce: randomBytes(16) });
const envelope = (text: string) => encodeEnvelopeText(frame(text));

function chat() {
  const { doc, deliver } = fixtureChatDom();
  let id = 0;
  /** The host appends messages in one go, as a history load does. */
  return { doc, deliver: (...texts: string[]) => texts.forEach((text) => deliver(text, `m${++id}`)) };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const answer = (items: DecryptItem[]) =>
  items.map((it) => ({ id: it.id, status: 'decrypted', text: `plain ${it.id}`, keyId: 'aaaa0001' }) as DecryptedItem);

describe('message scan', () => {
  it('finds envelopes, and a text that is exactly one chunk as a part of a long message', () => {
    expect(scanText('hello').envelopes).toEqual([]);
    const one = envelope('hi');
    expect(scanText(`look: ${one}`)).toEqual({ envelopes: [one] });
    const parts = toEnvelopeTexts(frame('x'.repeat(400)), 200, randomBytes(4));
    expect(parts.length).toBeGreaterThan(1);
    const scanned = scanText(parts[1]!);
    expect(scanned.envelopes).toEqual([parts[1]]);
    expect(scanned.chunk).toMatchObject({ index: 1, count: parts.length });
    // Two chunks in one chat message are not one part: read as separate envelopes.
    expect(scanText(`${parts[0]} ${parts[1]}`).chunk).toBeUndefined();
  });

  it('keeps a bounded number of chunk groups, and no more parts than a group claims', () => {
    const groups = new ChunkGroups(3);
    const member = { el: {} as Element, text: 't', author: 'a' };
    for (let g = 0; g < 10; g++) groups.add({ group: `g${g}`, index: 0, count: 2 }, member);
    expect(groups.size).toBe(3);
    expect(groups.add({ group: 'g9', index: 1, count: 2 }, member)!.size).toBe(2);
    expect(groups.add({ group: 'g9', index: 5, count: 2 }, member)).toBeUndefined(); // a third part of two
  });
});

describe('renderer: a long history', () => {
  it('is decrypted in one request and painted in one pass that does not wake the renderer again', async () => {
    const { doc, deliver } = chat();
    let asks = 0;
    const adapter: SiteAdapter = {
      ...fixtureChat,
      conversationId: (d) => {
        asks++; // once per pass over the page's changes
        return fixtureChat.conversationId(d);
      },
    };
    const requests: number[] = [];
    const decrypt: DecryptFn = async (_c, items) => {
      requests.push(items.length);
      return answer(items);
    };
    const r = new MessageRenderer(doc, adapter, decrypt);
    r.start();
    deliver(...Array.from({ length: 50 }, (_, i) => envelope(`m${i}`)));
    await tick();
    await tick();
    expect(requests).toEqual([50]);
    const lis = [...doc.querySelectorAll('li.message')];
    expect(lis.every((li) => li.getAttribute('data-veil-status') === 'decrypted')).toBe(true);
    expect(lis.map((li) => li.querySelector('[data-veil-shown]')?.textContent)).toEqual(
      Array.from({ length: 50 }, (_, i) => `plain ${i}`),
    );
    // Asked when the history arrived and once after the answers; Veil's own "Decrypting…" and
    // plaintext writes are not taken for the host's changes (no further pass over 50 messages).
    expect(asks).toBeLessThanOrEqual(3);
    r.stop();
  });

  it('a history listed at once is found with one search of the page, not one search per message', async () => {
    const { doc, deliver } = chat();
    const r = new MessageRenderer(doc, fixtureChat, async (_c, items) => answer(items));
    r.start();
    // Searches under a message element: in Chromium each can walk the whole list (an id-anchored
    // selector such as `#thread-messages > li.message`), so one per message is quadratic.
    const proto = (globalThis as unknown as { Element: typeof Element }).Element.prototype;
    const original = proto.querySelectorAll;
    let underMessages = 0;
    proto.querySelectorAll = function (this: Element, sel: string) {
      if (this.matches('li.message')) underMessages++;
      return original.call(this, sel);
    } as typeof original;
    try {
      deliver(...Array.from({ length: 200 }, (_, i) => envelope(`m${i}`)));
      await tick();
      await tick();
    } finally {
      proto.querySelectorAll = original;
    }
    expect(underMessages).toBe(0);
    const lis = [...doc.querySelectorAll('li.message')];
    expect(lis.filter((li) => li.getAttribute('data-veil-status') === 'decrypted')).toHaveLength(200);
    r.stop();
  });

  it('a message the host adds while Veil paints is still decrypted', async () => {
    const { doc, deliver } = chat();
    let first = true;
    const decrypt: DecryptFn = async (_c, items) => {
      if (first) {
        first = false;
        // The host adds a message in the same turn as the answer comes back.
        queueMicrotask(() => deliver(envelope('late')));
      }
      return answer(items);
    };
    const r = new MessageRenderer(doc, fixtureChat, decrypt);
    r.start();
    deliver(envelope('early'));
    for (let i = 0; i < 4; i++) await tick();
    const statuses = [...doc.querySelectorAll('li.message')].map((li) => li.getAttribute('data-veil-status'));
    expect(statuses).toEqual(['decrypted', 'decrypted']);
    r.stop();
  });
});
