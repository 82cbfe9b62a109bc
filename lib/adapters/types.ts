/**
 * A SiteAdapter is everything Veil knows about one chat's page: where its composer is, how it
 * sends, where messages are, who wrote them and in which conversation. Selectors live only in
 * adapter files; each is a list of alternatives tried in order. Runs in the content script.
 */
/**
 * How text goes into the compose box (lib/page/composer.ts; docs/adapters.md "Composer strategies"):
 * - `textarea`: textarea/input (plain or framework-controlled): execCommand insertText, else the
 *   native value setter + input event.
 * - `contenteditable`: execCommand insertText into a contenteditable (plain, Quill, ProseMirror, Lexical).
 * - `beforeinput`: a synthetic cancelable beforeinput insertText the editor must claim (Slate, Lexical).
 * - `paste`: a synthetic paste with only text/plain on the clipboard (Slate, Lexical, CKEditor 5).
 * - `auto`: picks by element and editor, then verifies; tries the next one if it did not take.
 */
export type ComposerStrategy = 'auto' | 'textarea' | 'contenteditable' | 'beforeinput' | 'paste';
export type SendTrigger = 'enter' | 'click';

export interface SiteAdapter {
  id: string;
  name: string;
  /** Default URL match patterns when policy does not name the site's URLs. */
  defaultMatches: string[];
  selectors: {
    /** The compose box. */
    composer: string[];
    /** Buttons that send. */
    sendButton: string[];
    /** Each rendered message. */
    message: string[];
    /** Inside a message: the element whose text is the message body. */
    messageText: string[];
    /** Inside a message: the author's name (used when `authorAttribute` is absent). */
    messageAuthor: string[];
  };
  /** Attribute on the message element that holds the author's user id (preferred over text). */
  authorAttribute?: string;
  /**
   * Turns what the page shows as a message's author into the id `currentUser` yields for that
   * person (e.g. `room@conference.example/nick` -> `nick`); undefined when it does not fit.
   */
  normalizeAuthor?(raw: string): string | undefined;
  /** Attribute on the message element that holds the host's message id. */
  messageIdAttribute?: string;
  /**
   * True when those ids are the server's and survive a reload, so Veil can recognise a message
   * re-delivered as a new one across reloads; per-session ids only tell messages apart in one load.
   */
  messageIdsStable?: boolean;
  /**
   * Let the browser skip layout and paint of messages outside the viewport (CSS `content-visibility:
   * auto` on each message). Opening a long history then costs what is in view, envelopes and Veil's
   * paint alike. Leave it off for chats that measure their messages' heights themselves (virtualised
   * lists), which would read an estimate for messages out of view.
   */
  lazyMessageLayout?: boolean;
  /** The signed-in user's id. */
  currentUser(doc: Document): string | undefined;
  /** A stable id of the open conversation, equal for every member. */
  conversationId(doc: Document): string | undefined;
  composerStrategy: ComposerStrategy;
  /** How Veil triggers the chat's own send once the composer holds the envelope. */
  sendTrigger: SendTrigger;
  /** Longest message the chat transports unchanged, in characters. */
  maxMessageChars: number;
  /** Where the page itself states a lower limit (read at send time). */
  pageMaxMessageChars?(doc: Document): number | undefined;
  /** Whether a long message may travel as several chat messages. */
  allowChunks: boolean;
}

/** A message element's author id, as the adapter reads it ('' when the page does not say). */
export function messageAuthor(adapter: SiteAdapter, el: Element): string {
  const raw =
    (adapter.authorAttribute && el.getAttribute(adapter.authorAttribute)) ||
    queryFirst(el, adapter.selectors.messageAuthor)?.textContent?.trim() ||
    '';
  if (!raw || !adapter.normalizeAuthor) return raw;
  return adapter.normalizeAuthor(raw) ?? '';
}

export function queryFirst<T extends Element = HTMLElement>(root: ParentNode, selectors: string[]): T | null {
  for (const s of selectors) {
    const el = root.querySelector<T & Element>(s);
    if (el) return el as T;
  }
  return null;
}

export function closestAny(el: Element, selectors: string[]): Element | null {
  for (const s of selectors) {
    const hit = el.closest(s);
    if (hit) return hit;
  }
  return null;
}
