/**
 * the renderer's refresh after a keyring change, without a browser: locked and unknown-key
 * messages are asked again and repainted in one step (no "Decrypting…" in between), decrypted ones
 * whose result did not change are not repainted at all, a revoked key's messages are re-labelled,
 * and an answer that was in flight across the change is asked again once (no stale "locked", no
 * request ping-pong).
 */
import { describe, expect, it } from 'vitest';
import { shownText } from '../support/shown-text';
import { fixtureEnvelopes } from '../support/fixture-dom';
import { parseHTML } from 'linkedom';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';
import { MessageRenderer } from '../../lib/page/renderer';

const envelope = fixtureEnvelopes(Date.now);

function page(texts: string[]) {
  const win = parseHTML(
    `<html><body><main id="chat" data-conversation-id="dm-alice-bob"><ol id="messages">${texts
      .map(
        (t, i) =>
          `<li class="message" data-id="m${i + 1}" data-from="alice"><span class="author">alice</span><div class="text">${t}</div></li>`,
      )
      .join('')}</ol></main></body></html>`,
  );
  // The renderer runs in a page: give it that page's DOM classes.
  for (const name of ['MutationObserver', 'Element', 'Node', 'HTMLElement'])
    (globalThis as Record<string, unknown>)[name] = (win as unknown as Record<string, unknown>)[name];
  return win.document as unknown as Document;
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A fake background: per envelope text, what it answers now; counts the items it was asked. */
function background(answers: Map<string, Partial<DecryptedItem>>) {
  const asked: string[] = [];
  let hold: Promise<void> | undefined;
  const decrypt = async (_c: string, items: DecryptItem[]) => {
    const snapshot = items.map((it) => ({ id: it.id, ...answers.get(it.texts[0]!)! }) as DecryptedItem);
    asked.push(...items.map((it) => it.texts[0]!));
    if (hold) await hold;
    return snapshot;
  };
  return {
    decrypt,
    asked,
    holdUntil: (p: Promise<void>) => {
      hold = p;
    },
    release: () => {
      hold = undefined;
    },
  };
}

const shown = (doc: Document) =>
  [...doc.querySelectorAll('li.message')].map((li) => [
    li.getAttribute('data-veil-status'),
    li.querySelector('[data-veil-shown]')?.textContent || null,
  ]);

describe('renderer refresh after a keyring change', () => {
  it('locked and unknown-key messages repaint in place; unchanged decrypted ones are left alone', async () => {
    const [e1, e2, e3] = [envelope('one'), envelope('two'), envelope('three')];
    const answers = new Map<string, Partial<DecryptedItem>>([
      [e1, { status: 'decrypted', text: 'one', keyId: 'aaaa0001', keyStatus: 'active' }],
      [e2, { status: 'locked', keyId: 'aaaa0002' }],
      [e3, { status: 'unknown-key', keyId: 'aaaa0003' }],
    ]);
    const doc = page([e1, e2, e3]);
    const bg = background(answers);
    const r = new MessageRenderer(doc, fixtureChat, bg.decrypt);
    r.start();
    await tick();
    expect(shown(doc)).toEqual([
      ['decrypted', 'one'],
      ['locked', null],
      ['unknown-key', null],
    ]);
    const firstNode = doc.querySelector('li[data-id="m1"] .veil-badge');

    answers.set(e2, { status: 'decrypted', text: 'two', keyId: 'aaaa0002', keyStatus: 'active' });
    answers.set(e3, { status: 'decrypted', text: 'three', keyId: 'aaaa0003', keyStatus: 'active' });
    bg.asked.length = 0;
    r.refresh();
    expect(shownText(doc.body)).not.toContain('Decrypting'); // quiet: no pending badge in between
    await tick();
    expect(shown(doc)).toEqual([
      ['decrypted', 'one'],
      ['decrypted', 'two'],
      ['decrypted', 'three'],
    ]);
    expect(bg.asked.sort()).toEqual([e2, e3].sort()); // only what could change was asked again
    expect(doc.querySelector('li[data-id="m1"] .veil-badge')).toBe(firstNode);

    // Everything asked again (lock, policy): unchanged results repaint nothing.
    const nodes = [...doc.querySelectorAll('.veil-badge')];
    r.refresh({ all: true });
    await tick();
    expect([...doc.querySelectorAll('.veil-badge')]).toEqual(nodes);
    r.stop();
  });

  it('a key whose status changed is asked again: its messages get the revoked badge, others stay', async () => {
    const [e1, e2] = [envelope('kept'), envelope('revoked later')];
    const answers = new Map<string, Partial<DecryptedItem>>([
      [e1, { status: 'decrypted', text: 'kept', keyId: 'bbbb0001', keyStatus: 'active' }],
      [e2, { status: 'decrypted', text: 'revoked later', keyId: 'bbbb0002', keyStatus: 'active' }],
    ]);
    const doc = page([e1, e2]);
    const bg = background(answers);
    const r = new MessageRenderer(doc, fixtureChat, bg.decrypt);
    r.start();
    await tick();
    const kept = doc.querySelector('li[data-id="m1"] .veil-badge');
    answers.set(e2, { ...answers.get(e2), keyStatus: 'revoked' });
    r.refresh({ keyIds: ['bbbb0002'] });
    await tick();
    expect(shown(doc)).toEqual([
      ['decrypted', 'kept'],
      ['revoked-key', 'revoked later'],
    ]);
    expect(doc.querySelector('li[data-id="m1"] .veil-badge')).toBe(kept);
    r.stop();
  });

  it('an answer in flight across the change is asked again once, not forever', async () => {
    const e1 = envelope('raced');
    const answers = new Map<string, Partial<DecryptedItem>>([[e1, { status: 'locked', keyId: 'cccc0001' }]]);
    const doc = page([e1]);
    const bg = background(answers);
    let release!: () => void;
    bg.holdUntil(
      new Promise<void>((r) => {
        release = r;
      }),
    );
    const r = new MessageRenderer(doc, fixtureChat, bg.decrypt);
    r.start();
    await tick(); // the request is out, answered "locked" from before the unlock
    answers.set(e1, { status: 'decrypted', text: 'raced', keyId: 'cccc0001', keyStatus: 'active' });
    bg.release();
    r.refresh(); // the unlock notice arrives while that answer is still on its way
    release();
    await tick();
    await tick();
    expect(shown(doc)).toEqual([['decrypted', 'raced']]);

    // Still locked after a change: asked once more, then quiet (no polling loop).
    answers.set(e1, { status: 'locked', keyId: 'cccc0001' });
    r.refresh({ all: true });
    await tick();
    const count = bg.asked.length;
    await tick();
    await tick();
    expect(bg.asked.length).toBe(count);
    expect(shown(doc)).toEqual([['locked', null]]);
    r.stop();
  });
});
