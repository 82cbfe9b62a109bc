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
 * bubble that clips its content, a message on a layer of its own): it is tried before the frame is
 * made, with an empty probe of the same shape, and a message it does not reach gets a frame of its
 * own. What a screen reader reads in the frame are the range's messages, in order, at the first one.
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
    m ? { top: px(m.top - top), left: px(m.left - left), width: px(m.width) } : null,
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

/**
 * The anchor of a shared frame: over the chat's own positioned messages (the frame is clipped to
 * Veil's places), and itself no target for the pointer: only the frame's clipped shape is, so
 * between Veil's places the pointer reaches the page's own content.
 */
export function lift(host: HTMLElement, on: boolean): void {
  host.style.zIndex = on ? '1' : '';
  host.style.pointerEvents = on ? 'none' : '';
}

/** Styles `el` (the probe or the frame) to the range's box and clip, inside the anchor's shadow root. */
export function shape(el: HTMLElement, g: RangeGeometry): void {
  Object.assign(el.style, {
    pointerEvents: 'auto',
    position: 'absolute',
    top: `${g.box.top}px`,
    left: `${g.box.left}px`,
    width: `${g.box.width}px`,
    height: `${g.box.height}px`,
    clipPath: g.clip,
  });
}

/** The nearest ancestor that scrolls (or the document): a range never spans two of them. */
export function scrollerOf(el: Element): Element | null {
  for (let e = el.parentElement; e; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (/(auto|scroll|overlay)/.test(cs.overflowY + cs.overflowX)) return e;
  }
  return null;
}

/**
 * Which members a frame in `anchorHost`'s shadow root, shaped by `g`, would really show on top at
 * (their box's centre hits the anchor in the page's hit testing: clipping ancestors, layers and
 * overlays of the page all count). The anchor counts as reached if its own centre hits it.
 */
export function reached(
  doc: Document,
  anchorHost: HTMLElement,
  shadow: ShadowRoot,
  g: RangeGeometry,
  boxes: (Box | null)[],
): boolean[] {
  const probe = doc.createElement('div');
  shape(probe, g);
  shadow.append(probe);
  try {
    const view = doc.defaultView!;
    // The centre of the part of each box inside the window (hit testing sees nothing outside it).
    const mid = (from: number, size: number, limit: number) => {
      const a = Math.max(from, 0);
      const b = Math.min(from + size, limit);
      return b - a >= 2 ? (a + b) / 2 : undefined;
    };
    return boxes.map((b) => {
      if (!b) return false;
      const x = mid(b.left, b.width, view.innerWidth);
      const y = mid(b.top, b.height, view.innerHeight);
      return x !== undefined && y !== undefined && doc.elementFromPoint(x, y) === anchorHost;
    });
  } finally {
    probe.remove();
  }
}

/** The elements between the range's first and last member, below their common ancestor (the messages). */
function spanned(first: Element, last: Element): Element[] {
  let common: Element | null = first.parentElement;
  while (common && !common.contains(last)) common = common.parentElement;
  if (!common) return [];
  const branch = (el: Element) => {
    let e = el;
    while (e.parentElement !== common) e = e.parentElement!;
    return e;
  };
  const out: Element[] = [];
  for (let e: Element | null = branch(first); e; e = e.nextElementSibling) {
    out.push(e);
    if (e === branch(last) || out.length > 256) break;
  }
  return out;
}

/**
 * A frame showing several messages: where it is and where they are, kept in step with the page.
 * `members[0]` is the anchor (the frame is in its shadow root); slot i shows members[i].
 */
export class ReaderRange<M extends { host: HTMLElement }> {
  private readonly channel = new MessageChannel();
  private readonly watch: ResizeObserver;
  private dropped = new Set<M>();
  private last = '';

  constructor(
    readonly anchor: M,
    readonly members: M[],
    readonly iframe: HTMLIFrameElement,
    onChange: () => void,
  ) {
    // A member's size or anything between the members changing size moves their places.
    this.watch = new ResizeObserver(onChange);
    for (const m of members) this.watch.observe(m.host);
    for (const el of spanned(anchor.host, members[members.length - 1]!.host)) this.watch.observe(el);
    lift(anchor.host, true);
  }

  /** The port the frame gets with its tokens (the content script keeps the other end). */
  get framePort(): MessagePort {
    return this.channel.port2;
  }

  /** Where everything is now; undefined when the range shows nothing any more. */
  geometry(): RangeGeometry | undefined {
    if (!this.anchor.host.isConnected) return undefined;
    const boxes = this.members.map((m) => (!this.dropped.has(m) && m.host.isConnected ? boxOf(m.host) : null));
    return rangeGeometry(boxOf(this.anchor.host), boxes);
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

  /** A member no longer shown here (unloaded far from the view, or re-rendered by the page). */
  drop(m: M): void {
    this.dropped.add(m);
  }

  close(): void {
    this.watch.disconnect();
    this.channel.port1.close();
    this.iframe.remove();
    lift(this.anchor.host, false);
  }
}
