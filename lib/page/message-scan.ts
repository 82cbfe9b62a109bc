/**
 * Reading the chat's message list, the same way for inline mode (renderer.ts) and isolated mode
 * (isolated/readers.ts): which message elements a DOM change touched, what a message's text,
 * envelopes, author and host id are, and how the parts of a long (chunked) message come together.
 * All of it goes through the site adapter's selectors, so an adapter change is made here once.
 */
import { closestAny, messageAuthor, namedAuthor, queryFirst, type SiteAdapter } from '../adapters/types';
import { KIND_CHUNK, parseChunk } from '../crypto/chunks';
import { findEnvelopes } from '../crypto/codec';

/** Long messages in flight at once; a page inventing chunk groups cannot grow this further. */
export const MAX_CHUNK_GROUPS = 1_000;

/** Adds to `into` every message element that contains `target` or lies under what was added. */
export function collectMessages(
  adapter: SiteAdapter,
  target: Element,
  added: NodeList | undefined,
  into: Set<Element>,
): void {
  const msg = closestAny(target, adapter.selectors.message);
  if (msg) into.add(msg);
  const roots = added ? [...added].filter((n): n is Element => n instanceof Element) : [target];
  for (const root of roots) {
    for (const sel of adapter.selectors.message) {
      if (root.matches(sel)) into.add(root);
      for (const el of root.querySelectorAll(sel)) into.add(el);
    }
  }
}

/** Every message element in the document (a full rescan). */
export function allMessages(doc: Document, adapter: SiteAdapter): Element[] {
  const out = new Set<Element>();
  for (const sel of adapter.selectors.message) for (const el of doc.querySelectorAll(sel)) out.add(el);
  return [...out];
}

/** The element whose text is the message body. */
export function messageTextOf(adapter: SiteAdapter, el: Element): Element | null {
  return queryFirst(el, adapter.selectors.messageText);
}

/** The message element a text element belongs to. */
export function messageOf(adapter: SiteAdapter, textEl: Element): Element | null {
  return closestAny(textEl, adapter.selectors.message);
}

/** The chat's own id for a message: lets the background tell a re-render from a re-delivery. */
export function hostIdOf(adapter: SiteAdapter, el: Element): string | undefined {
  return (adapter.messageIdAttribute && el.getAttribute(adapter.messageIdAttribute)) || undefined;
}

export { messageAuthor, namedAuthor };

export interface ChunkRef {
  group: string;
  index: number;
  count: number;
}

export interface ScannedText {
  /** Each envelope's text, in order (empty: a plaintext message). */
  envelopes: string[];
  /** Set when the whole text is one well-formed part of a chunked message. */
  chunk?: ChunkRef;
}

/** The envelopes in a message's text; a text that is exactly one chunk is a part of a long message. */
export function scanText(raw: string): ScannedText {
  const found = findEnvelopes(raw);
  const envelopes = found.map((f) => raw.slice(f.start, f.end));
  const single = found.length === 1 ? found[0]! : undefined;
  if (single?.kind === 'envelope' && single.frame[0] === KIND_CHUNK) {
    const c = parseChunk(single.frame);
    if (!('error' in c)) return { envelopes, chunk: { group: c.group, index: c.index, count: c.count } };
  }
  return { envelopes };
}

/**
 * What both modes watch on the page: the message list's nodes and texts, and the author attribute
 * (an author given by attribute can change without any other change to the message).
 */
export function watchedChanges(adapter: SiteAdapter): MutationObserverInit {
  const author = adapter.authorAttribute;
  return {
    childList: true,
    subtree: true,
    characterData: true,
    ...(author ? { attributes: true, attributeFilter: [author] } : {}),
  };
}

/** Each part as the page names it now: a part renamed since it came is judged by its new name. */
export function renameParts(adapter: SiteAdapter, group: Map<number, ChunkMember>): void {
  for (const p of group.values()) if (namedAuthor(adapter, p.el)) p.author = messageAuthor(adapter, p.el);
}

export interface ChunkMember {
  el: Element;
  text: string;
  author: string;
}

/**
 * The parts of long messages seen so far, by group. Bounded: a page inventing chunk groups must
 * not grow this without end (the oldest group goes first).
 */
export class ChunkGroups {
  private groups = new Map<string, Map<number, ChunkMember>>();

  constructor(private readonly max = MAX_CHUNK_GROUPS) {}

  /** Records a part; undefined when the group already holds as many parts as it claims. */
  add(c: ChunkRef, member: ChunkMember): Map<number, ChunkMember> | undefined {
    let group = this.groups.get(c.group);
    if (!group) {
      if (this.groups.size >= this.max) this.groups.delete(this.groups.keys().next().value!);
      this.groups.set(c.group, (group = new Map()));
    }
    if (!group.has(c.index) && group.size >= c.count) return undefined; // more parts than it claims: ignored
    group.set(c.index, member);
    return group;
  }

  get size(): number {
    return this.groups.size;
  }
}

/** Every part must come from the same author, else the message is malformed. */
export function mixedAuthors(group: Map<number, ChunkMember>): boolean {
  return new Set([...group.values()].map((p) => p.author)).size > 1;
}

/** The parts' envelope texts in order. */
export function partTexts(group: Map<number, ChunkMember>): string[] {
  return [...group.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p.text);
}
