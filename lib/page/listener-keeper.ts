/**
 * Keeps Veil's event listeners on a page that calls `document.open()`. The HTML standard has it
 * erase every event listener of the document, its nodes and the window: Veil's too (registered
 * from its own world, they still live on the page's objects), while Veil's observers and its
 * one-per-document mark survive, so Veil would run on without its send guard or isolated mode's
 * typing and focus guards, and would not be injected again.
 *
 * The document loses its children when that happens, which a childList observer on the document
 * sees at the end of the page's task, before any user event of the new document is dispatched
 * (events are tasks of their own). A probe event then tells whether Veil's listeners are gone,
 * and they are put back at once. Page listeners that the same task put on the window's capture
 * phase still run before Veil's, so the user is told to reload the page.
 */
export class ListenerKeeper {
  /** A type no page code knows: only Veil's own listener hears it. */
  private readonly probe = `veil-listeners-${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16)).join('')}`;
  private heard = false;
  private readonly installs: (() => void)[] = [];
  private readonly onProbe = (): void => {
    this.heard = true;
  };

  constructor(
    private readonly win: Window,
    private readonly onErased: () => void,
  ) {}

  /** `install` (which adds listeners) runs again whenever the page erased Veil's listeners. */
  keep(install: () => void): void {
    this.installs.push(install);
  }

  start(): void {
    this.win.addEventListener(this.probe, this.onProbe);
    new MutationObserver(() => this.check()).observe(this.win.document, { childList: true });
  }

  /** Puts every kept listener back if the probe's listener is gone (then theirs are too). */
  check(): void {
    this.heard = false;
    this.win.dispatchEvent(new Event(this.probe));
    if (this.heard) return;
    this.win.addEventListener(this.probe, this.onProbe);
    for (const install of this.installs) install();
    this.onErased();
  }
}
