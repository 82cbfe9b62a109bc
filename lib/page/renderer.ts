/**
 * Finds envelopes in the chat's message list, has the background decrypt them in batches, and
 * shows the plaintext in place, as text only, with a status badge per message.
 * Re-rendered nodes reuse cached results: no re-decryption storm, no flicker back to ciphertext.
 * (MutationObserver callbacks run before the browser paints, so a host re-render that puts the
 * envelope back is repainted from the cache before anyone can see it. For the same reason a message
 * still being decrypted shows "Decrypting…" in its envelope's place from the first frame on.)
 * Event-driven (MutationObserver): an idle chat costs nothing.
 *
 * Results that a keyring change can alter (locked, unknown key, revoked key) are asked for again
 * on refresh(): the envelope texts of every painted message are kept for that, since
 * the node itself now shows plaintext.
 *
 * A message without an envelope in a protected chat is marked "not encrypted" (policy
 * `flagUnencrypted`), next to its text rather than inside it: the host's text stays untouched.
 */
import { queryFirst, type SiteAdapter } from '../adapters/types';
import type { DecryptedItem, DecryptItem } from '../messaging/protocol';
import { FILE_REF_PREFIX } from '../crypto/file-ref';
import { renderFileMessage, type Requester } from './attachment-view';
import {
  allMessages,
  ChunkGroups,
  collectMessages,
  hostIdOf,
  messageAuthor,
  messageOf,
  namedAuthor,
  messageTextOf,
  mixedAuthors,
  partTexts,
  renameParts,
  watchedChanges,
  type ChunkMember,
  scanText,
  type ChunkRef,
} from './message-scan';
import {
  ariaLabelOf,
  CONTINUED_TEXT,
  decryptingView,
  briefViewOf,
  incompleteView,
  mixedAuthorsView,
  notEncryptedView,
  notDecryptedView,
  partView,
  viewOf,
  type StatusView,
} from '../i18n/status-text';

const BATCH = 1_000;
/** Changes in one callback above which the whole page is searched once instead of around each. */
const MANY_RECORDS = 64;
/** Authentic message ids remembered for in-page replay checks. */
const MAX_SEEN_IDS = 20_000;

export type DecryptFn = (conversationId: string, items: DecryptItem[]) => Promise<DecryptedItem[] | { error: string }>;

export interface RendererOptions {
  /** Mark plaintext messages as not encrypted (policy `flagUnencrypted`, default true). */
  flagUnencrypted?: boolean;
  /** Opens attachments a decrypted message names (lib/page/attachment-view.ts); without it they show as text. */
  fileRequest?: Requester;
  /**
   * Called when the open conversation or the composer element changes (first render included):
   * single-page apps mount the composer late and switch conversations without a page load.
   */
  onContext?(conversationId: string | undefined, composer: HTMLElement | null): void;
  /**
   * After each batch of page changes, with the chat's composer: puts back what of Veil's the page
   * removed (the line under the composer, Veil's stylesheet).
   */
  keepVeilUi?(composer: HTMLElement | null): void;
}

/** A message's envelopes waiting for a decrypt request. */
interface Queued {
  cacheKey: string;
  who: string;
  envelope: string;
  item: DecryptItem;
}

/** Answers kept for messages the page shows again (a re-render, a virtual list scrolling back). */
export const MAX_CACHED_ANSWERS = 4_000;

/**
 * Answers by conversation and author, then by envelope text: the envelope string kept as key is
 * the one the page's text already holds, not a new string per message (a long history keeps
 * thousands). Repeated answer fields (key id, fingerprint, statuses) and authors share one string
 * each. Bounded (trim(), after each batch of answers is painted: a message of several envelopes
 * needs all of its answers at once): the page makes up as many envelopes as it likes, and a
 * message whose answer left is simply asked for again.
 */
class ResultCache {
  private byWho = new Map<string, Map<string, DecryptedItem>>();
  private pool = new Map<string, string>();
  private size = 0;

  constructor(private readonly max = MAX_CACHED_ANSWERS) {}

  get(who: string, envelope: string): DecryptedItem | undefined {
    return this.byWho.get(who)?.get(envelope);
  }

  set(who: string, envelope: string, r: DecryptedItem): void {
    let m = this.byWho.get(who);
    if (!m) this.byWho.set(who, (m = new Map()));
    for (const k of ['status', 'keyId', 'fingerprint', 'keyStatus'] as const) {
      const v = r[k];
      if (typeof v === 'string') (r as unknown as Record<string, string>)[k] = this.intern(v);
    }
    r.id = ''; // the request's id: matched already, and one string fewer per message kept
    if (!m.has(envelope)) this.size++;
    m.set(envelope, r);
  }

  /** Down to the bound, the earliest answers of the earliest-seen senders first. */
  trim(): void {
    while (this.size > this.max) {
      const [who, m] = this.byWho.entries().next().value!;
      this.delete(who, m.keys().next().value!);
    }
  }

  delete(who: string, envelope: string): void {
    const m = this.byWho.get(who);
    if (m?.delete(envelope)) this.size--;
    if (m && !m.size) this.byWho.delete(who);
  }

  /** A snapshot: the caller may delete while walking it. */
  entries(): [string, string, DecryptedItem][] {
    const out: [string, string, DecryptedItem][] = [];
    for (const [who, m] of this.byWho) for (const [envelope, r] of m) out.push([who, envelope, r]);
    return out;
  }

  /** One string for every equal value (authors, statuses, key ids), bounded: a page can make them up. */
  intern(v: string): string {
    const had = this.pool.get(v);
    if (had !== undefined) return had;
    if (this.pool.size < 1_000) this.pool.set(v, v);
    return v;
  }
}

/** A message's envelope texts as one key (the text itself for the usual single envelope). */
const envelopeKey = (texts: string[]): string => (texts.length === 1 ? texts[0]! : texts.join('\n'));

/**
 * An element's child nodes, walked rather than read from `childNodes`: a NodeList read from Veil's
 * world keeps a wrapper alive as long as its element (a history's worth of them).
 */
function childrenOf(el: Node): Node[] {
  const out: Node[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) out.push(n);
  return out;
}

/** Node.TEXT_NODE, without the page's `Node` (a page can replace globals of its own world only, but tests have none). */
const TEXT_NODE = 3;

/** What a painted text element was made from: the same inputs give the same view, so no repaint. */
interface Painted {
  author: string;
  items: DecryptedItem[];
  replayed: readonly boolean[];
}

/** The usual message's replay flags (one segment, not replayed): one array for all of them. */
const NOT_REPLAYED: readonly boolean[] = Object.freeze([false]);

/**
 * What Veil knows of one chat text element, in one record (a history keeps thousands, so not one
 * map and one object per fact, and the usual one-envelope message keeps no arrays). Every field
 * is set in the constructor: one object shape for all.
 */
class ElementView {
  /** Where its envelopes came from (show()), so refresh() can decrypt them again. */
  el: Element | undefined = undefined;
  conversationId = '';
  author = '';
  /** Envelope texts per segment (the usual single envelope as its text); undefined until show(). */
  private source: string | string[][] | undefined = undefined;
  /** The answers it shows (the usual single one as itself), so an unchanged refresh repaints nothing. */
  private answer: DecryptedItem | DecryptedItem[] | undefined = undefined;
  /** The author those answers were judged for (show() may have been given another since). */
  private paintedFor = '';
  replayed: readonly boolean[] = NOT_REPLAYED;
  /** Veil's nodes in the element (one or two; none when Veil shows nothing there), and the first's words (undefined: not checked). */
  first: Node | undefined = undefined;
  second: Node | undefined = undefined;
  text: string | undefined = undefined;
  /** What the element showed before "Decrypting…" took its place. */
  hidden: Node[] | undefined = undefined;

  get envelopes(): string[][] | undefined {
    const s = this.source;
    return typeof s === 'string' ? [[s]] : s;
  }

  set envelopes(items: string[][]) {
    this.source = items.length === 1 && items[0]!.length === 1 ? items[0]![0]! : items;
  }

  /** Whether `items` are the envelopes it was last given. */
  holds(items: string[][]): boolean {
    const s = this.source;
    if (typeof s === 'string') return items.length === 1 && items[0]!.length === 1 && items[0]![0] === s;
    return (
      !!s &&
      s.length === items.length &&
      s.every((seg, i) => seg.length === items[i]!.length && seg.every((x, j) => x === items[i]![j]))
    );
  }

  get shows(): DecryptedItem[] | undefined {
    const a = this.answer;
    return a === undefined || Array.isArray(a) ? a : [a];
  }

  painted(): Painted | undefined {
    const items = this.shows;
    return items && { author: this.paintedFor, items, replayed: this.replayed };
  }

  paint(p: Painted): void {
    this.answer = p.items.length === 1 ? p.items[0] : p.items;
    this.paintedFor = p.author;
    this.replayed = p.replayed;
  }

  unpaint(): void {
    this.answer = undefined;
    this.replayed = NOT_REPLAYED;
  }

  /**
   * What Veil now shows in the element (one node, or the text and its badge). The words are the
   * string Veil wrote, not read back from the node: reading would make a second copy per message.
   */
  showNodes(first: Node, second: Node | undefined, text: string | undefined): void {
    this.first = first;
    this.second = second;
    this.text = text;
    this.hidden = undefined;
  }

  dropNodes(): void {
    this.first = this.second = this.text = undefined;
  }
}

export class MessageRenderer {
  private observer?: MutationObserver;
  /** What Veil knows of each chat text element it read. */
  private views = new WeakMap<Element, ElementView>();
  /** The reason badge beside an envelope put back after no answer came: it stays until one does. */
  private failedBadge = new WeakMap<Element, Element>();
  private results = new ResultCache();
  private inFlight = new Map<string, (() => void)[]>();
  /** By conversation: an SPA can switch conversations while a batch is still queued. */
  private queue = new Map<string, Queued[]>();
  private flushScheduled = false;
  private dirty = new Set<Element>();
  private chunkGroups = new ChunkGroups();
  /** A long message's parts by their text elements: a part keeps only Veil's "continued" line. */
  private chunkParts = new WeakMap<Element, ChunkMember>();
  private seenMessageIds = new Map<string, string>();
  private nextId = 0;
  /** Bumped by refresh(): an answer to a request sent before it may predate the change. */
  private generation = 0;
  private lastRefresh: RefreshScope = {};

  constructor(
    private readonly doc: Document,
    private readonly adapter: SiteAdapter,
    private readonly decrypt: DecryptFn,
    private readonly options: RendererOptions = {},
  ) {}

  start(): void {
    this.observer = new MutationObserver((records) => {
      if (!records.length) return; // records Veil took itself (browsers do not call then; some DOMs do)
      this.take(records);
      this.processDirty();
    });
    this.observer.observe(this.doc, watchedChanges(this.adapter));
    this.collect(this.doc.documentElement);
    this.processDirty();
  }

  private take(records: MutationRecord[]): void {
    // A history listed at once is thousands of records: one search of the page then costs less
    // than a search around each. Around each grows with the page too: Chromium answers a selector
    // anchored on an id outside the searched element (`#thread-messages > li.message` under a
    // message) by walking that element's parent, the whole list, every time (measured: 360 ms for
    // 10,000 messages, quadratic).
    if (records.length > MANY_RECORDS) {
      const root = this.doc.documentElement; // none while the page has taken it out
      if (root) this.collect(root);
      return;
    }
    for (const r of records) {
      const node = r.type === 'characterData' ? r.target.parentElement : r.target;
      if (node instanceof Element) this.collect(node, r.type === 'childList' ? r.addedNodes : undefined);
      // A new <html> put in by the page: the record's target is the document itself.
      else if (node === this.doc && this.doc.documentElement) this.collect(this.doc.documentElement, r.addedNodes);
    }
  }

  /**
   * Runs a pass of Veil's own DOM writes. What the host changed before is taken first; what the
   * pass itself changed is then dropped, so Veil does not rescan thousands of its own paints.
   */
  private writing(pass: () => void): void {
    if (this.observer) this.take(this.observer.takeRecords());
    const current = (this.pass = { wrote: new Set(), moved: new Set() });
    try {
      pass();
    } finally {
      this.pass = undefined;
    }
    // Page code can run inside Veil's own writes (a custom element's callbacks, legacy mutation
    // events). Only Veil's own records are dropped: a node list change, in an element Veil wrote,
    // of nodes Veil put in or took out. Anything else (a text edited in place, an attribute, other
    // nodes or elements) is read like any page change, and every element Veil wrote must still
    // hold exactly the nodes it put there.
    const own = (r: MutationRecord) =>
      r.type === 'childList' &&
      current.wrote.has(r.target) &&
      [...r.addedNodes, ...r.removedNodes].every((n) => current.moved.has(n));
    const records = this.observer?.takeRecords() ?? [];
    this.take(records.filter((r) => !own(r)));
    for (const target of current.wrote) {
      const v = this.views.get(target as Element);
      if (v?.first && !this.holdsNodes(target as Element, v)) this.collect(target as Element);
    }
  }

  /** During a write pass: the elements Veil writes into, and the nodes it puts in or takes out. */
  private pass?: { wrote: Set<Node>; moved: Set<Node> };

  private writes(target: Node | null, nodes: Iterable<Node | undefined>): void {
    if (!target || !this.pass) return;
    this.pass.wrote.add(target);
    for (const n of nodes) if (n) this.pass.moved.add(n);
  }

  stop(): void {
    this.observer?.disconnect();
  }

  /**
   * What Veil shows for a message element when it is one authentic message shown as such: its
   * text, message id and envelope texts (for the chat's edit box: its text, and the id an edit is
   * bound to). Undefined for anything flagged, not decrypted or not yet answered.
   */
  shownMessage(el: Element): { messageId: string; text: string; envelopes: string[]; author: string } | undefined {
    const textEl = messageTextOf(this.adapter, el);
    const v = textEl && this.views.get(textEl);
    const [painted, envelopes] = [v?.painted(), v?.envelopes];
    if (!painted || !envelopes || painted.items.length !== 1 || envelopes.length !== 1) return undefined;
    const r = painted.items[0]!;
    if (r.status !== 'decrypted' || !r.messageId) return undefined;
    if (briefViewOf(r, painted.author, painted.replayed[0]!).tone === 'bad') return undefined;
    return { messageId: r.messageId, text: r.text ?? '', envelopes: envelopes[0]!, author: painted.author };
  }

  /**
   * Brings the message with this Veil message id into view and marks it (a search result the user
   * opened). Only a message shown as authentic counts; false when it is not on the page now.
   */
  reveal(messageId: string): boolean {
    const el = allMessages(this.doc, this.adapter).find((m) => this.shownMessage(m)?.messageId === messageId);
    if (!el) return false;
    for (const old of this.doc.querySelectorAll('[data-veil-found]')) old.removeAttribute('data-veil-found');
    el.setAttribute('data-veil-found', '');
    el.scrollIntoView({ block: 'center' });
    return true;
  }

  private collect(target: Element, added?: NodeList): void {
    collectMessages(this.adapter, target, added, this.dirty);
  }

  private context?: { conversationId?: string; composer: HTMLElement | null };

  private checkContext(conversationId: string | undefined): void {
    if (!this.options.onContext) return;
    const composer = queryFirst<HTMLElement>(this.doc, this.adapter.selectors.composer);
    this.options.keepVeilUi?.(composer);
    if (this.context && this.context.conversationId === conversationId && this.context.composer === composer) return;
    this.context = { conversationId, composer };
    this.options.onContext(conversationId, composer);
  }

  private retrying = false;

  private processDirty(): void {
    const conversationId = this.adapter.conversationId(this.doc);
    this.checkContext(conversationId);
    // What page code changed during a pass is read again at once: a few rounds, then in a task (a
    // page that answers every write of Veil's with another change only keeps itself busy).
    for (let round = 0; this.dirty.size && round < 3; round++) {
      this.writing(() => {
        // Taking the pending records may add to `dirty` while it is walked: a Set visits those too.
        for (const el of this.dirty) if (el.isConnected && conversationId) this.process(el, conversationId);
        this.dirty.clear();
      });
    }
    if (this.dirty.size) {
      // The page keeps changing what Veil writes: nothing of Veil's stays beside its words meanwhile.
      for (const el of this.dirty) {
        const textEl = messageTextOf(this.adapter, el);
        if (textEl && this.views.get(textEl)?.first) this.forget(textEl);
      }
      if (!this.retrying) {
        this.retrying = true;
        setTimeout(() => {
          this.retrying = false;
          this.processDirty();
        });
      }
    }
    this.sendSoon();
  }

  private process(el: Element, conversationId: string): void {
    const textEl = messageTextOf(this.adapter, el);
    if (!textEl) return;
    if (this.intact(textEl)) {
      // Still exactly Veil's rendering, for the author it was judged for. The page may name
      // another author on it afterwards: a badge must not vouch for whom the page now says wrote it.
      // A name taken away is not another name: chats drop it from a sender's later messages.
      if (!namedAuthor(this.adapter, el)) return;
      const now = messageAuthor(this.adapter, el);
      const part = this.chunkParts.get(textEl);
      if (part) return void (now !== part.author && this.rejudge(el, textEl, conversationId, [part.text]));
      const v = this.views.get(textEl)!;
      if (v.envelopes && now !== v.author) this.rejudge(el, textEl, conversationId, v.envelopes.flat());
      return;
    }
    this.forget(textEl);
    const raw = textEl.textContent ?? '';
    const { envelopes, chunk } = scanText(raw);
    if (envelopes.length === 0) return this.flagUnencrypted(el, textEl, raw);
    this.unflag(el);
    const author = this.results.intern(messageAuthor(this.adapter, el));
    if (chunk) return this.processChunk(el, textEl, conversationId, author, chunk, envelopes[0]!);
    this.show(
      el,
      textEl,
      conversationId,
      author,
      envelopes.map((text) => [text]),
    );
  }

  /**
   * The message shows the envelope again (what the chat delivered; never the words judged for the
   * other author) and is read as new, so "Decrypting…" covers it until its answer for the author
   * the page names now.
   */
  private rejudge(el: Element, textEl: Element, conversationId: string, own: string[]): void {
    const v = this.views.get(textEl)!;
    v.dropNodes();
    v.unpaint();
    v.hidden = undefined;
    textEl.removeAttribute('data-veil-shown');
    el.removeAttribute('data-veil-status');
    const envelopeText = this.doc.createTextNode(own.join('\n'));
    this.writes(textEl, [...childrenOf(textEl), envelopeText]);
    textEl.replaceChildren(envelopeText);
    this.process(el, conversationId);
  }

  private processChunk(
    el: Element,
    textEl: Element,
    conversationId: string,
    author: string,
    chunk: ChunkRef,
    text: string,
  ): void {
    const member: ChunkMember = { el, text, author };
    const group = this.chunkGroups.add(chunk, member);
    if (!group) return; // more parts than it claims: ignored
    this.chunkParts.set(textEl, member);
    renameParts(this.adapter, group);
    const first = group.get(0);
    for (const [index, part] of group) {
      if (index === 0) continue;
      const pt = messageTextOf(this.adapter, part.el);
      if (pt) this.paint(pt, partView(index, chunk.count), CONTINUED_TEXT());
    }
    if (group.size < chunk.count || !first) {
      const head = first ? messageTextOf(this.adapter, first.el) : textEl;
      if (head) this.paint(head, incompleteView(group.size, chunk.count), '');
      return;
    }
    const headText = messageTextOf(this.adapter, first.el)!;
    if (mixedAuthors(group)) {
      this.paint(headText, mixedAuthorsView(), '');
      return;
    }
    this.show(first.el, headText, conversationId, author, [partTexts(group)]);
  }

  /**
   * The keyring or the policy changed: forget results that the change can turn into
   * something else and decrypt those messages again from their kept envelope texts. By default
   * that is locked, unknown key, a revoked key, or any key in `scope.keyIds` (unlock, import,
   * rotate, revoke); with `scope.all` every result (the keyring was locked or the policy changed,
   * so keys may be gone: their plaintext leaves the screen and the message says why).
   * Quietly: a message keeps showing what it shows until its new result is in, then changes in
   * one step, and one whose result did not change is not repainted at all, so decrypted messages
   * never flicker back to ciphertext or "Decrypting…". Messages whose last attempt failed are
   * retried too.
   */
  refresh(scope: RefreshScope = {}): void {
    this.generation++;
    if (scope.all) this.lockedOrPolicyAt = this.generation;
    this.redo(scope);
  }

  /** The generation of the last refresh of every result (the keyring locked, the policy changed). */
  private lockedOrPolicyAt = 0;

  private redo(scope: RefreshScope): void {
    this.lastRefresh = scope;
    const stale = new Set<string>();
    for (const [who, envelope, r] of this.results.entries()) {
      if (!scope.all && !this.isRefreshable(r)) continue;
      stale.add(`${who}\n${envelope}`);
      this.results.delete(who, envelope);
    }
    this.writing(() => {
      for (const el of allMessages(this.doc, this.adapter)) {
        const textEl = messageTextOf(this.adapter, el);
        if (!textEl) continue;
        const v = this.views.get(textEl);
        const envelopes = v?.envelopes;
        if (v?.el && envelopes && this.intact(textEl)) {
          // Judged by what the element shows too: its answer may have left the bounded cache.
          const affected =
            !!v.shows?.some((r) => scope.all || this.isRefreshable(r)) ||
            envelopes.some((texts) => stale.has(`${v.conversationId}\n${v.author}\n${texts.join('\n')}`));
          if (affected) this.show(v.el, textEl, v.conversationId, v.author, envelopes, true);
        } else {
          this.dirty.add(el); // not painted yet, or its last attempt failed: try again
        }
      }
    });
    this.processDirty();
  }

  private isRefreshable(r: DecryptedItem): boolean {
    return (
      r.status === 'locked' ||
      r.status === 'unknown-key' ||
      r.keyStatus === 'revoked' ||
      (!!r.keyId && !!this.lastRefresh.keyIds?.includes(r.keyId))
    );
  }

  private show(
    el: Element,
    textEl: Element,
    conversationId: string,
    author: string,
    items: string[][],
    quiet = false,
  ): void {
    Object.assign(this.view(textEl), { el, conversationId, author, envelopes: items });
    const pending: string[] = [];
    for (const texts of items) {
      const who = `${conversationId}\n${author}`;
      const envelope = envelopeKey(texts);
      if (this.results.get(who, envelope)) continue;
      const cacheKey = `${who}\n${envelope}`;
      pending.push(cacheKey);
      // Unless the element was shown for another author or other envelopes since (the page
      // renamed it or swapped its words meanwhile).
      const again = () => {
        const v = this.views.get(textEl);
        if (v?.author === author && v.holds(items)) this.show(el, textEl, conversationId, author, items);
      };
      const waiting = this.inFlight.get(cacheKey);
      if (waiting) {
        waiting.push(again);
        continue;
      }
      this.inFlight.set(cacheKey, [again]);
      let q = this.queue.get(conversationId);
      if (!q) this.queue.set(conversationId, (q = []));
      // The chat's id for the message lets the background tell a re-render from a re-delivery.
      q.push({
        cacheKey,
        who,
        envelope,
        item: { id: String(this.nextId++), texts, author, hostId: hostIdOf(this.adapter, el) },
      });
    }
    if (pending.length) {
      if (!quiet) this.paintPending(textEl);
      this.sendSoon();
      return;
    }
    const hostId = hostIdOf(this.adapter, el) ?? null;
    const rs = items.map((texts) =>
      placedEdit(this.results.get(`${conversationId}\n${author}`, envelopeKey(texts))!, hostId),
    );
    const flags = rs.map((r) => this.isReplay(r, hostId));
    const replayed = flags.length === 1 && !flags[0] ? NOT_REPLAYED : flags;
    this.paintSegments(el, textEl, { author, items: rs, replayed });
  }

  /** An authentic message id seen before under a different host message id is a replay. */
  private isReplay(r: DecryptedItem, hostId: string | null): boolean {
    if (!r.messageId || !hostId) return false;
    const first = this.seenMessageIds.get(r.messageId);
    if (first === undefined) {
      // Bounded (oldest first); the background's replay log still remembers what falls out here.
      if (this.seenMessageIds.size >= MAX_SEEN_IDS)
        this.seenMessageIds.delete(this.seenMessageIds.keys().next().value!);
      this.seenMessageIds.set(r.messageId, hostId);
    }
    return first !== undefined && first !== hostId;
  }

  /**
   * Sends what is queued once the current pass is over (a microtask, not a task: the request
   * leaves before the browser renders the next frame, and a whole history is still one batch).
   */
  private sendSoon(): void {
    if (this.flushScheduled || !this.queue.size) return;
    this.flushScheduled = true;
    queueMicrotask(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const generation = this.generation;
    const requests: { conversationId: string; part: Queued[] }[] = [];
    for (const [conversationId, batch] of this.queue) {
      for (let i = 0; i < batch.length; i += BATCH) requests.push({ conversationId, part: batch.slice(i, i + BATCH) });
    }
    this.queue.clear();
    // All answers first, then painted in one task: one layout for a whole history, not one per
    // batch (painting each batch on its own laid out and painted the page N / BATCH times).
    const answers = await Promise.all(
      requests.map(({ conversationId, part }) =>
        this.decrypt(
          conversationId,
          part.map((p) => p.item),
        ),
      ),
    );
    if (this.lockedOrPolicyAt > generation) {
      // The keyring was locked or the policy changed while this batch was out: its answers may
      // show what is no longer allowed. Nothing of it is shown or kept; it is asked again.
      this.writing(() => this.askAgain(requests));
      this.processDirty();
      return;
    }
    this.writing(() => this.settle(requests, answers));
    this.processDirty(); // host changes taken during the pass, and envelopes put back after a failure
    // A refresh() while this batch was out: its locked/unknown answers may predate the change.
    if (generation !== this.generation && anyRefreshable(answers, (r) => this.isRefreshable(r))) {
      this.redo({ keyIds: this.lastRefresh.keyIds }); // once: redo() does not bump the generation, so no ping-pong
    }
  }

  /** The messages of these requests ask the background again (their answers are dropped). */
  private askAgain(requests: { part: Queued[] }[]): void {
    for (const { part } of requests) {
      for (const { cacheKey } of part) {
        const waiting = this.inFlight.get(cacheKey) ?? [];
        this.inFlight.delete(cacheKey);
        for (const again of waiting) again();
      }
    }
  }

  /** One DOM write pass for every answer of a flush (no layout reads in between). */
  private settle(requests: { part: Queued[] }[], answers: (DecryptedItem[] | { error: string })[]): void {
    requests.forEach(({ part }, i) => {
      const res = answers[i]!;
      const byId = new Map(Array.isArray(res) ? res.map((r) => [r.id, r]) : []);
      for (const { cacheKey, who, envelope, item } of part) {
        const r = byId.get(item.id);
        const waiting = this.inFlight.get(cacheKey) ?? [];
        this.inFlight.delete(cacheKey);
        if (!r) {
          // Background unreachable: keep the envelope, say why; the next change retries.
          this.failed.push(Array.isArray(res) ? '' : res.error);
          continue;
        }
        this.results.set(who, envelope, r);
        for (const again of waiting) again();
      }
    });
    this.results.trim();
    this.showFailures();
  }

  private failed: string[] = [];

  private flagUnencrypted(el: Element, textEl: Element, raw: string): void {
    if (this.options.flagUnencrypted === false || !raw.trim()) return;
    if (el.querySelector(':scope .veil-unencrypted')) return;
    const badge = this.badge(notEncryptedView());
    badge.classList.add('veil-unencrypted');
    this.writes(textEl.parentNode, [badge]);
    textEl.after(badge); // beside the host's text, which stays exactly as the host rendered it
    el.setAttribute('data-veil-unencrypted', 'true');
  }

  /** A message the host turned from plaintext into an envelope (an edit) loses its flag. */
  private unflag(el: Element): void {
    if (!el.hasAttribute('data-veil-unencrypted')) return;
    el.removeAttribute('data-veil-unencrypted');
    el.querySelectorAll('.veil-unencrypted').forEach((b) => {
      this.writes(b.parentNode, [b]);
      b.remove();
    });
  }

  private showFailures(): void {
    if (!this.failed.length) return;
    const why = this.failed[0]!;
    this.failed = [];
    for (const b of this.doc.querySelectorAll<HTMLElement>('.veil-badge[data-veil-status="pending"]')) {
      const view = notDecryptedView(why);
      labelBadge(b, view);
      this.unhide(b);
    }
  }

  /**
   * "Decrypting…" takes the envelope's place at once: this runs in the mutation callback, before
   * the browser paints, so no frame shows the envelope even when the answer takes several frames.
   */
  private paintPending(textEl: Element): void {
    if (this.failedBadge.get(textEl)?.parentNode === textEl) return; // a failure beside the envelope stays until an answer
    const v = this.view(textEl);
    // Already "Decrypting…" (a message of several envelopes, answered one by one): what it showed
    // before stays the envelope, to put back if no answer comes.
    if (v.hidden && this.intact(textEl)) return;
    const before = childrenOf(textEl);
    v.unpaint();
    // Every pending badge is the same: cloned from one made once (a history shows thousands).
    this.pendingTemplate ??= this.badge(decryptingView());
    this.setRendered(textEl, this.pendingTemplate.cloneNode(true), undefined, ''); // a badge has no text of its own
    v.hidden = before;
    textEl.closest('[data-veil-status]')?.removeAttribute('data-veil-status');
  }

  /** No answer (background unreachable): the envelope comes back with the reason beside it. */
  private unhide(badge: Element): void {
    const textEl = badge.parentElement;
    const v = textEl && this.views.get(textEl);
    const before = v?.hidden;
    if (!v || !before || v.first !== badge || !this.intact(textEl)) return;
    v.dropNodes();
    v.hidden = undefined;
    this.failedBadge.set(textEl, badge);
    textEl.removeAttribute('data-veil-shown');
    this.writes(textEl, [...childrenOf(textEl), ...before, badge]);
    textEl.replaceChildren(...before, badge);
    const msg = messageOf(this.adapter, textEl);
    if (msg) this.dirty.add(msg); // asked again (once: the reason beside the envelope stays until an answer)
  }

  private paintSegments(el: Element, textEl: Element, shows: Painted): void {
    const v = this.view(textEl);
    const before = v.painted();
    if (before && this.intact(textEl) && samePainted(before, shows)) {
      el.setAttribute('data-veil-status', this.worst(before));
      return; // already showing exactly this: no repaint
    }
    v.paint(shows);
    const views = shows.items.map((r, i) => viewOf(r, shows.author, shows.replayed[i]!));
    const shown = (i: number) =>
      shows.items[i]!.status === 'decrypted' && views[i]!.status !== 'moved' && views[i]!.status !== 'sender-mismatch';
    const only = views.length === 1 ? shows.items[0]! : undefined;
    if (only && !(shown(0) && (only.text ?? '').startsWith(FILE_REF_PREFIX))) {
      // The common case, one message of text: its words as one text node in the chat's own
      // element and the badge after it, one node more than the envelope had (a history shows
      // thousands). Text only, never HTML.
      const text = shown(0) ? (only.text ?? '') : '';
      const badge = this.badge(views[0]!);
      if (text) this.setRendered(textEl, this.doc.createTextNode(text), badge, text);
      else this.setRendered(textEl, badge, undefined, '');
    } else {
      const wrap = this.doc.createElement('span');
      wrap.className = 'veil-rendered';
      let files = false;
      views.forEach((view, i) => {
        const r = shows.items[i]!;
        const seg = views.length === 1 ? wrap : wrap.appendChild(this.doc.createElement('span'));
        if (seg !== wrap) seg.className = 'veil-segment';
        if (shown(i)) {
          const plain = seg.appendChild(this.doc.createElement('span'));
          plain.className = 'veil-plain';
          // A message naming encrypted attachments shows them as files; any other, as text only.
          if (this.paintFiles(plain, r.text ?? '', el, shows.author)) files = true;
          else plain.textContent = r.text ?? '';
        }
        seg.append(this.badge(view));
      });
      // Its words are checked like a single message's; file previews fill in later, so not theirs.
      this.setRendered(textEl, wrap, undefined, files ? null : undefined);
    }
    el.setAttribute('data-veil-status', views.map((v) => v.status).find((s) => s !== 'decrypted') ?? 'decrypted');
  }

  private paintFiles(into: HTMLElement, text: string, message: Element, author: string): boolean {
    const request = this.options.fileRequest;
    if (!request || !text.startsWith(FILE_REF_PREFIX)) return false;
    const conversationId = this.adapter.conversationId(this.doc);
    return !!conversationId && renderFileMessage(into, text, { conversationId, author, message, request });
  }

  /** The status a message shows: its first segment that is not plainly decrypted. */
  private worst(p: Painted): string {
    for (let i = 0; i < p.items.length; i++) {
      const status = briefViewOf(p.items[i]!, p.author, p.replayed[i]!).status;
      if (status !== 'decrypted') return status;
    }
    return 'decrypted';
  }

  private paint(textEl: Element, view: StatusView, text: string): void {
    this.views.get(textEl)?.unpaint();
    const badge = this.badge(view);
    if (text) {
      const t = this.doc.createElement('span');
      t.className = 'veil-continued';
      t.textContent = text;
      this.setRendered(textEl, t, badge, text);
    } else this.setRendered(textEl, badge, undefined, '');
    messageOf(this.adapter, textEl)?.setAttribute('data-veil-status', view.status);
  }

  /**
   * What Veil shows in the chat's text element; the first node is how Veil knows its rendering is
   * still there, and its words (`text`, else read once here; null: not checked) how Veil knows the
   * page did not write into it. The element keeps white space as typed (the stylesheet, by this attribute).
   */
  private setRendered(textEl: Element, first: Node, second?: Node, text?: string | null): void {
    this.view(textEl).showNodes(first, second, text === null ? undefined : (text ?? first.textContent ?? ''));
    textEl.setAttribute('data-veil-shown', '');
    this.writes(textEl, [...childrenOf(textEl), first, second]);
    if (second) textEl.replaceChildren(first, second);
    else textEl.replaceChildren(first);
  }

  /**
   * Whether the element still shows exactly what Veil put there: the same nodes, and the words it
   * wrote. The page replacing or editing any part of it (its own re-render, or an attack) makes
   * Veil read the element again.
   */
  private intact(textEl: Element): boolean {
    const v = this.views.get(textEl);
    if (!v?.first || !this.holdsNodes(textEl, v)) return false;
    return v.text === undefined || v.first.textContent === v.text;
  }

  private holdsNodes(textEl: Element, v: ElementView): boolean {
    const first = textEl.firstChild;
    if (!first || first !== v.first) return false;
    return v.second ? first.nextSibling === v.second && !v.second.nextSibling : !first.nextSibling;
  }

  /**
   * The page changed what Veil showed: Veil's own elements left in it go (a badge must not vouch
   * for words the page put there), and nothing is shown as this message's until it is read again.
   * Text nodes stay: whatever words are in them now are the page's.
   */
  private forget(textEl: Element): void {
    const v = this.views.get(textEl);
    if (!v?.first) return;
    const nodes = [v.first, v.second];
    v.dropNodes();
    v.unpaint();
    textEl.removeAttribute('data-veil-shown');
    messageOf(this.adapter, textEl)?.removeAttribute('data-veil-status');
    const gone = nodes.filter((n) => n && n.nodeType !== TEXT_NODE && n.parentNode === textEl);
    this.writes(textEl, gone);
    for (const n of gone) textEl.removeChild(n!);
  }

  private pendingTemplate?: Node;

  private view(textEl: Element): ElementView {
    let v = this.views.get(textEl);
    if (!v) this.views.set(textEl, (v = new ElementView()));
    return v;
  }

  private badge(view: StatusView): HTMLElement {
    const b = this.doc.createElement('span');
    b.tabIndex = 0;
    b.setAttribute('role', 'img'); // a labelled symbol: screen readers read its aria-label
    labelBadge(b, view);
    return b;
  }
}

/**
 * A status badge is one empty element: its words are drawn by the stylesheet from
 * `data-veil-label` (no text node), the detail is its title (shown on keyboard focus too), and
 * screen readers get both from its aria-label.
 */
function labelBadge(b: HTMLElement, view: StatusView): void {
  b.className = `veil-badge veil-${view.tone}`;
  b.dataset.veilStatus = view.status;
  b.dataset.veilLabel = view.label;
  b.title = view.detail;
  b.setAttribute('aria-label', ariaLabelOf(view));
}

/**
 * An edit names the chat's id of the message it replaces; answers are cached by envelope text, so
 * where it is shown is checked here, per element: an edit the vendor moved onto another message
 * is flagged there.
 */
function placedEdit(r: DecryptedItem, hostId: string | null): DecryptedItem {
  if (!r.editOf) return r;
  const grafted = r.editOf.hostId !== (hostId ?? '');
  return grafted === !!r.graftedEdit ? r : { ...r, graftedEdit: grafted };
}

/** Same inputs to viewOf (compared field by field only when not the same cached answer). */
function samePainted(a: Painted, b: Painted): boolean {
  return (
    a.author === b.author &&
    a.items.length === b.items.length &&
    a.items.every((r, i) => a.replayed[i] === b.replayed[i] && (r === b.items[i] || sameAnswer(r, b.items[i]!)))
  );
}

/** Two answers that say the same (their request ids aside). */
function sameAnswer(a: DecryptedItem, b: DecryptedItem): boolean {
  return JSON.stringify({ ...a, id: '' }) === JSON.stringify({ ...b, id: '' });
}

/** Which cached results refresh() forgets (see there). */
export interface RefreshScope {
  keyIds?: string[];
  all?: boolean;
}

/** Whether any answer of a batch is of a kind a keyring change could alter (the answers themselves: the cache is bounded). */
function anyRefreshable(
  answers: (DecryptedItem[] | { error: string })[],
  refreshable: (r: DecryptedItem) => boolean,
): boolean {
  return answers.some((res) => Array.isArray(res) && res.some(refreshable));
}
