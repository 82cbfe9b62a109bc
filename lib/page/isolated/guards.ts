/**
 * Clickjacking and focus-theft checks for secure frames (content script side, issue #6).
 *
 * What the page can do to a frame it cannot read is put something over it or pull the keyboard
 * away from it. Both are caught from events the page cannot forge (isTrusted) and from the
 * browser's own geometry, in Veil's isolated world, where the page's monkey-patches do not reach:
 * - a trusted pointer press in the page at a point inside a secure frame's box means something of
 *   the page's lies over the frame and took the press: an overlay. Veil stops that press.
 * - focus leaving a secure composer for the page without a trusted user gesture in the page is
 *   theft: Veil takes focus back, and swallows key events in the page until the user acts there.
 * - IntersectionObserver v2 (`trackVisibility`) reports a composer frame that is covered or made
 *   transparent, even by an overlay that lets clicks through.
 */
import { t } from '../../i18n';
import type { SecureFrame } from './frame-host';

/** How long after a trusted press or key in the page a focus change counts as the user's own. */
const GESTURE_WINDOW_MS = 800;

export const WARN_OVERLAY = (): string => t('isoWarnOverlay');
export const WARN_FOCUS = (): string => t('isoWarnFocus');
export const WARN_COVERED = (): string => t('isoWarnCovered');

function inside(r: DOMRect, x: number, y: number): boolean {
  return x >= r.left && x < r.right && y >= r.top && y < r.bottom && r.width > 0 && r.height > 0;
}

export interface GuardHooks {
  composer(): SecureFrame | undefined;
  /** The chat's own compose box, which the composer frame covers. */
  hostComposer(): HTMLElement | undefined;
  /** Veil itself moves focus to the chat's composer while sending: not theft. */
  veilBusy(): boolean;
  warn(text: string): void;
}

/** Until isolated mode is known to be on, the guards watch nothing (inline mode never sets hooks). */
const INERT: GuardHooks = {
  composer: () => undefined,
  hostComposer: () => undefined,
  veilBusy: () => false,
  warn: () => undefined,
};

export class FrameGuards {
  private lastGesture = -Infinity;
  /** After a theft, key events in the page are swallowed until the user acts in the page. */
  private shielding = false;
  private covered = false;
  private visibility?: IntersectionObserver;
  private pendingWarning?: string;

  private hooks: GuardHooks = INERT;

  constructor(private readonly win: Window) {}

  /** Isolated mode is on: start guarding these frames. */
  attach(hooks: GuardHooks): void {
    this.hooks = hooks;
  }

  /**
   * Registers every listener at once. Called at document_start, before any page script runs, so
   * the page cannot register capture listeners ahead of Veil's and stop events from reaching them.
   */
  install(): void {
    const w = this.win;
    // Whatever gives the chat's own compose box focus (autofocus, a click beside the overlay, Tab)
    // sends it to the secure composer: nothing should ever be typed into the page here.
    w.addEventListener(
      'focusin',
      (e) => {
        const host = this.hooks.hostComposer();
        if (this.hooks.veilBusy() || !host || !(e.target instanceof Node) || !host.contains(e.target)) return;
        this.refocus();
      },
      true,
    );
    for (const t of ['pointerdown', 'mousedown', 'touchstart'] as const) w.addEventListener(t, this.onPress, true);
    w.addEventListener('keydown', this.onKey, true);
    for (const t of ['keypress', 'keyup', 'compositionstart', 'compositionupdate', 'compositionend'] as const) {
      w.addEventListener(t, this.onShielded, true);
    }
    // Text input events: Veil's own execCommand while sending fires trusted ones the chat must see.
    for (const t of ['beforeinput', 'input'] as const) {
      w.addEventListener(
        t,
        (e) => {
          if (e.isTrusted && this.shielding && !this.hooks.veilBusy()) this.swallow(e);
        },
        true,
      );
    }
    w.addEventListener('focusin', this.onFocusIn, true);
    w.addEventListener('focusout', this.onFocusOut, true);
  }

  /** Watches the composer frame with IntersectionObserver v2 where the browser has it (Chromium). */
  watchComposer(f: SecureFrame): void {
    this.visibility?.disconnect();
    try {
      this.visibility = new IntersectionObserver(
        (entries) => {
          for (const e of entries) {
            const v = (e as IntersectionObserverEntry & { isVisible?: boolean }).isVisible;
            if (v === undefined || !e.isIntersecting) continue;
            this.covered = !v;
            if (!v) this.raise(WARN_COVERED());
          }
        },
        { trackVisibility: true, delay: 200 } as IntersectionObserverInit,
      );
      this.visibility.observe(f.iframe);
    } catch {
      this.visibility = undefined; // no v2 here: the press and focus checks still run
    }
  }

  /** Called when a frame reports focus or a press inside it: any warning it should show. */
  check(handle: string): string | undefined {
    const f = this.hooks.composer();
    if (f?.handle === handle && this.occludedAt(f)) this.raise(WARN_OVERLAY());
    if (f?.handle === handle && this.covered) this.raise(WARN_COVERED());
    const w = this.pendingWarning;
    this.pendingWarning = undefined;
    return w;
  }

  private raise(text: string): void {
    this.pendingWarning = text;
    this.hooks.warn(text);
  }

  /** True when, at some sample point of the frame's box, the topmost element is not the frame. */
  private occludedAt(f: SecureFrame): boolean {
    const r = f.iframe.getBoundingClientRect();
    const doc = this.win.document;
    const xs = [r.left + 3, r.left + r.width / 2, r.right - 3];
    const ys = [r.top + 3, r.top + r.height / 2, r.bottom - 3];
    for (const x of xs)
      for (const y of ys) {
        if (x < 0 || y < 0 || x >= this.win.innerWidth || y >= this.win.innerHeight) continue;
        const top = doc.elementFromPoint(x, y);
        if (top !== f.host || f.shadow.elementFromPoint(x, y) !== f.iframe) return true;
      }
    return false;
  }

  private onPress = (e: Event): void => {
    if (!e.isTrusted) return;
    const p = e as PointerEvent & TouchEvent;
    const x = p.clientX ?? p.touches?.[0]?.clientX;
    const y = p.clientY ?? p.touches?.[0]?.clientY;
    if (x !== undefined && y !== undefined) {
      // Only the composer: a reader may lie partly under the chat's sticky header, which is fine.
      const f = this.hooks.composer();
      const hostBox = this.hooks.hostComposer();
      const path = e.composedPath();
      // A press on the chat's own box itself is only the frame lagging behind a layout change.
      if (f && !path.includes(f.host) && !(hostBox && path.includes(hostBox))) {
        // The press reached the page although it fell where the secure composer is (or is about
        // to be, after a layout change): something of the page's covers it.
        if (
          inside(f.iframe.getBoundingClientRect(), x, y) ||
          (hostBox && inside(hostBox.getBoundingClientRect(), x, y))
        ) {
          e.preventDefault();
          e.stopImmediatePropagation();
          this.raise(WARN_OVERLAY());
          return;
        }
      }
    }
    this.lastGesture = performance.now();
    this.shielding = false;
  };

  private onKey = (e: KeyboardEvent): void => {
    if (!e.isTrusted) return;
    if (this.shielding || this.hooks.veilBusy()) {
      this.swallow(e);
      this.refocus();
      return;
    }
    this.lastGesture = performance.now();
  };

  private onShielded = (e: Event): void => {
    if (e.isTrusted && (this.shielding || this.hooks.veilBusy())) this.swallow(e);
  };

  private swallow(e: Event): void {
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  /** What last had focus in the page (a focusin into the composer frame targets its host element). */
  private lastFocused: EventTarget | null = null;

  private onFocusOut = (e: FocusEvent): void => {
    const c = this.hooks.composer();
    if (!c || e.target !== c.host || e.relatedTarget || this.hooks.veilBusy()) return;
    // Focus to nowhere (the page called blur()): key events would then reach the page's document.
    setTimeout(() => {
      const doc = this.win.document;
      if (doc.hasFocus() && (doc.activeElement === doc.body || doc.activeElement === null) && !this.userMoved())
        this.theft();
    }, 0);
  };

  private onFocusIn = (e: FocusEvent): void => {
    const c = this.hooks.composer();
    const prev = this.lastFocused;
    this.lastFocused = e.target;
    if (!c || e.target === c.host || this.hooks.veilBusy()) return;
    if (prev === c.host && !this.userMoved()) this.theft();
  };

  private userMoved(): boolean {
    return performance.now() - this.lastGesture < GESTURE_WINDOW_MS;
  }

  private theft(): void {
    this.shielding = true;
    this.refocus();
    this.raise(WARN_FOCUS());
  }

  refocus(): void {
    this.hooks.composer()?.iframe.focus();
  }
}
