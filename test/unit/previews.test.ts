/** Envelopes outside the message list (previews, title) become a neutral label (lib/page/previews.ts). */
import { describe, expect, it } from 'vitest';
import { encodeEnvelopeText } from '../../lib/crypto/codec';
import { parseHTML } from 'linkedom';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import { maskEnvelopes, watchPreviews } from '../../lib/page/previews';

const envelope = encodeEnvelopeText(new Uint8Array(60).fill(7));
const LABEL = '🔒 Encrypted message';

describe('maskEnvelopes', () => {
  it('replaces each envelope, also one cut short by the page, and keeps the text around it', () => {
    expect(maskEnvelopes(`(2) alice: ${envelope} — Fixture Chat`, LABEL)).toBe(`(2) alice: ${LABEL} — Fixture Chat`);
    expect(maskEnvelopes(`You: ${envelope} and ${envelope}`, LABEL)).toBe(`You: ${LABEL} and ${LABEL}`);
    const cut = envelope.slice(0, 30) + '…';
    expect(maskEnvelopes(cut, LABEL)).not.toContain('VEIL1');
  });

  it('leaves text without envelopes as it is', () => {
    expect(maskEnvelopes('VEIL is a word; lunch at noon?', LABEL)).toBe('VEIL is a word; lunch at noon?');
  });

  it('shows a decrypted preview where one is known, the label elsewhere', () => {
    const other = encodeEnvelopeText(new Uint8Array(60).fill(9));
    const known = new Map([[envelope, 'lunch at noon <b>?</b>']]);
    expect(maskEnvelopes(`(2) alice: ${envelope} · ${other}`, LABEL, known)).toBe(
      `(2) alice: lunch at noon <b>?</b> · ${LABEL}`,
    );
  });
});

describe('watchPreviews', () => {
  // A preview arriving in a quiet callback, and in one crowded by a history load (the page's and
  // Veil's own changes), which takes the one-query path: masked before the page paints either way.
  it.each([1, 500])('masks an envelope arriving in a preview among %i other changes', async (others) => {
    const win = parseHTML(
      '<html><head><title>Chat</title></head><body><ul id="messages"></ul><div id="conversations"></div></body></html>',
    );
    for (const name of ['Element', 'Text', 'Node', 'MutationObserver'])
      (globalThis as Record<string, unknown>)[name] = (win as unknown as Record<string, unknown>)[name];
    (globalThis as Record<string, unknown>).NodeFilter = { SHOW_TEXT: 4 }; // the DOM's constant (linkedom has none)
    const doc = win.document;
    const observer = watchPreviews(doc, fixtureChat);
    const list = doc.getElementById('messages')!;
    for (let i = 0; i < others; i++) list.append(doc.createElement('li'));
    const conv = doc.createElement('div');
    conv.className = 'conv';
    const preview = doc.createElement('span');
    preview.className = 'preview';
    preview.textContent = `alice: ${envelope}`;
    conv.append(preview);
    doc.getElementById('conversations')!.append(conv);
    await new Promise((r) => setTimeout(r, 0));
    expect(preview.textContent).toBe(`alice: ${LABEL}`);
    observer.disconnect();
  });

  it('an adapter without preview places still watches the title', async () => {
    const win = parseHTML('<html><head><title>Chat</title></head><body><ul id="messages"></ul></body></html>');
    for (const name of ['Element', 'Text', 'Node', 'MutationObserver'])
      (globalThis as Record<string, unknown>)[name] = (win as unknown as Record<string, unknown>)[name];
    const doc = win.document;
    // As in browsers: an empty selector is a SyntaxError (linkedom answers null instead).
    const proto = (win as unknown as { Element: typeof Element }).Element.prototype;
    for (const m of ['closest', 'querySelectorAll', 'matches'] as const) {
      const real = proto[m] as (this: Element, s: string) => unknown;
      (proto as unknown as Record<string, unknown>)[m] = function (this: Element, s: string) {
        if (!s.trim()) throw new SyntaxError(`'${s}' is not a valid selector`);
        return real.call(this, s);
      };
    }
    const adapter = { ...fixtureChat, selectors: { ...fixtureChat.selectors, previews: [] } };
    const observer = watchPreviews(doc, adapter);
    doc.title = `alice: ${envelope}`;
    doc.getElementById('messages')!.append(doc.createElement('li'));
    await new Promise((r) => setTimeout(r, 0));
    expect(doc.title).toBe(`alice: ${LABEL}`);
    observer.disconnect();
  });
});
