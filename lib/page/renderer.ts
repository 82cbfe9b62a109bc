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
 * on refresh() (issue #8): the envelope texts of every painted message are kept for that, since
 * the node itself now shows plaintext.
 *
 * A message without an envelope in a protected chat is marked "not encrypted" (policy
 * `flagUnencrypted`), next to its text rather than inside it: the host's text stays untouched.
 */
import { closestAny, messageAuthor, queryFirst, type SiteAdapter } from '../adapters/types';
import { findEnvelopes } from '../crypto/codec';
import { KIND_CHUNK, parseChunk } from '../crypto/chunks';
import type { DecryptedItem, DecryptItem } from '../messaging/protocol';
import {
  ariaLabelOf,
  CONTINUED_TEXT,
  decryptingView,
  incompleteView,
  mixedAuthorsView,
  NOT_ENCRYPTED_VIEW,
  notDecryptedView,
  partView,
  viewOf,
  type StatusView,
} from '../i18n/status-text';

const BATCH = 1_000;
/** Long messages in flight at once; a page inventing chunk groups cannot grow this further. */
const MAX_CHUNK_GROUPS = 1_000;
/** Authentic message ids remembered for in-page replay checks. */
const MAX_SEEN_IDS = 20_000;

export type DecryptFn = (conversationId: string, items: DecryptItem[]) => Promise<DecryptedItem[] | { error: string }>;

export interface RendererOptions {
  /** Mark plaintext messages as not encrypted (policy `flagUnencrypted`, default true). */
  flagUnencrypted?: boolean;
  /**
   * Called when the open conversation or the composer element changes (first render included):
   * single-page apps mount the composer late and switch conversations without a page load.
   */
  onContext?(conversationId: string | undefined, composer: HTMLElement | null): void;
}

interface Segment {
  texts: string[];
  /** For chunked messages: where this node sits in the group. */
  chunk?: { group: string; index: number; count: number };
}

export class MessageRenderer {
  private observer?: MutationObserver;
  private rendered = new WeakMap<Element, Node>();
  private results = new Map<string, DecryptedItem>();
  private inFlight = new Map<string, (() => void)[]>();
  /** By conversation: an SPA can switch conversations while a batch is still queued. */
  private queue = new Map<string, { cacheKey: string; item: DecryptItem }[]>();
  private flushScheduled = false;
  private dirty = new Set<Element>();
  private chunkGroups = new Map<string, Map<number, { el: Element; text: string; author: string }>>();
  private seenMessageIds = new Map<string, string>();
  private nextId = 0;
  /** What each painted text element was made from, so refresh() can decrypt it again. */
  private sources = new WeakMap<Element, { el: Element; conversationId: string; author: string; items: string[][] }>();
  /** What each painted text element shows, so a refresh that changes nothing repaints nothing. */
  private painted = new WeakMap<Element, string>();
  /** What a message showing "Decrypting…" showed before: put back beside the reason if no answer comes. */
  private hidden = new WeakMap<Element, { nodes: Node[]; rendered?: Node }>();
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
      for (const r of records) {
        const node = r.type === 'characterData' ? r.target.parentElement : r.target;
        if (node instanceof Element) this.collect(node, r.type === 'childList' ? r.addedNodes : undefined);
      }
      this.processDirty();
    });
    this.observer.observe(this.doc, { childList: true, subtree: true, characterData: true });
    this.collect(this.doc.documentElement);
    this.processDirty();
  }

  stop(): void {
    this.observer?.disconnect();
  }

  private collect(target: Element, added?: NodeList): void {
    const msg = closestAny(target, this.adapter.selectors.message);
    if (msg) this.dirty.add(msg);
    const roots = added ? [...added].filter((n): n is Element => n instanceof Element) : [target];
    for (const root of roots) {
      for (const sel of this.adapter.selectors.message) {
        if (root.matches(sel)) this.dirty.add(root);
        for (const el of root.querySelectorAll(sel)) this.dirty.add(el);
      }
    }
  }

  private context?: { conversationId?: string; composer: HTMLElement | null };

  private checkContext(conversationId: string | undefined): void {
    if (!this.options.onContext) return;
    const composer = queryFirst<HTMLElement>(this.doc, this.adapter.selectors.composer);
    if (this.context && this.context.conversationId === conversationId && this.context.composer === composer) return;
    this.context = { conversationId, composer };
    this.options.onContext(conversationId, composer);
  }

  private processDirty(): void {
    const conversationId = this.adapter.conversationId(this.doc);
    this.checkContext(conversationId);
    for (const el of this.dirty) if (el.isConnected && conversationId) this.process(el, conversationId);
    this.dirty.clear();
  }

  private authorOf(el: Element): string {
    return messageAuthor(this.adapter, el);
  }

  private process(el: Element, conversationId: string): void {
    const textEl = queryFirst(el, this.adapter.selectors.messageText);
    if (!textEl) return;
    const ours = this.rendered.get(textEl);
    if (ours && textEl.firstChild === ours) return; // still showing our rendering
    const raw = textEl.textContent ?? '';
    const found = findEnvelopes(raw);
    if (found.length === 0) return this.flagUnencrypted(el, textEl, raw);
    this.unflag(el);
    const author = this.authorOf(el);
    const segments: Segment[] = [];
    for (const f of found) {
      const text = raw.slice(f.start, f.end);
      if (f.kind === 'envelope' && f.frame[0] === KIND_CHUNK && found.length === 1) {
        const c = parseChunk(f.frame);
        if (!('error' in c)) {
          segments.push({ texts: [text], chunk: { group: c.group, index: c.index, count: c.count } });
          continue;
        }
      }
      segments.push({ texts: [text] });
    }
    const chunk = segments[0]!.chunk;
    if (chunk) return this.processChunk(el, textEl, conversationId, author, chunk, segments[0]!.texts[0]!);
    this.show(
      el,
      textEl,
      conversationId,
      author,
      segments.map((s) => s.texts),
    );
  }

  private processChunk(
    el: Element,
    textEl: Element,
    conversationId: string,
    author: string,
    chunk: NonNullable<Segment['chunk']>,
    text: string,
  ): void {
    let group = this.chunkGroups.get(chunk.group);
    if (!group) {
      // Bounded: a page inventing chunk groups must not grow this without end (oldest go first).
      if (this.chunkGroups.size >= MAX_CHUNK_GROUPS) this.chunkGroups.delete(this.chunkGroups.keys().next().value!);
      this.chunkGroups.set(chunk.group, (group = new Map()));
    }
    if (!group.has(chunk.index) && group.size >= chunk.count) return; // more parts than it claims: ignored
    group.set(chunk.index, { el, text, author });
    const first = group.get(0);
    for (const [index, part] of group) {
      if (index === 0) continue;
      const pt = queryFirst(part.el, this.adapter.selectors.messageText);
      if (pt) this.paint(pt, partView(index, chunk.count), CONTINUED_TEXT());
    }
    if (group.size < chunk.count || !first) {
      const head = first ? queryFirst(first.el, this.adapter.selectors.messageText) : textEl;
      if (head) this.paint(head, incompleteView(group.size, chunk.count), '');
      return;
    }
    const authors = new Set([...group.values()].map((p) => p.author));
    const headText = queryFirst(first.el, this.adapter.selectors.messageText)!;
    if (authors.size > 1) {
      this.paint(headText, mixedAuthorsView(), '');
      return;
    }
    const texts = [...group.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p.text);
    this.show(first.el, headText, conversationId, author, [texts]);
  }

  /**
   * The keyring or the policy changed (issue #8): forget results that the change can turn into
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
    this.redo(scope);
  }

  private redo(scope: RefreshScope): void {
    this.lastRefresh = scope;
    const stale = new Set<string>();
    for (const [cacheKey, r] of this.results) {
      if (scope.all || this.isRefreshable(r)) stale.add(cacheKey);
    }
    for (const k of stale) this.results.delete(k);
    for (const sel of this.adapter.selectors.message) {
      for (const el of this.doc.querySelectorAll(sel)) {
        const textEl = queryFirst(el, this.adapter.selectors.messageText);
        if (!textEl) continue;
        const src = this.sources.get(textEl);
        const ours = this.rendered.get(textEl);
        if (src && ours && textEl.firstChild === ours) {
          const affected = src.items.some((texts) =>
            stale.has(`${src.conversationId}\n${src.author}\n${texts.join('\n')}`),
          );
          if (affected) this.show(src.el, textEl, src.conversationId, src.author, src.items, true);
        } else {
          this.dirty.add(el); // not painted yet, or its last attempt failed: try again
        }
      }
    }
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
    this.sources.set(textEl, { el, conversationId, author, items });
    const pending: string[] = [];
    for (const texts of items) {
      const cacheKey = `${conversationId}\n${author}\n${texts.join('\n')}`;
      if (this.results.has(cacheKey)) continue;
      pending.push(cacheKey);
      const again = () => this.show(el, textEl, conversationId, author, items);
      const waiting = this.inFlight.get(cacheKey);
      if (waiting) {
        waiting.push(again);
        continue;
      }
      this.inFlight.set(cacheKey, [again]);
      let q = this.queue.get(conversationId);
      if (!q) this.queue.set(conversationId, (q = []));
      // The chat's id for the message lets the background tell a re-render from a re-delivery.
      const hostId = (this.adapter.messageIdAttribute && el.getAttribute(this.adapter.messageIdAttribute)) || undefined;
      q.push({ cacheKey, item: { id: String(this.nextId++), texts, author, hostId } });
    }
    if (pending.length) {
      if (!quiet) this.paintPending(textEl);
      this.scheduleFlush();
      return;
    }
    const hostId = this.adapter.messageIdAttribute ? el.getAttribute(this.adapter.messageIdAttribute) : null;
    const segments = items.map((texts) => {
      const r = this.results.get(`${conversationId}\n${author}\n${texts.join('\n')}`)!;
      return { r, view: viewOf(r, author, this.isReplay(r, hostId)) };
    });
    this.paintSegments(el, textEl, segments);
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

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => void this.flush(), 0);
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const generation = this.generation;
    const requests: { conversationId: string; part: { cacheKey: string; item: DecryptItem }[] }[] = [];
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
    requests.forEach(({ part }, i) => {
      const res = answers[i]!;
      const byId = new Map(Array.isArray(res) ? res.map((r) => [r.id, r]) : []);
      for (const { cacheKey, item } of part) {
        const r = byId.get(item.id);
        const waiting = this.inFlight.get(cacheKey) ?? [];
        this.inFlight.delete(cacheKey);
        if (!r) {
          // Background unreachable: keep the envelope, say why; the next change retries.
          this.failed.push(Array.isArray(res) ? '' : res.error);
          continue;
        }
        this.results.set(cacheKey, r);
        for (const again of waiting) again();
      }
    });
    this.showFailures();
    // A refresh() while this batch was out: its locked/unknown answers may predate the change.
    if (generation !== this.generation && anyRefreshable(requests, this.results, (r) => this.isRefreshable(r))) {
      this.redo({ keyIds: this.lastRefresh.keyIds }); // once: redo() does not bump the generation, so no ping-pong
    }
  }

  private failed: string[] = [];

  private flagUnencrypted(el: Element, textEl: Element, raw: string): void {
    if (this.options.flagUnencrypted === false || !raw.trim()) return;
    if (el.querySelector(':scope .veil-unencrypted')) return;
    const badge = this.badge(NOT_ENCRYPTED_VIEW);
    badge.classList.add('veil-unencrypted');
    textEl.after(badge); // beside the host's text, which stays exactly as the host rendered it
    el.setAttribute('data-veil-unencrypted', 'true');
  }

  /** A message the host turned from plaintext into an envelope (an edit) loses its flag. */
  private unflag(el: Element): void {
    if (!el.hasAttribute('data-veil-unencrypted')) return;
    el.removeAttribute('data-veil-unencrypted');
    el.querySelectorAll('.veil-unencrypted').forEach((b) => b.remove());
  }

  private showFailures(): void {
    if (!this.failed.length) return;
    const why = this.failed[0]!;
    this.failed = [];
    for (const b of this.doc.querySelectorAll<HTMLElement>('.veil-badge[data-veil-status="pending"]')) {
      const view = notDecryptedView(why);
      b.className = 'veil-badge veil-warn';
      b.textContent = view.label;
      b.title = view.detail;
      b.setAttribute('aria-label', ariaLabelOf(view));
      this.unhide(b);
    }
  }

  /**
   * "Decrypting…" takes the envelope's place at once: this runs in the mutation callback, before
   * the browser paints, so no frame shows the envelope even when the answer takes several frames.
   */
  private paintPending(textEl: Element): void {
    if (textEl.querySelector(':scope > .veil-badge')) return; // a failure beside the envelope stays until an answer
    const before = { nodes: [...textEl.childNodes], rendered: this.rendered.get(textEl) };
    this.painted.delete(textEl);
    const wrap = this.doc.createElement('span');
    wrap.className = 'veil-rendered';
    wrap.append(this.badge(decryptingView()));
    this.setRendered(textEl, wrap);
    this.hidden.set(textEl, before);
    textEl.closest('[data-veil-status]')?.removeAttribute('data-veil-status');
  }

  /** No answer (background unreachable): the envelope comes back with the reason beside it. */
  private unhide(badge: Element): void {
    const wrap = badge.parentElement;
    const textEl = wrap?.parentElement;
    const before = textEl && this.hidden.get(textEl);
    if (!before || textEl.firstChild !== wrap || this.rendered.get(textEl) !== wrap) return;
    this.hidden.delete(textEl);
    if (before.rendered) this.rendered.set(textEl, before.rendered);
    else this.rendered.delete(textEl);
    textEl.replaceChildren(...before.nodes, badge);
  }

  private paintSegments(el: Element, textEl: Element, segments: { r: DecryptedItem; view: StatusView }[]): void {
    const worst = segments.map((s) => s.view.status).find((s) => s !== 'decrypted') ?? 'decrypted';
    const shows = JSON.stringify(
      segments.map(({ r, view }) => [r.status, r.text, view.status, view.label, view.detail]),
    );
    if (this.painted.get(textEl) === shows && textEl.firstChild === this.rendered.get(textEl)) {
      el.setAttribute('data-veil-status', worst);
      return; // already showing exactly this: no repaint
    }
    this.painted.set(textEl, shows);
    const wrap = this.doc.createElement('span');
    wrap.className = 'veil-rendered';
    for (const { r, view } of segments) {
      const seg = this.doc.createElement('span');
      seg.className = 'veil-segment';
      if (r.status === 'decrypted' && view.status !== 'moved' && view.status !== 'sender-mismatch') {
        const plain = this.doc.createElement('span');
        plain.className = 'veil-plain';
        plain.textContent = r.text ?? ''; // text only, never HTML
        seg.append(plain);
      }
      seg.append(this.badge(view));
      wrap.append(seg);
    }
    this.setRendered(textEl, wrap);
    el.setAttribute('data-veil-status', worst);
  }

  private paint(textEl: Element, view: StatusView, text: string): void {
    this.painted.delete(textEl);
    const wrap = this.doc.createElement('span');
    wrap.className = 'veil-rendered';
    if (text) {
      const t = this.doc.createElement('span');
      t.className = 'veil-continued';
      t.textContent = text;
      wrap.append(t);
    }
    wrap.append(this.badge(view));
    this.setRendered(textEl, wrap);
    textEl.closest(this.adapter.selectors.message.join(','))?.setAttribute('data-veil-status', view.status);
  }

  private setRendered(textEl: Element, content: Node): void {
    this.hidden.delete(textEl);
    this.rendered.set(textEl, content);
    textEl.replaceChildren(content);
  }

  private badge(view: StatusView): HTMLElement {
    const b = this.doc.createElement('span');
    b.className = `veil-badge veil-${view.tone}`;
    b.dataset.veilStatus = view.status;
    b.tabIndex = 0;
    b.title = view.detail;
    b.setAttribute('aria-label', ariaLabelOf(view));
    b.textContent = view.label;
    return b;
  }
}

/** Which cached results refresh() forgets (see there). */
export interface RefreshScope {
  keyIds?: string[];
  all?: boolean;
}

/** Whether any answer of a batch is of a kind a keyring change could alter. */
function anyRefreshable(
  requests: { part: { cacheKey: string }[] }[],
  results: Map<string, DecryptedItem>,
  refreshable: (r: DecryptedItem) => boolean,
): boolean {
  return requests.some(({ part }) =>
    part.some(({ cacheKey }) => {
      const r = results.get(cacheKey);
      return !!r && refreshable(r);
    }),
  );
}
