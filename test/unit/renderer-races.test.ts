/**
 * Races and edits a vendor's page can arrange around Veil's rendering (found in an attacker's
 * review): a message of two envelopes while the answer cache is full, a key imported or the
 * keyring locked while a batch of answers is out, the page taking its own <html> out (or putting
 * a new one in), one of two envelopes left unanswered, and the page editing the words of a message
 * of several envelopes.
 */
import { describe, expect, it } from 'vitest';
import { fixtureChat } from '../../lib/adapters/fixture-chat';
import type { DecryptedItem, DecryptItem } from '../../lib/messaging/protocol';
import { MAX_CACHED_ANSWERS, MessageRenderer } from '../../lib/page/renderer';
import { fixtureChatDom, fixtureEnvelopes } from '../support/fixture-dom';
import { shownText } from '../support/shown-text';

const envelope = fixtureEnvelopes();
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const from = (li: Element, who: string) => {
  (li as HTMLElement).dataset.from = who;
  return li;
};

describe('renderer: races and edits the page can arrange', () => {
  it('a message of two envelopes while the answer cache is full is asked for once, not in an endless loop', async () => {
    const { doc, deliver } = fixtureChatDom();
    const asked = new Map<string, number>();
    let calls = 0;
    const decrypt = async (_c: string, items: DecryptItem[]) => {
      if (++calls > 40) return new Promise<never>(() => {}); // stop the loop for the test
      return items.map((it) => {
        asked.set(it.texts[0]!, (asked.get(it.texts[0]!) ?? 0) + 1);
        return { id: it.id, status: 'decrypted', text: 'w', keyId: 'k' } as DecryptedItem;
      });
    };
    const r = new MessageRenderer(doc, fixtureChat, decrypt);
    r.start();
    from(deliver(envelope('c1'), 'c1'), 'carol'); // carol's group is first in the cache
    await tick();
    const flood = Array.from({ length: MAX_CACHED_ANSWERS - 1 }, (_, i) => deliver(envelope(`x${i}`), `f${i}`));
    await tick(50);
    flood.forEach((li) => li.remove());
    calls = 0;
    const [e1, e2] = [envelope('s1'), envelope('s2')];
    const m = from(deliver(`${e1} ${e2}`, 'm'), 'carol');
    await tick(200);
    r.stop();
    expect(asked.get(e1)).toBe(1);
    expect(asked.get(e2)).toBe(1);
    expect(m.getAttribute('data-veil-status')).toBe('decrypted');
  }, 30_000);

  it('a key imported while more answers than the cache keeps are out: the unknown-key ones are asked again', async () => {
    const { doc, deliver } = fixtureChatDom();
    let imported = false;
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const unknown = new Set<string>();
    let first = true;
    const decrypt = async (_c: string, items: DecryptItem[]) => {
      const had = imported;
      const wait = first;
      if (wait) await gate;
      return items.map((it) =>
        !had && unknown.has(it.texts[0]!)
          ? ({ id: it.id, status: 'unknown-key', keyId: 'k' } as DecryptedItem)
          : ({
              id: it.id,
              status: 'decrypted',
              text: 'w',
              keyId: it.texts[0]! === '' ? 'k' : 'other',
            } as DecryptedItem),
      );
    };
    const r = new MessageRenderer(doc, fixtureChat, decrypt);
    r.start();
    const N = MAX_CACHED_ANSWERS + 100;
    const texts = Array.from({ length: N }, (_, i) => envelope(`x${i}`));
    texts.slice(0, 50).forEach((t) => unknown.add(t));
    const lis = texts.map((t, i) => deliver(t, `f${i}`));
    await tick(20);
    first = false;
    imported = true;
    r.refresh({ keyIds: ['k'] }); // the key was imported while the history was being decrypted
    release();
    await tick(300);
    r.stop();
    expect(lis[0]!.getAttribute('data-veil-status')).toBe('decrypted');
  }, 30_000);

  it('many changes while the page has taken its <html> out do not stop Veil', () => {
    const { doc } = fixtureChatDom();
    const r = new MessageRenderer(doc, fixtureChat, async () => []);
    r.start();
    const html = doc.documentElement;
    doc.removeChild(html);
    const rec = { type: 'childList', target: html, addedNodes: [] } as unknown as MutationRecord;
    expect(() => (r as any).take(Array(65).fill(rec))).not.toThrow();
  });

  it('the page puts in a new <html> holding an envelope: it is read like any other', async () => {
    const { doc } = fixtureChatDom();
    const r = new MessageRenderer(doc, fixtureChat, async (_c, items) =>
      items.map((it) => ({ id: it.id, status: 'decrypted', text: 'w', keyId: 'k' }) as DecryptedItem),
    );
    r.start();
    r.stop(); // only the record below, as a browser reports it (linkedom's own name other targets)
    const old = doc.documentElement;
    const html = old.cloneNode(true) as Element;
    const li = html.querySelector('#messages')!.appendChild(doc.createElement('li'));
    li.className = 'message';
    li.setAttribute('data-from', 'alice');
    li.innerHTML = '<span class="author">alice</span><div class="text"></div>';
    li.querySelector('.text')!.textContent = envelope('in a new html');
    doc.replaceChild(html, old);
    const rec = { type: 'childList', target: doc, addedNodes: [html] } as unknown as MutationRecord;
    (r as any).take([rec]);
    (r as any).processDirty();
    await tick(20);
    expect(li.getAttribute('data-veil-status')).toBe('decrypted');
  });

  it('one of two envelopes unanswered: the envelopes come back beside the reason, not two badges', async () => {
    const { doc, deliver } = fixtureChatDom();
    const [e1, e2] = [envelope('s1'), envelope('s2')];
    const decrypt = async (_c: string, items: DecryptItem[]) =>
      items
        .filter((it) => it.texts[0] === e1)
        .map((it) => ({ id: it.id, status: 'decrypted', text: 'w' }) as DecryptedItem);
    const r = new MessageRenderer(doc, fixtureChat, decrypt);
    r.start();
    const m = deliver(`${e1} ${e2}`, 'm');
    await tick(50);
    const t = m.querySelector('.text')!;
    r.stop();
    expect(t.textContent).toContain(e2);
  });

  it('the page edits the words of a message of two envelopes: no Decrypted badge stays beside them', async () => {
    const { doc, deliver } = fixtureChatDom();
    const decrypt = async (_c: string, items: DecryptItem[]) =>
      items.map((it) => ({ id: it.id, status: 'decrypted', text: 'genuine' }) as DecryptedItem);
    const r = new MessageRenderer(doc, fixtureChat, decrypt);
    r.start();
    const m = deliver(`${envelope('a')} ${envelope('b')}`, 'm');
    await tick(20);
    const plain = m.querySelector('.veil-plain')!;
    (plain.firstChild as Text).data = 'FORGED';
    r.refresh(); // what a DOM change makes Veil do (linkedom reports it on the document only)
    await tick(20);
    const t = m.querySelector('.text')!;
    r.stop();
    expect(shownText(t)).not.toContain('FORGED');
  });
});

describe('renderer: the keyring locked while answers are out', () => {
  it('a plaintext decrypted before the lock is not painted after it', async () => {
    const { doc, deliver } = fixtureChatDom();
    let locked = false;
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    let first = true;
    const decrypt = async (_c: string, items: DecryptItem[]) => {
      const wasLocked = locked,
        wait = first;
      first = false;
      if (wait) await gate;
      return items.map(
        (it) =>
          (wasLocked
            ? { id: it.id, status: 'locked' }
            : { id: it.id, status: 'decrypted', text: 'secret', keyId: 'k' }) as DecryptedItem,
      );
    };
    const r = new MessageRenderer(doc, fixtureChat, decrypt);
    r.start();
    const m = deliver(envelope('a'), 'm');
    await tick(10);
    locked = true;
    r.refresh({ all: true }); // keyring locked (content-main: reason 'lock', no keyIds)
    release();
    await tick(50);
    r.stop();
    expect(shownText(m.querySelector('.text')!)).not.toContain('secret');
  });
});
