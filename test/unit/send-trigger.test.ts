/**
 * The send guard's decision table (lib/page/send-trigger.ts): only the user's own input sends,
 * nothing a chat could send on reaches it from a box Veil encrypts for or does not know, and
 * normal typing is left alone. test/e2e/hostile-inline.test.ts plays the same attacks in Chromium.
 */
import { describe, expect, it } from 'vitest';
import { mayTrigger, verdict, type Place, type Trigger } from '../../lib/page/send-trigger';

const ev = (type: string, place: Place, over: Partial<Trigger> = {}): Trigger => ({
  type,
  place,
  trusted: true,
  enter: false,
  space: false,
  shift: false,
  composing: false,
  ...over,
});
const enter = (type: string, place: Place, over: Partial<Trigger> = {}) => ev(type, place, { enter: true, ...over });

describe('send trigger verdicts', () => {
  it('only a trusted Enter keydown or click on Send starts a send', () => {
    expect(verdict(enter('keydown', 'composer'))).toBe('send');
    expect(verdict(ev('click', 'send-button'))).toBe('send');
    expect(verdict(ev('beforeinput', 'composer', { inputType: 'insertParagraph' }))).toBe('send');
    for (const t of [
      enter('keydown', 'composer'),
      ev('click', 'send-button'),
      ev('submit', 'composer-form'),
      ev('beforeinput', 'composer', { inputType: 'insertParagraph' }),
      enter('keydown', 'send-button'),
    ]) {
      expect(verdict({ ...t, trusted: false }), t.type).toBe('untrusted');
    }
  });

  it('swallows every other scripted trigger quietly: keypress, keyup, presses on Send, input line breaks', () => {
    const scripted = [
      enter('keypress', 'composer'),
      enter('keyup', 'composer'),
      enter('keyup', 'composer', { shift: true }),
      enter('keydown', 'composer', { composing: true }),
      ev('input', 'composer', { inputType: 'insertLineBreak' }),
      ...['mousedown', 'mouseup', 'pointerdown', 'pointerup', 'touchstart', 'touchend'].map((t) =>
        ev(t, 'send-button'),
      ),
    ].map((t) => ({ ...t, trusted: false }));
    for (const t of scripted) expect(['swallow', 'untrusted']).toContain(verdict(t));
    expect(verdict({ ...enter('keydown', 'composer', { shift: true }), trusted: false })).toBe('untrusted');
  });

  it("hides what the chat could send on but lets the user's action complete", () => {
    // The press becomes the click that sends; the composing Enter commits the IME's text.
    for (const t of ['mousedown', 'pointerdown', 'pointerup', 'touchend']) {
      expect(verdict(ev(t, 'send-button'))).toBe('hide');
    }
    expect(verdict(enter('keydown', 'composer', { composing: true }))).toBe('hide');
    expect(verdict(enter('keydown', 'send-button'))).toBe('hide');
    expect(verdict(ev('keydown', 'send-button', { space: true }))).toBe('hide');
    // The rest of an Enter Veil already handled reaches no one.
    expect(verdict(enter('keypress', 'composer'))).toBe('swallow');
    expect(verdict(enter('keyup', 'composer'))).toBe('swallow');
    expect(verdict(enter('keyup', 'composer', { shift: true }))).toBe('swallow');
    expect(verdict(ev('submit', 'composer-form'))).toBe('swallow');
  });

  it('leaves normal typing alone', () => {
    expect(verdict(ev('keydown', 'composer'))).toBe('pass'); // any other key
    expect(verdict(enter('keydown', 'composer', { shift: true }))).toBe('pass'); // newline
    expect(verdict(enter('keypress', 'composer', { shift: true }))).toBe('pass'); // Chromium inserts it here
    expect(verdict(ev('beforeinput', 'composer', { inputType: 'insertLineBreak' }))).toBe('pass');
    expect(verdict(ev('beforeinput', 'composer', { inputType: 'insertText' }))).toBe('pass');
    expect(verdict(ev('click', 'elsewhere'))).toBe('pass');
    expect(verdict(ev('mousedown', 'composer'))).toBe('pass');
    expect(verdict(enter('keydown', 'elsewhere'))).toBe('pass'); // a search field
    expect(verdict(ev('submit', 'elsewhere'))).toBe('pass');
    // Veil's own composer strategies dispatch scripted insertText and input events.
    expect(verdict(ev('beforeinput', 'composer', { trusted: false, inputType: 'insertText' }))).toBe('pass');
    expect(verdict(ev('input', 'composer', { trusted: false, inputType: 'insertReplacementText' }))).toBe('pass');
  });

  it('blocks the send from a box the adapter does not declare, typing there still works', () => {
    expect(verdict(enter('keydown', 'undeclared-editable'))).toBe('undeclared');
    expect(verdict(ev('beforeinput', 'undeclared-editable', { inputType: 'insertParagraph' }))).toBe('undeclared');
    expect(verdict(ev('submit', 'undeclared-form'))).toBe('undeclared');
    expect(verdict({ ...enter('keydown', 'undeclared-editable'), trusted: false })).toBe('untrusted');
    expect(verdict(enter('keyup', 'undeclared-editable'))).toBe('swallow');
    expect(verdict(enter('keydown', 'undeclared-editable', { shift: true }))).toBe('pass');
    expect(verdict(enter('keydown', 'undeclared-editable', { composing: true }))).toBe('hide');
    expect(verdict(ev('keydown', 'undeclared-editable'))).toBe('pass');
  });

  it('the cheap pre-check lets through exactly what can never be a trigger', () => {
    const { place: _place, ...typing } = ev('keydown', 'composer');
    expect(mayTrigger(typing)).toBe(false);
    expect(mayTrigger({ ...typing, enter: true })).toBe(true);
    expect(mayTrigger({ ...typing, type: 'beforeinput', inputType: 'insertText' })).toBe(false);
    expect(mayTrigger({ ...typing, type: 'beforeinput', inputType: 'insertParagraph' })).toBe(true);
    expect(mayTrigger({ ...typing, type: 'pointerdown' })).toBe(true);
  });
});
