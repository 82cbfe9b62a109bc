/**
 * The line Veil shows under a protected chat's compose box: which key will encrypt, what Veil
 * is doing, and, when a send is blocked, why and the fix (a button: "Unlock Veil", "Open Veil
 * options", "Copy a request for IT"). Text only; the page may read it (it holds no secret).
 */
export type ComposerState = 'starting' | 'ready' | 'busy' | 'error';

/** The one thing the user can do about a blocked send, offered as a button on the line. */
export interface ComposerAction {
  label: string;
  run(button: HTMLButtonElement): void | Promise<void>;
  /** Offers text Veil is keeping for the user (a send that failed and a box that refused it back). */
  keepsText?: boolean;
}

export class ComposerStatus {
  private el?: HTMLElement;
  private later?: ReturnType<typeof setTimeout>;
  private kept: ComposerAction[] = [];

  constructor(private readonly doc: Document) {}

  /** The line was shown and the page removed it with its box (an edit box closing after its save). */
  orphaned(): boolean {
    return !!this.el && !this.el.isConnected;
  }

  /** Whether the line is on the page and says `text` now. */
  shows(text: string): boolean {
    return !!this.el?.isConnected && this.el.querySelector('.veil-composer-text')?.textContent === text;
  }

  /** Places the status line right after the composer's form (or the composer itself). */
  attach(composer: HTMLElement): void {
    const anchor = composer.closest('form') ?? composer;
    if (this.el?.isConnected && this.el.previousElementSibling === anchor) return;
    this.el ??= this.doc.createElement('div');
    this.el.className = 'veil-composer-status';
    this.el.setAttribute('aria-live', 'polite');
    anchor.after(this.el);
  }

  /**
   * Shows `text` only if nothing else is shown within `ms`. A send usually finishes well within a
   * frame or two: writing "Encrypting…" at once would cost the page a rendering update before the
   * envelope can go in (the send then waits for a second one), and flicker.
   */
  showAfter(ms: number, state: ComposerState, text: string): void {
    this.cancel();
    this.later = setTimeout(() => this.show(state, text), ms);
  }

  /** Drops what `showAfter` would show. */
  cancel(): void {
    clearTimeout(this.later);
    this.later = undefined;
  }

  /** `action`: one fix, or several (a send whose text Veil kept offers "Copy" and "Put it back"). */
  show(state: ComposerState, text: string, action?: ComposerAction | ComposerAction[]): void {
    this.cancel();
    if (!this.el) return;
    this.el.dataset.state = state;
    this.el.setAttribute('role', state === 'error' ? 'alert' : 'status');
    const line = this.doc.createElement('span');
    line.className = 'veil-composer-text';
    line.textContent = text;
    const given = action === undefined ? [] : Array.isArray(action) ? action : [action];
    if (given.some((a) => a.keepsText)) this.kept = given.filter((a) => a.keepsText);
    // Text Veil keeps for the user stays offered under every later line (another failure, a lock,
    // the page rewriting itself, a new key line) until `release`; not while a send runs, where
    // putting it back would mix it into the text being sent.
    const kept = state === 'busy' || given.some((a) => a.keepsText) ? [] : this.kept;
    const actions = [...given, ...kept];
    this.el.replaceChildren(line, ...actions.flatMap((a) => [' ', this.button(a)]));
  }

  /** The kept text is back with the user (put back, or a send went out): no longer offered. */
  release(): void {
    this.kept = [];
  }

  private button(action: ComposerAction): HTMLButtonElement {
    const button = this.doc.createElement('button');
    button.type = 'button';
    button.className = 'veil-composer-action';
    button.textContent = action.label;
    button.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation();
      // The page can click() any element it sees: only the user's own click opens or copies anything.
      if (!e.isTrusted) return;
      void action.run(button);
    });
    return button;
  }

  /** True for Veil's own line and its button: the send guard never treats a click there as a send. */
  owns(target: EventTarget | null): boolean {
    return !!this.el && target instanceof Node && this.el.contains(target);
  }

  get state(): ComposerState | undefined {
    return this.el?.dataset.state as ComposerState | undefined;
  }
}
