/**
 * Clickjacking and focus-theft checks for secure frames (content script side).
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
import type { HeldTyping } from '../../messaging/protocol';
import type { SecureFrame } from './frame-host';
import { isEditable, TypingShield } from './typing-shield';

/** How long after a trusted press or key in the page a focus change counts as the user's own. */
const GESTURE_WINDOW_MS = 800;

export const WARN_OVERLAY = (): string => t('isoWarnOverlay');
export const WARN_FOCUS = (): string => t('isoWarnFocus');
export const WARN_COVERED = (): string => t('isoWarnCovered');

function inside(r: DOMRect, x: number, y: number): boolean {
  return x >= r.left && x < r.right && y >= r.top && y < r.bottom && r.width > 0 && r.height > 0;
}

export interface GuardHooks {
  /** The secure composer the keyboard goes to (of several: the one the user or chat last used). */
  composer(): SecureFrame | undefined;
  /** The secure composer redeemed its token and can take the keyboard. */
  composerReady(): boolean;
  /** The chat's own compose box, which the composer frame covers. */
  hostComposer(): HTMLElement | undefined;
  /** Every secure composer on the page, with the chat's box it covers (main, thread reply, edit). */
  composers(): { frame: SecureFrame; box: HTMLElement }[];
  /**
   * In (or is) a compose box the adapter declares, covered by a secure composer or not (one the
   * page planted beyond the few Veil covers, say): typing there is held for the secure composer.
   */
  declaredBox(el: Element): boolean;
  /** Puts the composer frames over their boxes now (a focus can scroll a box into view first). */
  placeFrames(): void;
  /** Veil itself moves focus to the chat's composer while sending: not theft. */
  veilBusy(): boolean;
  warn(text: string): void;
}

/** Until isolated mode is known to be on, the guards watch nothing (inline mode never sets hooks). */
const INERT: GuardHooks = {
  composer: () => undefined,
  composerReady: () => false,
  hostComposer: () => undefined,
  composers: () => [],
  declaredBox: () => false,
  placeFrames: () => undefined,
  veilBusy: () => false,
  warn: () => undefined,
};

export class FrameGuards {
  private lastGesture = -Infinity;
  /** After a theft, key events in the page are swallowed until the user acts in the page. */
  private shielding = false;
  /** Composer frames IntersectionObserver v2 last reported as covered. */
  private covered = new WeakSet<Element>();
  private visibility?: IntersectionObserver | null;
  private pendingWarning?: string;

  private hooks: GuardHooks = INERT;
  private hidden = false;
  readonly typing: TypingShield;

  constructor(private readonly win: Window) {
    this.typing = new TypingShield(win, {
      isHostComposer: (el) => this.isHostBox(el) || this.hooks.declaredBox(el),
      veilBusy: () => this.hooks.veilBusy(),
      shielding: () => this.shielding,
      redirect: () => this.redirect(),
    });
  }

  /** Isolated mode is on: start guarding these frames. */
  attach(hooks: GuardHooks): void {
    this.hooks = hooks;
    this.typing.mode = 'isolated';
  }

  /** The site is not in isolated mode: typing held while Veil started goes back where it was aimed. */
  standDown(): void {
    if (this.hooks === INERT) this.typing.standDown();
  }

  /**
   * Text typed where the page could have seen it (the chat's box, nowhere, during a theft), held
   * for the secure composer, which asks for it whenever it gets focus.
   */
  takeTyped(): HeldTyping[] {
    return this.typing.take();
  }

  /** Typing was held: give the keyboard back to the secure composer if it can take it. */
  redirect(): void {
    this.hooks.placeFrames();
    const f = this.hooks.composer();
    if (!f || !this.hooks.composerReady()) return; // held until the frame is ready (it asks then)
    // A hidden frame cannot take focus: the keys then stay held (never in the page), with a warning.
    this.checkVisible();
    this.refocus();
  }

  /**
   * Registers every listener at once. Called at document_start, before any page script runs, so
   * the page cannot register capture listeners ahead of Veil's and stop events from reaching them.
   */
  install(): void {
    const w = this.win;
    // Whatever gives the chat's own compose box focus (autofocus, a click beside the overlay, Tab)
    // sends it to the secure composer: nothing should ever be typed into the page here.
    // Chats do this routinely (after each send, on clicks): it is not an attack, and not warned.
    w.addEventListener(
      'focusin',
      (e) => {
        // The chat focusing a compose box (its own, after a send; a reply box it opened): the keys go
        // on to the secure composer the user last typed in, never to one the page picked.
        if (this.hooks.veilBusy() || !(e.target instanceof Element) || !this.isComposeBox(e.target)) return;
        const target = e.target;
        // After this focus change completes: a focus() nested in focusin can be dropped. Keys typed
        // meanwhile land on the chat's box, where the typing shield holds them for the frame.
        setTimeout(() => {
          const now = this.win.document.activeElement;
          if (this.hooks.composerReady() && !this.hooks.veilBusy() && now && target.contains(now)) this.redirect();
        }, 0);
      },
      true,
    );
    for (const t of ['pointerdown', 'mousedown', 'touchstart'] as const) w.addEventListener(t, this.onPress, true);
    // Before the typing shield: a key the user presses in the page is a gesture, held or not.
    w.addEventListener('keydown', this.onKey, true);
    this.typing.install();
    w.addEventListener('focusin', this.onFocusIn, true);
    w.addEventListener('focusout', this.onFocusOut, true);
  }

  private isHostBox(node: Node): boolean {
    return this.hooks.composers().some((c) => c.box.contains(node));
  }

  private isComposeBox(el: Element): boolean {
    return this.isHostBox(el) || this.hooks.declaredBox(el);
  }

  /** Watches a composer frame with IntersectionObserver v2 where the browser has it (Chromium). */
  watchComposer(f: SecureFrame): void {
    if (this.visibility === undefined) {
      try {
        this.visibility = new IntersectionObserver(
          (entries) => {
            for (const e of entries) {
              const v = (e as IntersectionObserverEntry & { isVisible?: boolean }).isVisible;
              if (v === undefined || !e.isIntersecting) continue;
              if (v) this.covered.delete(e.target);
              else {
                this.covered.add(e.target);
                this.raise(WARN_COVERED());
              }
            }
          },
          { trackVisibility: true, delay: 200 } as IntersectionObserverInit,
        );
      } catch {
        this.visibility = null; // no v2 here: the press and focus checks still run
      }
    }
    this.visibility?.observe(f.iframe);
  }

  /** A composer frame is gone (its chat box closed). */
  unwatchComposer(f: SecureFrame): void {
    this.visibility?.unobserve(f.iframe);
  }

  /** Called when a frame reports focus or a press inside it: any warning it should show. */
  check(handle: string): string | undefined {
    const f = this.hooks.composer();
    if (f?.handle === handle && this.occludedAt(f)) this.raise(WARN_OVERLAY());
    if (f?.handle === handle && this.covered.has(f.iframe)) this.raise(WARN_COVERED());
    const w = this.pendingWarning;
    this.pendingWarning = undefined;
    return w;
  }

  /**
   * False (and the user is warned, once per episode) when page CSS or script hides the secure
   * composer: display/visibility/opacity/clip/mask/filter on it or an ancestor, a size too small
   * to type in, or covered by another element (the frame's own box and position are re-asserted
   * with !important inline styles whenever they change). Focusing a hidden frame is a silent
   * no-op: the typing then stays held, and the user is told why.
   */
  checkVisible(): boolean {
    const f = this.hooks.composer();
    if (!f?.host.isConnected) return false;
    const hidden = this.hiddenReason(f);
    if (hidden && !this.hidden) this.raise(WARN_COVERED());
    this.hidden = !!hidden;
    return !hidden;
  }

  private hiddenReason(f: SecureFrame): string | undefined {
    const r = f.iframe.getBoundingClientRect();
    if (r.width < 16 || r.height < 12) return 'size';
    const own = getComputedStyle(f.host);
    if (own.visibility !== 'visible' || own.contentVisibility === 'hidden') return 'visibility';
    let opacity = 1;
    for (let e: Element | null = f.host; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      opacity *= Number(cs.opacity);
      if (cs.display === 'none') return 'display';
      if (cs.clipPath !== 'none' || (cs.clip && cs.clip !== 'auto')) return 'clip';
      if ((cs.maskImage && cs.maskImage !== 'none') || cs.filter !== 'none') return 'filter';
    }
    if (opacity < 0.9) return 'opacity';
    if (this.occludedAt(f)) return 'covered';
    return undefined;
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
    const path = e.composedPath();
    const p = e as PointerEvent & TouchEvent;
    const x = p.clientX ?? p.touches?.[0]?.clientX;
    const y = p.clientY ?? p.touches?.[0]?.clientY;
    if (x !== undefined && y !== undefined) {
      // Only composers: a reader may lie partly under the chat's sticky header, which is fine.
      for (const { frame: f, box: hostBox } of this.hooks.composers()) {
        // A press on the chat's own box itself is only the frame lagging behind a layout change.
        if (path.includes(f.host) || path.includes(hostBox)) continue;
        // The press reached the page although it fell where a secure composer is (or is about
        // to be, after a layout change): something of the page's covers it.
        if (inside(f.iframe.getBoundingClientRect(), x, y) || inside(hostBox.getBoundingClientRect(), x, y)) {
          e.preventDefault();
          e.stopImmediatePropagation();
          this.raise(WARN_OVERLAY());
          return;
        }
      }
    }
    this.lastGesture = performance.now();
    this.lastPress = path;
    this.shielding = false;
  };

  private onKey = (e: KeyboardEvent): void => {
    if (e.isTrusted && !this.shielding && !this.hooks.veilBusy()) {
      this.lastGesture = performance.now();
      // Tab (the browser's own focus move) and a shortcut (Ctrl+K's search box) may focus a field;
      // Shift, arrows or Escape the page could answer by focusing a field of its own may not.
      const modifier = ['Control', 'Meta', 'Alt', 'Shift'].includes(e.key);
      this.lastPress = e.key === 'Tab' || ((e.ctrlKey || e.metaKey || e.altKey) && !modifier) ? 'keyboard' : [];
    }
  };

  /** What the user's last trusted press in the page landed on, or a key that may move focus. */
  private lastPress: EventTarget[] | 'keyboard' = [];

  /**
   * A field of the page's gets focus from the user only when they pressed on it (or its label) or
   * moved there with the keyboard. A page that focuses a field of its own (off screen, say) on a
   * click elsewhere would otherwise get every key typed next, with no warning.
   */
  private userFocused(el: HTMLElement): boolean {
    if (!this.userMoved()) return false;
    if (this.lastPress === 'keyboard') return true;
    return this.lastPress.some((n) => n === el || (n instanceof HTMLLabelElement && n.control === el));
  }

  /** What last had focus in the page (a focusin into the composer frame targets its host element). */
  private lastFocused: EventTarget | null = null;

  private onFocusOut = (e: FocusEvent): void => {
    const mine = this.hooks.composers().some((c) => c.frame.host === e.target);
    if (!mine || e.relatedTarget || this.hooks.veilBusy()) return;
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
    if (!c || this.hooks.veilBusy()) return;
    // Into one of Veil's composers (from another, say: only the user's press or Veil moves focus
    // into a frame). The chat focusing one of its compose boxes is routine; Veil sends it on.
    if (this.hooks.composers().some((m) => m.frame.host === e.target)) return;
    if (e.target instanceof Element && this.isComposeBox(e.target)) return;
    if (isEditable(e.target) && !this.userFocused(e.target)) return this.theft();
    if (this.hooks.composers().some((m) => m.frame.host === prev) && !this.userMoved()) this.theft();
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
