/**
 * What the send guard does with one event on a protected page: the decision table, kept free of
 * the DOM so every row can be tested (test/unit/send-trigger.test.ts).
 *
 * Two rules shape it. Only the user's own input (event.isTrusted) may start an encryption: the
 * page can script any event, and in inline mode it can also write the compose box, so an encrypt
 * on a scripted event would sign text the user never sent. And no trigger a chat might send on
 * (any Enter, the send button's pointer events, submit, an Enter `beforeinput`) may reach the
 * page from a box Veil encrypts for, or from a box it does not know: the chat would send
 * plaintext. Veil itself later triggers the chat's send with the envelope in the box.
 */

/** Where the event happened, as the adapter describes the page. */
export type Place =
  /** The compose box the adapter declares. */
  | 'composer'
  /** The adapter's send button (or, before Veil knows the page, anything button-like). */
  | 'send-button'
  /** A form holding the composer. */
  | 'composer-form'
  /** A box one can type a message into that the adapter does not declare (edit box, thread reply). */
  | 'undeclared-editable'
  /** A form holding an undeclared box. */
  | 'undeclared-form'
  /** Anything else: search fields, links, the message list. */
  | 'elsewhere';

export interface Trigger {
  type: string;
  trusted: boolean;
  place: Place;
  /** The key is Enter by any of key, code or keyCode. */
  enter: boolean;
  /** Space, which presses a focused button. */
  space: boolean;
  shift: boolean;
  /** An IME is composing (isComposing, or Chromium's keyCode 229): Enter commits its text. */
  composing: boolean;
  /** For beforeinput/input. */
  inputType?: string;
}

export type Verdict =
  /** Not a send: untouched. */
  | 'pass'
  /** The user sends: swallowed, and Veil encrypts and sends. */
  | 'send'
  /**
   * Part of a user action whose default must happen (the press that becomes a click on Send, the
   * Enter that commits an IME's text) but that the page must not see: a chat could send on it.
   */
  | 'hide'
  /** A send trigger that sends nothing, quietly (the rest of a key press Veil already handles). */
  | 'swallow'
  /** A send trigger the page scripted: swallowed, and the user is told. */
  | 'untrusted'
  /** The user's send from a box Veil cannot encrypt from: swallowed, and the user is told. */
  | 'undeclared';

const KEYS = new Set(['keydown', 'keypress', 'keyup']);
const PRESSES = new Set(['mousedown', 'mouseup', 'pointerdown', 'pointerup', 'touchstart', 'touchend']);
const LINE_BREAKS = new Set(['insertParagraph', 'insertLineBreak']);

/** The event types the guard listens to (window, capture phase). */
export const GUARDED_EVENTS = [...KEYS, ...PRESSES, 'click', 'submit', 'beforeinput', 'input'] as const;

/** The user is told only once per scripted attempt: on the event that would have sent. */
const loudType = (type: string) => ['keydown', 'click', 'submit', 'beforeinput'].includes(type);

function inBox(e: Trigger): Verdict {
  const declared = e.place === 'composer';
  if (KEYS.has(e.type)) {
    if (!e.enter) return 'pass';
    if (!e.trusted) return loudType(e.type) ? 'untrusted' : 'swallow';
    // keyup has no default; a chat sending on it would see Shift already released.
    if (e.type === 'keyup') return 'swallow';
    if (e.composing) return 'hide'; // the IME commits its text; the chat must not take it for a send
    if (e.shift) return 'pass'; // a new line (Chromium inserts it as keypress's default)
    if (e.type === 'keypress') return 'swallow'; // keydown already decided
    return declared ? 'send' : 'undeclared';
  }
  if ((e.type === 'beforeinput' || e.type === 'input') && e.inputType && LINE_BREAKS.has(e.inputType)) {
    if (!e.trusted) return loudType(e.type) ? 'untrusted' : 'swallow';
    // A real Enter without a key event Veil could read (virtual keyboards): a send. Line breaks
    // (Shift+Enter, Enter in a textarea) and the input that follows an allowed edit stay as typed.
    if (e.type === 'beforeinput' && e.inputType === 'insertParagraph') return declared ? 'send' : 'undeclared';
    return 'pass';
  }
  return 'pass';
}

function onButton(e: Trigger): Verdict {
  if (e.type === 'click') return e.trusted ? 'send' : 'untrusted';
  if (PRESSES.has(e.type)) return e.trusted ? 'hide' : 'swallow';
  // Enter or Space on a focused send button: its default is the click that sends.
  if (KEYS.has(e.type) && (e.enter || e.space)) return e.trusted ? 'hide' : loudType(e.type) ? 'untrusted' : 'swallow';
  return 'pass';
}

/**
 * Cheap check before the guard looks where the event happened: typing characters and other
 * edits are never a send trigger.
 */
export function mayTrigger(e: Omit<Trigger, 'place'>): boolean {
  if (KEYS.has(e.type)) return e.enter || e.space;
  if (e.type === 'beforeinput' || e.type === 'input') return !!e.inputType && LINE_BREAKS.has(e.inputType);
  return true;
}

export function verdict(e: Trigger): Verdict {
  switch (e.place) {
    case 'composer':
    case 'undeclared-editable':
      return inBox(e);
    case 'send-button':
      return onButton(e);
    case 'composer-form':
      if (e.type !== 'submit') return 'pass';
      // Veil sends by its own path: a submit reaching the chat would send the box as it is.
      return e.trusted ? 'swallow' : 'untrusted';
    case 'undeclared-form':
      if (e.type !== 'submit') return 'pass';
      return e.trusted ? 'undeclared' : 'untrusted';
    case 'elsewhere':
      return 'pass';
  }
}
