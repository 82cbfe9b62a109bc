/**
 * One reader frame for the messages in view at once (isolated mode, content script side).
 *
 * A reader frame costs tens of milliseconds of the browser's own time to load (its navigation and
 * commit, in the browser process), whatever it shows; a screenful of messages in one frame costs
 * that once. The frame sits in the first message's placeholder (the anchor), reaches over the
 * others, and is clipped to the placeholders' boxes (clip-path also decides where it takes
 * clicks, so the chat's own names, buttons and links between the messages stay the chat's). It
 * lives in the chat's scrolling list, so it scrolls with the messages; the content script moves
 * each message's place inside it when the layout changes (sizes, DOM changes, window size).
 *
 * Whether the frame really shows on top at a message's place is the page's layout to decide (a
 * bubble that clips its content, a message on a layer of its own, a pinned one): it is tried
 * before the frame is made, with an empty probe of the same shape, and again whenever the layout
 * changes; a message it does not reach gets a frame of its own. A place the page clips (a
 * collapsed message) is clipped in the frame too. What a screen reader reads in the frame are the
 * range's messages, in order, at the first one.
 */
import type { ReaderLayout, ReaderSlotPlace } from '../../messaging/frame-types';

export interface Box {
  top: number;
  left: number;
  width: number;
  height: number;
}

export interface RangeGeometry {
  /** The frame's box, relative to the anchor's top left. */
  box: Box;
  layout: ReaderLayout;
  /** The frame's clip-path: one rectangle per message shown. */
  clip: string;
}

const px = (n: number) => Math.round(n * 100) / 100;

/**
 * The frame's box and the messages' places in it, from the anchor's box and each member's (null:
 * not shown). Undefined when no member is shown.
 */
export function rangeGeometry(anchor: Box, members: (Box | null)[]): RangeGeometry | undefined {
  const shown = members.filter((m): m is Box => !!m);
  if (shown.length === 0) return undefined;
  const left = Math.min(...shown.map((m) => m.left));
  const top = Math.min(...shown.map((m) => m.top));
  const right = Math.max(...shown.map((m) => m.left + m.width));
  const bottom = Math.max(...shown.map((m) => m.top + m.height));
  const slots: (ReaderSlotPlace | null)[] = members.map((m) =>
    m ? { top: px(m.top - top), left: px(m.left - left), width: px(m.width), height: px(m.height) } : null,
  );
  const clip = shown
    .map((m) => `M${px(m.left - left)} ${px(m.top - top)}h${px(m.width)}v${px(m.height)}h${px(-m.width)}Z`)
    .join('');
  return {
    box: { top: px(top - anchor.top), left: px(left - anchor.left), width: px(right - left), height: px(bottom - top) },
    layout: { slots },
    clip: `path('${clip}')`,
  };
}

export function boxOf(el: Element): Box {
  const r = el.getBoundingClientRect();
  return { top: r.top, left: r.left, width: r.width, height: r.height };
}

const clips = (cs: CSSStyleDeclaration) =>
  cs.overflowX !== 'visible' || cs.overflowY !== 'visible' || /paint|strict|content/.test(cs.contain);

/**
 * What the page shows of `el`'s box: cut by every ancestor below `scroller` that clips what
 * overflows it (a collapsed message). Null when nothing of it shows.
 */
export function visibleBoxOf(el: Element, scroller: Element | null): Box | null {
  const b = el.getBoundingClientRect();
  let [top, left, bottom, right] = [b.top, b.left, b.bottom, b.right];
  for (let e = el.parentElement; e && e !== scroller; e = e.parentElement) {
    if (!clips(getComputedStyle(e))) continue;
    const c = e.getBoundingClientRect();
    [top, left, bottom, right] = [
      Math.max(top, c.top),
      Math.max(left, c.left),
      Math.min(bottom, c.bottom),
      Math.min(right, c.right),
    ];
  }
  return bottom > top && right > left ? { top, left, width: right - left, height: bottom - top } : null;
}

/** Styles `el` (the probe or the frame) to the range's box and clip, inside the anchor's shadow root. */
export function shape(el: HTMLElement, g: RangeGeometry): void {
  Object.assign(el.style, {
    position: 'absolute',
    top: `${g.box.top}px`,
    left: `${g.box.left}px`,
    width: `${g.box.width}px`,
    height: `${g.box.height}px`,
    clipPath: g.clip,
  });
}

/**
 * Where a placeholder scrolls: its nearest scrolling ancestor (null: the document), and whether
 * something between pins it (sticky or fixed: it would not move with the others). A range never
 * spans two scrollers, and a pinned placeholder gets a frame of its own.
 */
export function scrollContextOf(el: Element): { scroller: Element | null; pinned: boolean } {
  let pinned = false;
  for (let e = el.parentElement; e; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (/(auto|scroll|overlay)/.test(cs.overflowY + cs.overflowX)) return { scroller: e, pinned };
    pinned ||= cs.position === 'sticky' || cs.position === 'fixed';
  }
  return { scroller: null, pinned };
}

/**
 * The centre of the part of `b` the user can see: inside the window and inside the scroller's
 * own box (hit testing finds something else where the scroller clips it).
 */
function centreInView(view: Window, b: Box, scroller: Element | null): { x: number; y: number } | undefined {
  const s = scroller?.getBoundingClientRect();
  const mid = (from: number, size: number, lo: number, hi: number) => {
    const a = Math.max(from, lo);
    const z = Math.min(from + size, hi);
    return z - a >= 2 ? (a + z) / 2 : undefined;
  };
  const x = mid(b.left, b.width, Math.max(0, s?.left ?? 0), Math.min(view.innerWidth, s?.right ?? Infinity));
  const y = mid(b.top, b.height, Math.max(0, s?.top ?? 0), Math.min(view.innerHeight, s?.bottom ?? Infinity));
  return x === undefined || y === undefined ? undefined : { x, y };
}

/**
 * Which members a frame in `anchorHost`'s shadow root, shaped by `g`, would really show on top at
 * (their box's centre hits the anchor in the page's hit testing: clipping ancestors, layers and
 * overlays of the page all count). Tried with an empty probe of the frame's shape.
 */
export function reached(
  doc: Document,
  anchorHost: HTMLElement,
  shadow: ShadowRoot,
  g: RangeGeometry,
  boxes: (Box | null)[],
  scroller: Element | null,
): boolean[] {
  const probe = doc.createElement('div');
  shape(probe, g);
  shadow.append(probe);
  try {
    return boxes.map((b) => {
      const at = b && centreInView(doc.defaultView!, b, scroller);
      return !!at && doc.elementFromPoint(at.x, at.y) === anchorHost;
    });
  } finally {
    probe.remove();
  }
}

/** The elements between the range's first and last member, below their common ancestor (the messages). */
function spanned(first: Element, last: Element): { common: Element | null; between: Element[] } {
  let common: Element | null = first.parentElement;
  while (common && !common.contains(last)) common = common.parentElement;
  if (!common) return { common, between: [] };
  const branch = (el: Element) => {
    let e = el;
    while (e.parentElement !== common) e = e.parentElement!;
    return e;
  };
  const between: Element[] = [];
  for (let e: Element | null = branch(first); e; e = e.nextElementSibling) {
    between.push(e);
    if (e === branch(last) || between.length > 256) break;
  }
  return { common, between };
}

/**
 * A frame showing several messages: where it is and where they are, kept in step with the page.
 * `members[0]` is the anchor (the frame is in its shadow root); slot i shows members[i].
 */
export class ReaderRange<M extends { host: HTMLElement }> {
  private readonly channel = new MessageChannel();
  private readonly sizes: ResizeObserver;
  private readonly changes: MutationObserver;
  private dropped = new Set<M>();
  private last = '';

  constructor(
    readonly anchor: M,
    readonly members: M[],
    readonly iframe: HTMLIFrameElement,
    private readonly scroller: Element | null,
    onChange: () => void,
  ) {
    // A member's size or anything between the members changing size moves their places; so do
    // the page's own style changes there (a row moved by a transform, a message collapsed).
    this.sizes = new ResizeObserver(onChange);
    this.changes = new MutationObserver(onChange);
    const { common, between } = spanned(anchor.host, members[members.length - 1]!.host);
    for (const m of members) this.sizes.observe(m.host);
    for (const el of between) this.sizes.observe(el);
    if (common)
      this.changes.observe(common, { subtree: true, attributes: true, attributeFilter: ['style', 'class', 'hidden'] });
    // Only the frame's clipped shape takes the pointer: between Veil's places, the page's content does.
    anchor.host.style.pointerEvents = 'none';
    iframe.style.pointerEvents = 'auto';
  }

  /** The port the frame gets with its tokens (the content script keeps the other end). */
  get framePort(): MessagePort {
    return this.channel.port2;
  }

  private boxes(): (Box | null)[] {
    return this.members.map((m) =>
      !this.dropped.has(m) && m.host.isConnected ? visibleBoxOf(m.host, this.scroller) : null,
    );
  }

  /** Where everything is now; undefined when the range shows nothing any more. */
  geometry(): RangeGeometry | undefined {
    if (!this.anchor.host.isConnected) return undefined;
    return rangeGeometry(boxOf(this.anchor.host), this.boxes());
  }

  /** Moves the frame and the messages in it to where the page now puts them; false: nothing left. */
  update(g = this.geometry()): boolean {
    if (!g) return false;
    shape(this.iframe, g);
    const key = JSON.stringify(g.layout);
    if (key !== this.last) {
      this.last = key;
      this.channel.port1.postMessage(g.layout);
    }
    return true;
  }

  /** Members in the window that the frame no longer shows on top at (the page's layers moved). */
  unreached(doc: Document): M[] {
    const boxes = this.boxes();
    return this.members.filter((m, i) => {
      const at = m !== this.anchor && boxes[i] && centreInView(doc.defaultView!, boxes[i], this.scroller);
      return !!at && doc.elementFromPoint(at.x, at.y) !== this.anchor.host;
    });
  }

  /** A member no longer shown here (unloaded far from the view, or re-rendered by the page). */
  drop(m: M): void {
    this.dropped.add(m);
  }

  close(): void {
    this.sizes.disconnect();
    this.changes.disconnect();
    this.channel.port1.close();
    this.iframe.remove();
    this.anchor.host.style.pointerEvents = '';
  }
}
