/**
 * The line Veil shows under a protected chat's compose box: which key will encrypt, what Veil
 * is doing, and, when a send is blocked, why. Text only; the page may read it (it holds no secret).
 */
export type ComposerState = 'starting' | 'ready' | 'busy' | 'error';

export class ComposerStatus {
  private el?: HTMLElement;

  constructor(private readonly doc: Document) {}

  /** Places the status line right after the composer's form (or the composer itself). */
  attach(composer: HTMLElement): void {
    const anchor = composer.closest('form') ?? composer;
    if (this.el?.isConnected && this.el.previousElementSibling === anchor) return;
    this.el ??= this.doc.createElement('div');
    this.el.className = 'veil-composer-status';
    this.el.setAttribute('aria-live', 'polite');
    anchor.after(this.el);
  }

  show(state: ComposerState, text: string): void {
    if (!this.el) return;
    this.el.dataset.state = state;
    this.el.setAttribute('role', state === 'error' ? 'alert' : 'status');
    this.el.textContent = text;
  }

  get state(): ComposerState | undefined {
    return this.el?.dataset.state as ComposerState | undefined;
  }
}
