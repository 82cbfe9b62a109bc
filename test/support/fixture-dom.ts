/**
 * The fixture chat's message list in linkedom, for unit tests of the content script: the DOM
 * classes the renderer uses become globals, and `deliver` appends a message as the chat does.
 */
import { randomBytes } from '@noble/ciphers/utils.js';
import { parseHTML } from 'linkedom';
import { encodeEnvelopeText } from '../../lib/crypto/codec';
import { deriveKey, sealMessage } from '../../lib/crypto/envelope';

export function fixtureChatDom(): { doc: Document; deliver: (text: string, id: string) => Element } {
  const win = parseHTML(
    '<html><body><main id="chat" data-conversation-id="dm-alice-bob"><ol id="messages"></ol></main></body></html>',
  );
  for (const name of ['MutationObserver', 'Element', 'Node', 'HTMLElement'])
    (globalThis as Record<string, unknown>)[name] = (win as unknown as Record<string, unknown>)[name];
  const doc = win.document as unknown as Document;
  /** A message from alice with this text, appended to the list as a delivery or a history load does. */
  const deliver = (text: string, id: string) => {
    const li = doc.createElement('li');
    li.className = 'message';
    li.dataset.id = id;
    li.dataset.from = 'alice';
    li.innerHTML = `<span class="author">alice</span><div class="text"></div>`;
    li.querySelector('.text')!.textContent = text;
    doc.getElementById('messages')!.append(li);
    return li;
  };
  return { doc, deliver };
}

/**
 * Envelopes of alice's messages in the fixture chat's dm-alice-bob under a fresh key (made at test
 * time), sent at `sentAt()` (default: 1 ms after the epoch).
 */
export function fixtureEnvelopes(sentAt: () => number = () => 1): (text: string) => string {
  const key = deriveKey({ id: randomBytes(4), secret: randomBytes(32) });
  return (text) =>
    encodeEnvelopeText(
      sealMessage(
        key,
        text,
        { conversationId: 'dm-alice-bob', senderId: 'alice' },
        { sentAt: sentAt(), nonce: randomBytes(16) },
      ),
    );
}
