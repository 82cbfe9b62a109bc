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

/**
 * A compose box besides the main one, each with its own way in and its own send: the edit box of
 * a sent message, a thread's reply box. Veil encrypts from it like from the main composer; any box
 * no adapter declares keeps the user's typing out (lib/page/send-guard.ts).
 */
export interface ExtraComposer {
  /** `edit`: replaces the text of a message already sent; `thread`, `other`: sends a new message. */
  kind: 'edit' | 'thread' | 'other';
  /** The box (alternatives). */
  composer: string[];
  /** Its send (or save) buttons; the one nearest the box is used. */
  sendButton: string[];
  composerStrategy: ComposerStrategy;
  sendTrigger: SendTrigger;
}

/** The main composer or an extra one, as the send guard uses it. */
export interface ComposerSpec {
  kind: 'main' | ExtraComposer['kind'];
  composer: string[];
  sendButton: string[];
  composerStrategy: ComposerStrategy;
  sendTrigger: SendTrigger;
}

export const EXTRA_COMPOSER_KINDS: ExtraComposer['kind'][] = ['edit', 'thread', 'other'];

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
    /** Where the page shows a message's text outside the list (conversation list, thread previews). */
    previews?: string[];
    /**
     * The chat's own file input: isolated mode hands it the encrypted file the user attached in the
     * secure composer. Absent or empty: the page's first file input; a page with none gets a paste.
     */
    fileInput?: string[];
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
   * Attribute on a preview element (`selectors.previews`) or its nearest ancestor holding the id of
   * the conversation the preview belongs to, as `conversationId` reads it there. Without it a
   * preview always shows the label (a decrypt needs the conversation, for the key's scope).
   */
  previewConversationAttribute?: string;
  /**
   * True when those ids are the server's and survive a reload, so Veil can recognise a message
   * re-delivered as a new one across reloads; per-session ids only tell messages apart in one load.
   */
  messageIdsStable?: boolean;
  /**
   * Let the browser skip layout and paint of messages outside the viewport (CSS `content-visibility:
   * auto` on each message). Opening a long history then costs what is in view, envelopes and Veil's
   * paint alike. Leave it off for chats that measure their messages' heights themselves (virtualised
   * lists), which would read an estimate for messages out of view. The newest messages (the last
   * EAGER_NEWEST in the list) are always laid out: a chat that opens scrolled to its end must land
   * on its real end, not on an estimate that grows once the messages in view are painted.
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
  /** Compose boxes besides the main one (edit box, thread reply box). */
  extraComposers?: ExtraComposer[];
}

/** Every compose box the adapter declares, the main one first. */
export function composersOf(adapter: SiteAdapter): ComposerSpec[] {
  const main: ComposerSpec = {
    kind: 'main',
    composer: adapter.selectors.composer,
    sendButton: adapter.selectors.sendButton,
    composerStrategy: adapter.composerStrategy,
    sendTrigger: adapter.sendTrigger,
  };
  return [main, ...(adapter.extraComposers ?? [])];
}

/** The author as the page names it, before the adapter's normalisation ('' when it names none). */
export function namedAuthor(adapter: SiteAdapter, el: Element): string {
  return (
    (adapter.authorAttribute && el.getAttribute(adapter.authorAttribute)) ||
    queryFirst(el, adapter.selectors.messageAuthor)?.textContent?.trim() ||
    ''
  );
}

/** A message element's author id, as the adapter reads it ('' when the page does not say). */
export function messageAuthor(adapter: SiteAdapter, el: Element): string {
  const raw = namedAuthor(adapter, el);
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

export const matchesAny = (el: Element, selectors: string[]): boolean => selectors.some((s) => el.matches(s));

export function closestAny(el: Element, selectors: string[]): Element | null {
  for (const s of selectors) {
    const hit = el.closest(s);
    if (hit) return hit;
  }
  return null;
}
