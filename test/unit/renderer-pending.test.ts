/**
 * While the background works on a message, the renderer shows "Decrypting…" in the envelope's
 * place, in the same mutation callback that found it: the browser never paints a frame with the
 * envelope, however long the answer takes (a loaded machine, a new conversation in an SPA). If no
 * answer comes, the envelope is put back with the reason beside it, and is asked again.
 */
import { describe, expect, it } from 'vitest';
import { fixtureChatDom } from '../support/fixture-dom';
import { shownText } from '../support/shown-text';
import { randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText } from '../../lib/crypto/codec';
import { deriveKey, sealMessage } from '../../lib/crypto/envelope';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';
import { MessageRenderer, type DecryptFn } from '../../lib/page/renderer';

const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
const envelope = encodeEnvelopeText(
  sealMessage(key, 'hi', { conversationId: 'dm-alice-bob', senderId: 'alice' }, { sentAt: 1, nonce: randomBytes(16) }),
);

function chat() {
  const { doc, deliver } = fixtureChatDom();
  return {
    doc,
    /** The host appends a message, as a live delivery does. */
    deliver: () => void deliver(envelope, 'm1'),
    text: () => shownText(doc.querySelector('#messages .text')!),
  };
}

const microtasks = () => new Promise((r) => queueMicrotask(() => r(undefined)));
const tick = () => new Promise((r) => setTimeout(r, 5));
const decrypted = (items: DecryptItem[]) =>
  items.map((it) => ({ id: it.id, status: 'decrypted', text: 'hi', keyId: 'aaaa0001' }) as DecryptedItem);

describe('renderer: a message being decrypted', () => {
  it('shows "Decrypting…" instead of the envelope from the first frame until the answer', async () => {
    const { doc, deliver, text } = chat();
    let answer!: () => void;
    const decrypt: DecryptFn = (_c, items) => new Promise((r) => (answer = () => r(decrypted(items))));
    const r = new MessageRenderer(doc, fixtureChat, decrypt);
    r.start();
    deliver();
    await microtasks(); // the mutation callback has run: this is what the next frame paints
    expect(text()).not.toContain('VEIL1');
    expect(text()).toContain('Decrypting');
    await tick(); // the request is out, the answer is not: still no envelope
    expect(text()).not.toContain('VEIL1');
    answer();
    await tick();
    expect(doc.querySelector('li')!.getAttribute('data-veil-status')).toBe('decrypted');
    expect(doc.querySelector('[data-veil-shown]')!.textContent).toBe('hi');
    r.stop();
  });

  it('no answer: the envelope comes back with the reason, and is asked again', async () => {
    const { doc, deliver, text } = chat();
    let calls = 0;
    const decrypt: DecryptFn = async (_c, items) =>
      ++calls === 1 ? { error: 'Veil is not responding' } : decrypted(items);
    let shownAfterFailure = '';
    const r = new MessageRenderer(doc, fixtureChat, async (c, items) => {
      const res = await decrypt(c, items);
      if (calls === 2) shownAfterFailure = text(); // what the failure left on screen
      return res;
    });
    r.start();
    deliver();
    await tick();
    await tick();
    expect(shownAfterFailure).toContain(envelope);
    expect(shownAfterFailure).toContain('Not decrypted');
    expect(calls).toBe(2);
    expect(doc.querySelector('[data-veil-shown]')?.textContent).toBe('hi');
    r.stop();
  });
});
