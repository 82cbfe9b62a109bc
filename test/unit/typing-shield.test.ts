/**
 * The typing shield holds keys aimed at the chat's box while Veil starts. Focus can move into the
 * secure composer and back between two keys (the chat refocusing its box): the held keys must keep
 * their own times, or the composer puts a key typed after one in the frame before it
 * ("Huckleberry" arriving as "Hucklbeerry").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TypingLog } from '../../lib/frames/typing-log';

// The shield checks targets with DOM classes; node has none, so a minimal stand-in.
class FakeElement {}
class FakeHTMLElement extends FakeElement {
  isContentEditable = false;
}
class FakeTextArea extends FakeHTMLElement {}
class FakeInput extends FakeHTMLElement {
  type = 'text';
}
const globals = {
  Element: FakeElement,
  HTMLElement: FakeHTMLElement,
  HTMLTextAreaElement: FakeTextArea,
  HTMLInputElement: FakeInput,
};

type Listener = (e: unknown) => void;

function fakeWindow() {
  const listeners = new Map<string, Listener[]>();
  return {
    performance: { timeOrigin: 1_000_000 },
    addEventListener(type: string, fn: Listener) {
      listeners.set(type, [...(listeners.get(type) ?? []), fn]);
    },
    key(target: unknown, key: string, timeStamp: number) {
      for (const type of ['keydown', 'keyup']) {
        const e = { type, key, target, timeStamp, isTrusted: true, cancelable: true, keyCode: 0 };
        for (const fn of listeners.get(type) ?? [])
          fn({ ...e, preventDefault() {}, stopImmediatePropagation() {}, isComposing: false });
      }
    },
  };
}

describe('the typing shield', () => {
  beforeAll(() => Object.assign(globalThis, globals));
  afterAll(() => {
    for (const k of Object.keys(globals)) delete (globalThis as Record<string, unknown>)[k];
  });

  async function shieldOn(win: ReturnType<typeof fakeWindow>) {
    const { TypingShield } = await import('../../lib/page/isolated/typing-shield');
    const shield = new TypingShield(win as unknown as Window, {
      isHostComposer: () => true,
      veilBusy: () => false,
      shielding: () => false,
      redirect: () => undefined,
    });
    shield.install();
    return shield;
  }

  it('keeps each held key with its own time, so keys typed in the frame between them stay in order', async () => {
    const win = fakeWindow();
    const shield = await shieldOn(win);
    const box = new FakeTextArea();
    [...'Huckl'].forEach((k, i) => win.key(box, k, 1 + i)); // the chat's box, focused at load
    const frame = new TypingLog(win);
    frame.record({ timeStamp: 6 }, 0); // "e" went into the secure composer...
    let typed = 'e';
    win.key(box, 'b', 7); // ...and the chat took focus back for "b"
    [...'erry'].forEach((k, i) => {
      frame.record({ timeStamp: 10 + i }, typed.length);
      typed += k;
    });
    expect(frame.place(typed, shield.take()).box).toBe('Huckleberry');
    expect(shield.holding()).toBe(false);
  });

  it('takes Backspace off the last held key, and holds nothing past it', async () => {
    const win = fakeWindow();
    const shield = await shieldOn(win);
    const box = new FakeTextArea();
    win.key(box, 'a', 1);
    win.key(box, 'b', 2);
    win.key(box, 'Backspace', 3);
    win.key(box, 'Backspace', 4);
    win.key(box, 'Backspace', 5);
    expect(shield.holding()).toBe(false);
    win.key(box, 'c', 6);
    expect(shield.take()).toEqual([{ text: 'c', at: 1_000_006 }]);
  });
});
