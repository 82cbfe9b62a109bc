/**
 * Placing a secure frame into the page (content script side of isolated mode).
 *
 * Each frame sits inside a closed shadow root of a `<veil-secure-frame>` element: the page's
 * selectors, styles and MutationObservers see only that element, never the iframe's attributes.
 * The iframe's URL carries no secret; its capability token is handed over by postMessage aimed at
 * the extension's origin, which the page cannot read (it is delivered inside the frame only).
 */
import browser from 'webextension-polyfill';
import { t } from '../../i18n';
import { request } from '../../messaging/client';
import {
  SECURE_FRAME_PAGES,
  type ComposerFrameSpec,
  type FrameTheme,
  type ReaderHandOver,
  type ReaderLayout,
  type ReaderSpec,
  type SecureFrameKind,
  type TokenHandOver,
} from '../../messaging/frame-types';

export interface SecureFrame {
  kind: SecureFrameKind;
  handle: string;
  /** The element in the page's DOM (a shadow host). */
  host: HTMLElement;
  iframe: HTMLIFrameElement;
  shadow: ShadowRoot;
}

let nextHandle = 0;

const FRAME_CSS = `
:host { all: initial; display: block; position: relative; }
iframe { display: block; border: 0; width: 100%; height: 100%; background: transparent; color-scheme: normal; }
`;

/** The background's answer, accepted only if it is Veil's own page of this kind. */
function frameUrl(url: string, kind: SecureFrameKind): string | undefined {
  try {
    const u = new URL(url);
    const ours = /^(chrome|moz)-extension:$/.test(u.protocol) && u.pathname === SECURE_FRAME_PAGES[kind];
    if (ours) pagesOrigin = u.origin;
    return ours ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Where Veil's frame pages load from, as the background last said (Chrome's changes per session). */
let pagesOrigin: string | undefined;

/**
 * The reader page's address if already known (from the composer's or an earlier reader's answer):
 * a reader frame can then start loading while its tokens are made.
 */
export function knownReaderUrl(): string | undefined {
  return pagesOrigin && `${pagesOrigin}${SECURE_FRAME_PAGES.reader}`;
}

/** Builds the frame element; nothing loads until `load` is called. */
export function createFrameElement(doc: Document, kind: SecureFrameKind): SecureFrame {
  const host = doc.createElement('veil-secure-frame');
  host.dataset.kind = kind;
  const shadow = shadowFor(doc, host);
  const iframe = freshIframe(doc, kind);
  shadow.append(iframe);
  return { kind, handle: `${kind[0]}${nextHandle++}`, host, iframe, shadow };
}

function shadowFor(doc: Document, host: HTMLElement): ShadowRoot {
  const shadow = host.attachShadow({ mode: 'closed' });
  const style = doc.createElement('style');
  style.textContent = FRAME_CSS;
  shadow.append(style);
  return shadow;
}

/** Stands for "no iframe" in a placeholder: never attached, never loaded, one per document. */
const idle = new WeakMap<Document, HTMLIFrameElement>();
export function idleIframe(doc: Document): HTMLIFrameElement {
  let iframe = idle.get(doc);
  if (!iframe) idle.set(doc, (iframe = doc.createElement('iframe')));
  return iframe;
}

/**
 * A reader's placeholder: the element alone. Its shadow root, styles and iframe are made when a
 * reader first loads in it: most placeholders of a long history never get one.
 */
export function createPlaceholder(doc: Document): SecureFrame {
  const host = doc.createElement('veil-secure-frame');
  host.dataset.kind = 'reader';
  let shadow: ShadowRoot | undefined;
  return {
    kind: 'reader',
    handle: `r${nextHandle++}`,
    host,
    iframe: idleIframe(doc),
    get shadow() {
      return (shadow ??= shadowFor(doc, host));
    },
  };
}

/** A new, unattached iframe for a frame element (readers get one each time they load). */
export function freshIframe(doc: Document, kind: SecureFrameKind): HTMLIFrameElement {
  const iframe = doc.createElement('iframe');
  iframe.title = kind === 'composer' ? t('isoComposerTitle') : t('isoReaderTitle');
  // No permissions for the frame beyond what it needs (clipboard is the user's own paste).
  iframe.setAttribute('allow', '');
  iframe.setAttribute('scrolling', 'no'); // the composer scrolls inside; readers are sized to content
  return iframe;
}

/**
 * Asks the background for a composer's capability, loads the frame page and hands it the token
 * once it has loaded. Resolves false when the background refused (not isolated, not protected) or
 * the frame did not load.
 */
export async function loadFrame(f: SecureFrame, theme: FrameTheme, composer?: ComposerFrameSpec): Promise<boolean> {
  const iframe = f.iframe;
  const res = await request('isolated/open-frame', { kind: f.kind, handle: f.handle, theme, composer });
  if (!res.ok) return false;
  const src = frameUrl(res.url, f.kind);
  return !!src && navigate(f, iframe, src, { veilFrameToken: res.token });
}

/**
 * Tokens for a reader frame's messages, one per message (each with the handle of its own
 * placeholder, where the background sends its size): undefined where the background refused that
 * one (say, text that only looks like an envelope), so one bad message fails alone.
 */
export async function mintReaders(
  theme: FrameTheme,
  messages: { handle: string; spec: ReaderSpec }[],
): Promise<{ tokens: (string | undefined)[]; src?: string }> {
  const answers = await Promise.all(
    messages.map((m) =>
      request('isolated/open-frame', { kind: 'reader', handle: m.handle, theme, reader: m.spec }).catch(
        () => undefined,
      ),
    ),
  );
  const ok = answers.find((a) => a?.ok);
  return {
    tokens: answers.map((a) => (a?.ok ? a.token : undefined)),
    src: ok?.ok ? frameUrl(ok.url, 'reader') : undefined,
  };
}

/**
 * Loads Veil's reader page into `iframe` (in `f`'s shadow root) and hands it its tokens, with the
 * messages' places and the port for later ones when it shows several.
 */
export function showReaders(
  f: SecureFrame,
  iframe: HTMLIFrameElement,
  src: string,
  tokens: string[],
  layout?: ReaderLayout,
  port?: MessagePort,
): Promise<boolean> {
  const handOver: ReaderHandOver = { veilReaderTokens: tokens, ...(layout ? { layout } : {}) };
  return navigate(f, iframe, src, handOver, port ? [port] : []);
}

/** Loads `src` into `iframe` and, once Veil's page is there, posts `message` to it (extension origin only). */
function navigate(
  f: SecureFrame,
  iframe: HTMLIFrameElement,
  src: string,
  message: TokenHandOver | ReaderHandOver,
  transfer: Transferable[] = [],
): Promise<boolean> {
  // Chrome loads the dynamic URL but the document ends up at the extension's own origin: that is
  // where the token may go (if the page navigated the iframe elsewhere, the browser drops it).
  const origin = new URL(browser.runtime.getURL('/')).origin;
  if (!iframe.isConnected && iframe !== f.iframe) return Promise.resolve(false);
  return startLoading(f, iframe, src).then((ok) => {
    if (ok) iframe.contentWindow?.postMessage(message, origin, transfer);
    return ok;
  });
}

const loads = new WeakMap<HTMLIFrameElement, { src: string; loaded: Promise<boolean> }>();

/**
 * Starts loading `src` into `iframe` (once per iframe; false if it was started with another
 * address). Readers attach their iframe only now, with its URL already set: the browser then
 * navigates it once, with no blank document committed first.
 */
export function startLoading(f: SecureFrame, iframe: HTMLIFrameElement, src: string): Promise<boolean> {
  const started = loads.get(iframe);
  if (started) return started.src === src ? started.loaded : Promise.resolve(false);
  const loaded = new Promise<boolean>((resolve) => {
    const onLoad = () => {
      // An attached iframe (the composer) loads a blank document first, and its load event can
      // come late: a token posted then would be dropped (wrong origin).
      if (iframe.contentDocument?.URL === 'about:blank') return;
      iframe.removeEventListener('load', onLoad);
      resolve(true);
    };
    iframe.addEventListener('load', onLoad);
    iframe.src = src;
    if (!iframe.isConnected) f.shadow.append(iframe);
  });
  loads.set(iframe, { src, loaded });
  return loaded;
}

const TRANSPARENT = /^(transparent|rgba\(\s*0,\s*0,\s*0,\s*0\s*\))$/;

/** The first non-transparent background behind an element (the chat's own surface). */
function backgroundOf(el: Element | null): string | undefined {
  for (let e = el; e; e = e.parentElement) {
    const bg = getComputedStyle(e).backgroundColor;
    if (bg && !TRANSPARENT.test(bg)) return bg;
  }
  return undefined;
}

/** Reads how the chat styles `el`, so the frame can look like part of it. */
export function themeOf(el: Element, withBox: boolean): FrameTheme {
  const cs = getComputedStyle(el);
  const theme: FrameTheme = {
    color: cs.color,
    fontFamily: cs.fontFamily,
    fontSize: cs.fontSize,
    lineHeight: cs.lineHeight,
    background: backgroundOf(el) ?? 'rgb(255, 255, 255)',
  };
  if (withBox) {
    theme.borderRadius = cs.borderRadius;
    theme.border = `${cs.borderTopWidth} ${cs.borderTopStyle} ${cs.borderTopColor}`;
    theme.padding = `${cs.paddingTop} ${cs.paddingRight} ${cs.paddingBottom} ${cs.paddingLeft}`;
  }
  return theme;
}
