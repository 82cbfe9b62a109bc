/**
 * The vendor's page edits what Veil painted: it swaps Veil's words for another envelope, writes
 * into them, or a long message's last part arrives under a head that said "2 of 3 parts". Veil's
 * badge must never stay beside words Veil did not write, and the usual "Decrypting…", failure
 * reason and retry apply to whatever the element holds now.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText } from '../../lib/crypto/codec';
import { toEnvelopeTexts } from '../../lib/crypto/chunks';
import { deriveKey, sealMessage } from '../../lib/crypto/envelope';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import type { DecryptedItem } from '../../lib/messaging/protocol';
import { MessageRenderer, type DecryptFn } from '../../lib/page/renderer';
import { fixtureChatDom } from '../support/fixture-dom';
import { shownText } from '../support/shown-text';

const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
const seal = (text: string) =>
  sealMessage(key, text, { conversationId: 'dm-alice-bob', senderId: 'alice' }, { sentAt: 1, nonce: randomBytes(16) });
const first = encodeEnvelopeText(seal('hi'));
const second = encodeEnvelopeText(seal('second'));

const chat = fixtureChatDom;

const tick = () => new Promise((r) => setTimeout(r, 5));
const microtasks = () => new Promise((r) => queueMicrotask(() => r(undefined)));

/** A background that answers the first request and then stops answering. */
function answersOnce(): DecryptFn {
  let calls = 0;
  return async (_c, items) =>
    ++calls === 1
      ? items.map(
          (it) =>
            ({ id: it.id, status: 'decrypted', text: 'hi', keyId: 'aaaa0001', messageId: 'ab12' }) as DecryptedItem,
        )
      : { error: 'Veil is not responding' };
}

async function shownHi() {
  const { doc, deliver } = chat();
  const r = new MessageRenderer(doc, fixtureChat, answersOnce());
  r.start();
  const li = deliver(first, 'm1');
  await tick();
  const textEl = li.querySelector('.text')!;
  expect(shownText(textEl)).toBe('hi🔒 Decrypted');
  expect(r.shownMessage(li)?.text).toBe('hi');
  return { doc, r, li, textEl };
}

describe('renderer: the page edits what Veil painted', () => {
  it("Veil's words swapped for another envelope: no Decrypted badge beside it, the reason when no answer comes", async () => {
    const { doc, r, li, textEl } = await shownHi();
    textEl.firstChild!.replaceWith(doc.createTextNode(second));
    r.refresh(); // what a DOM change makes Veil do (linkedom reports it on the document only)
    await microtasks();
    expect(shownText(textEl)).toBe('⏳ Decrypting…'); // not the envelope, not the old badge
    await tick();
    await tick();
    expect(shownText(textEl)).toContain(second);
    expect(shownText(textEl)).toContain('Not decrypted');
    expect(shownText(textEl)).not.toContain('🔒 Decrypted');
    expect(li.getAttribute('data-veil-status')).not.toBe('decrypted');
    expect(r.shownMessage(li)).toBeUndefined();
    r.stop();
  });

  it("the page writes its own words into Veil's text: the badge leaves, and nothing is shown as the message's", async () => {
    const { r, li, textEl } = await shownHi();
    (textEl.firstChild as Text).data = 'words the page chose';
    r.refresh();
    await tick();
    expect(textEl.querySelector('.veil-badge')).toBeNull();
    expect(textEl.hasAttribute('data-veil-shown')).toBe(false);
    expect(li.getAttribute('data-veil-status')).toBeNull();
    expect(r.shownMessage(li)).toBeUndefined();
    r.stop();
  });

  it('a long message whose last part arrives shows "Decrypting…" in its first part, not "2 of 3 parts"', async () => {
    const parts = toEnvelopeTexts(seal('x'.repeat(400)), 200, randomBytes(4));
    expect(parts.length).toBeGreaterThan(1);
    const { doc, deliver } = chat();
    const r = new MessageRenderer(doc, fixtureChat, () => new Promise(() => undefined)); // no answer yet
    r.start();
    const head = deliver(parts[0]!, 'p0');
    await tick();
    expect(shownText(head.querySelector('.text')!)).toMatch(/1 of \d+ parts/);
    parts.slice(1).forEach((p, i) => deliver(p, `p${i + 1}`));
    await microtasks();
    expect(shownText(head.querySelector('.text')!)).toBe('⏳ Decrypting…');
    r.stop();
  });
});
