/**
 * Typing that must never reach the chat page in isolated mode, and must never be lost.
 *
 * Installed at document_start, before any page script, in Veil's isolated world. Until Veil knows
 * the site's mode (and for good when it cannot find out) every trusted keystroke, text input,
 * paste and drop aimed at an editable field of the page is swallowed and held: the page's own
 * listeners never see it. Then:
 * - isolated mode: what the user typed into the chat's compose box (or with nothing focused, or
 *   while the page held the keyboard, or while Veil was putting an envelope in) is held until
 *   Veil's secure composer takes it over the background's channel (never through the page's DOM);
 * - any other mode: the held text is typed back where it was aimed, and the shield stands down.
 *
 * Holding the text here is no new exposure: these events happened in the page's document, and
 * only Veil's isolated world saw them.
 */

import type { HeldTyping } from '../../messaging/protocol';

export type ShieldMode = 'starting' | 'isolated' | 'off';

export interface ShieldHooks {
  /** The chat's own compose box, or inside it. */
  isHostComposer(el: Element): boolean;
  /** Veil itself is typing an envelope into the page: its own input events must pass. */
  veilBusy(): boolean;
  /** After a focus theft, every key in the page is held until the user acts there. */
  shielding(): boolean;
  /** Typing was held in isolated mode: hand the keyboard back to the secure composer. */
  redirect(): void;
}

/** More than anyone types before a frame loads; beyond it keys are swallowed, not kept. */
const MAX_HELD_CHARS = 20_000;

interface Held {
  target: Element | null;
  /**
   * Each key (or paste, drop, IME commit) with its own time: focus can go to the secure composer
   * and back between two keys, and the composer puts each where it was typed (see HeldTyping).
   */
  keys: HeldTyping[];
  /** False for IME text the browser already committed into the field itself. */
  replay: boolean;
}

const TEXT_INPUT_TYPES = new Set(['insertText', 'insertReplacementText', 'insertFromDrop', 'insertFromPaste']);

export function isEditable(t: EventTarget | null): t is HTMLElement {
  if (t instanceof HTMLTextAreaElement) return true;
  if (t instanceof HTMLInputElement)
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'image', 'range', 'color'].includes(t.type);
  return t instanceof HTMLElement && t.isContentEditable;
}

/** The text a keydown would type, '\b' for Backspace, or undefined (shortcuts, navigation). */
function textOf(e: KeyboardEvent): string | undefined {
  if (e.isComposing || e.keyCode === 229) return undefined;
  if (e.metaKey || (e.ctrlKey && !e.altKey)) return undefined; // Ctrl+V & co. come as their own events
  if (e.key === 'Enter') return e.shiftKey ? '\n' : undefined; // a send before the frame exists: not guessed
  if (e.key === 'Backspace') return '\b';
  return [...e.key].length === 1 ? e.key : undefined;
}

export class TypingShield {
  mode: ShieldMode = 'starting';
  private held: Held[] = [];
  private heldChars = 0;

  constructor(
    private readonly win: Window,
    private readonly hooks: ShieldHooks,
  ) {}

  install(): void {
    const w = this.win;
    for (const t of ['keydown', 'keypress', 'keyup'] as const) w.addEventListener(t, this.onKey, true);
    for (const t of ['beforeinput', 'input'] as const) w.addEventListener(t, this.onInput, true);
    for (const t of ['compositionstart', 'compositionupdate', 'compositionend'] as const)
      w.addEventListener(t, this.onComposition, true);
    w.addEventListener('paste', this.onTransfer, true);
    w.addEventListener('drop', this.onTransfer, true);
  }

  /** True while typed text waits for the secure composer. */
  holding(): boolean {
    return this.held.length > 0;
  }

  /** Isolated mode: everything held, in order and with its time, for the secure composer; the shield forgets it. */
  take(): HeldTyping[] {
    const typed = this.held.flatMap((h) => h.keys);
    this.held = [];
    this.heldChars = 0;
    return typed;
  }

  /** Not isolated: type back what was held where it was aimed, and let typing through from now on. */
  standDown(): void {
    if (this.mode === 'off') return;
    this.mode = 'off';
    const held = this.held;
    this.held = [];
    this.heldChars = 0;
    for (const h of held) {
      const text = h.keys.map((k) => k.text).join('');
      if (!h.replay || !text || !isEditable(h.target) || !h.target.isConnected) continue;
      h.target.focus();
      // execCommand keeps the page's editor state and undo stack in step, as the user's typing would.
      if (!h.target.ownerDocument.execCommand('insertText', false, text)) console.warn('Veil: could not retype');
    }
  }

  /** Should this event, aimed at `target`, be kept from the page? */
  private aimed(target: EventTarget | null, typesText: boolean): boolean {
    if (this.mode === 'off') return false;
    const el = target instanceof Element ? target : null;
    if (this.mode === 'starting') return isEditable(el) || typesText;
    // A key event aimed at Veil's frame element was delivered to the page's document (focus was
    // moving into the frame): it is the user's typing all the same.
    if (this.hooks.shielding() || this.hooks.veilBusy() || el?.localName === 'veil-secure-frame') return true;
    // With nothing (or no field) focused, printable keys would reach the page's shortcuts or its
    // "type anywhere" handler: in a protected chat they belong in the secure composer.
    return (!!el && this.hooks.isHostComposer(el)) || (typesText && !isEditable(el));
  }

  private swallow(e: Event, cancel: boolean): void {
    if (cancel && e.cancelable) e.preventDefault();
    e.stopImmediatePropagation();
  }

  private hold(e: Event, text: string, replay = true): void {
    const el = e.target instanceof Element ? e.target : null;
    const last = this.held.at(-1);
    if (text === '\b') {
      const key = last?.replay ? last.keys.at(-1) : undefined;
      if (key) {
        const before = key.text.length;
        key.text = [...key.text].slice(0, -1).join(''); // one character, even one of two UTF-16 units
        this.heldChars -= before - key.text.length;
        if (!key.text) last!.keys.pop();
        if (!last!.keys.length) this.held.pop();
      }
      return;
    }
    if (!text || this.heldChars + text.length > MAX_HELD_CHARS) return;
    const key = { text, at: this.win.performance.timeOrigin + e.timeStamp };
    if (last && last.target === el && last.replay === replay) last.keys.push(key);
    else this.held.push({ target: el, keys: [key], replay });
    this.heldChars += text.length;
  }

  private afterHold(): void {
    if (this.mode === 'isolated') this.hooks.redirect();
  }

  private onKey = (e: KeyboardEvent): void => {
    if (!e.isTrusted || e.key === 'Tab') return; // Tab moves focus; it types nothing
    const text = textOf(e);
    if (!this.aimed(e.target, text !== undefined && text !== '\b')) return;
    this.swallow(e, text !== undefined || e.key === 'Enter');
    if (e.type !== 'keydown') return;
    if (text !== undefined) this.hold(e, text);
    this.afterHold();
  };

  private onInput = (e: Event): void => {
    // Veil's own execCommand while it sends fires trusted input events the chat must see.
    if (!e.isTrusted || (this.mode === 'isolated' && this.hooks.veilBusy())) return;
    const ie = e as InputEvent;
    if (!this.aimed(e.target, false)) return;
    const typed = e.type === 'beforeinput' && TEXT_INPUT_TYPES.has(ie.inputType);
    this.swallow(e, typed);
    if (typed) {
      this.hold(e, ie.data ?? ie.dataTransfer?.getData('text/plain') ?? '');
      this.afterHold();
    }
  };

  private onComposition = (e: CompositionEvent): void => {
    if (!e.isTrusted || !this.aimed(e.target, false)) return;
    this.swallow(e, false);
    // An IME writes into the focused field itself; moving focus ends the composition there.
    if (e.type === 'compositionstart') this.afterHold();
    if (e.type === 'compositionend') {
      this.hold(e, e.data ?? '', false);
      this.afterHold();
    }
  };

  private onTransfer = (e: Event): void => {
    if (!e.isTrusted || !this.aimed(e.target, false)) return;
    const data = (e as ClipboardEvent).clipboardData ?? (e as DragEvent).dataTransfer;
    this.swallow(e, true);
    this.hold(e, data?.getData('text/plain') ?? '');
    this.afterHold();
  };
}
