/**
 * ListenerKeeper: `document.open()` erases every event listener of the document and the window.
 * Node has no document.open(), so the erasure is made by hand here: every listener added to the
 * window is removed at once, as the browser does (the end-to-end cases, in both browsers:
 * test/support/roundtrip-cases.ts documentRewritten, test/support/isolated-cases.ts).
 */
import { describe, expect, it } from 'vitest';
import { ListenerKeeper } from '../../lib/page/listener-keeper';

/** A window whose listeners can all be erased, with a stand-in document. */
function fakeWindow() {
  const target = new EventTarget();
  const added: [string, EventListenerOrEventListenerObject][] = [];
  const win = {
    document: {},
    addEventListener(type: string, fn: EventListenerOrEventListenerObject) {
      added.push([type, fn]);
      target.addEventListener(type, fn);
    },
    dispatchEvent: (e: Event) => target.dispatchEvent(e),
  };
  const eraseAll = () => {
    for (const [type, fn] of added.splice(0)) target.removeEventListener(type, fn);
  };
  return { win: win as unknown as Window, eraseAll, added };
}

function keeperOn(win: Window) {
  const installs: number[] = [];
  let erased = 0;
  const keeper = new ListenerKeeper(win, () => erased++);
  keeper.keep(() => installs.push(1));
  keeper.keep(() => installs.push(2));
  // start() without a MutationObserver: the probe listener only.
  win.addEventListener(
    (keeper as unknown as { probe: string }).probe,
    (keeper as unknown as { onProbe: () => void }).onProbe,
  );
  return { keeper, installs, erased: () => erased };
}

describe('ListenerKeeper', () => {
  it('changes to the document that leave Veil its listeners put nothing back', () => {
    const { win } = fakeWindow();
    const k = keeperOn(win);
    k.keeper.check();
    k.keeper.check();
    expect(k.installs).toEqual([]);
    expect(k.erased()).toBe(0);
  });

  it('once the listeners are erased, every kept install runs again, once, and the user is told', () => {
    const { win, eraseAll, added } = fakeWindow();
    const k = keeperOn(win);
    eraseAll();
    k.keeper.check();
    expect(k.installs).toEqual([1, 2]);
    expect(k.erased()).toBe(1);
    // Its own probe is back too: the next change finds everything in place.
    expect(added).toHaveLength(1);
    k.keeper.check();
    expect(k.installs).toEqual([1, 2]);
    eraseAll(); // a second rewrite
    k.keeper.check();
    expect(k.installs).toEqual([1, 2, 1, 2]);
    expect(k.erased()).toBe(2);
  });

  it('the probe is a type no page knows: a listener of the page for another type does not count', () => {
    const { win, eraseAll } = fakeWindow();
    const k = keeperOn(win);
    eraseAll();
    let pageHeard = 0;
    win.addEventListener('veil-listeners', () => pageHeard++);
    k.keeper.check();
    expect(pageHeard).toBe(0);
    expect(k.installs).toEqual([1, 2]);
  });
});
