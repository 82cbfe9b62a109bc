/**
 * The line under the compose box: "Encrypting…" is held back so a quick send never shows it (and
 * never costs the page a rendering update of its own), and whatever Veil says next replaces it.
 */
import { parseHTML } from 'linkedom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComposerStatus } from '../../lib/page/composer-status';

function line() {
  const { document } = parseHTML('<form><textarea id="compose"></textarea></form>');
  const status = new ComposerStatus(document as unknown as Document);
  status.attach(document.querySelector('#compose') as unknown as HTMLElement);
  const el = () => document.querySelector('.veil-composer-status') as unknown as HTMLElement;
  return {
    status,
    text: () => el().textContent,
    state: () => el().dataset.state,
    document: () => document as unknown as Document,
  };
}

describe('composer status line', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows a held-back line once its time has passed and nothing else was said', () => {
    const { status, text, state } = line();
    status.show('ready', 'key k1');
    status.showAfter(150, 'busy', 'Encrypting…');
    vi.advanceTimersByTime(149);
    expect([state(), text()]).toEqual(['ready', 'key k1']);
    vi.advanceTimersByTime(1);
    expect([state(), text()]).toEqual(['busy', 'Encrypting…']);
  });

  it('a line shown first replaces the held-back one for good', () => {
    const { status, text, state } = line();
    status.showAfter(150, 'busy', 'Encrypting…');
    status.show('busy', 'Sending encrypted…');
    status.show('ready', 'Sent encrypted');
    vi.advanceTimersByTime(1_000);
    expect([state(), text()]).toEqual(['ready', 'Sent encrypted']);
  });

  it('cancel drops it, and a second hold replaces the first', () => {
    const { status, text } = line();
    status.show('ready', 'key k1');
    status.showAfter(150, 'busy', 'first');
    status.cancel();
    vi.advanceTimersByTime(1_000);
    expect(text()).toBe('key k1');
    status.showAfter(100, 'busy', 'first');
    status.showAfter(100, 'busy', 'second');
    vi.advanceTimersByTime(100);
    expect(text()).toBe('second');
  });

  it('text Veil keeps stays offered under every later line until released; not while a send runs', () => {
    const { status, text, document } = line();
    const buttons = () => [...document().querySelectorAll('.veil-composer-action')].map((b) => b.textContent);
    const kept = [
      { label: 'Copy text', keepsText: true, run: () => undefined },
      { label: 'Put it back', keepsText: true, run: () => undefined },
    ];
    status.show('error', 'Not sent; Veil is keeping it', kept);
    status.show('error', 'This page rewrote itself; reload');
    expect([text(), buttons()]).toEqual([
      'This page rewrote itself; reload Copy text Put it back',
      ['Copy text', 'Put it back'],
    ]);
    status.show('error', 'Veil is locked', { label: 'Unlock Veil', run: () => undefined });
    expect(buttons()).toEqual(['Unlock Veil', 'Copy text', 'Put it back']);
    status.show('ready', 'Encrypted with key k1'); // the page re-rendered its compose box
    expect(buttons()).toEqual(['Copy text', 'Put it back']);
    status.show('busy', 'Encrypting…');
    expect(buttons()).toEqual([]);
    status.show('error', 'Not sent; your text is back in the box');
    expect(buttons()).toEqual(['Copy text', 'Put it back']);
    status.release();
    status.show('ready', 'Your text is back in the compose box');
    expect(buttons()).toEqual([]);
    status.show('error', 'Not sent');
    expect(buttons()).toEqual([]);
  });
});
