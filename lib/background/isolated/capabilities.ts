/**
 * Capability tokens for secure frames. Background only.
 *
 * The content script asks for a token per frame it places ("a reader for this message", "a
 * composer for this tab"); the background records what the token may do and for which tab. The
 * frame redeems the token once, which binds it to that frame (tab, frame id and, in Chrome, the
 * frame's document). Every later call must come from the same frame. So:
 * - a frame only ever gets the one message or composer it was made for (no decrypt-anything oracle);
 * - the page never sees a token (the content script hands it to the frame by postMessage aimed at
 *   the extension origin, not in the frame's URL), so a frame the page creates itself gets nothing;
 * - a token stolen anyway is useless in another tab, and useless once its frame redeemed it.
 *
 * Tokens live in storage.session too: an MV3 service worker dies after 30 s idle, and a composer
 * left open for a minute must still send. storage.session is memory-only and, in Chrome, closed to
 * content scripts by default. One entry per token, written in batches: the page mints a token per
 * message, and rewriting all of them each time made every mint cost as much as the whole map.
 * A reader's envelope texts are not persisted (a reader redeems its token right after it loads).
 *
 * Everything here is bounded per tab and in total, oldest out first: a page minting without end
 * evicts its own tokens, never another tab's.
 */
import browser from 'webextension-polyfill';
import { randomBytes } from '@noble/ciphers/utils.js';
import { base64urlnopad } from '@scure/base';
import { findEnvelopes } from '../../crypto/codec';
import {
  SECURE_FRAME_PAGES,
  type ComposerFrameKind,
  type FrameTheme,
  type ReaderSpec,
  type SecureFrameKind,
} from '../../messaging/frame-types';
import type { FileRef } from '../../crypto/file-ref';
import type { EditTarget } from '../../messaging/protocol';

/** The tab and frame a request came from (from the browser's MessageSender, not from the request). */
export interface FrameRef {
  tabId: number;
  frameId: number;
  documentId?: string;
  url: string;
  tabUrl?: string;
}

export interface Capability {
  kind: SecureFrameKind;
  /** The content script's name for the iframe element (not secret). */
  handle: string;
  tabId: number;
  hostFrameId: number;
  hostDocumentId?: string;
  theme: FrameTheme;
  reader?: ReaderSpec;
  /**
   * Composers: the chat's box this one stands in for. An edit's: the message as the page showed it
   * (texts not persisted, like a reader's), then, once decrypted as the user's own, what the edit
   * is bound to and who wrote it.
   */
  composer?: {
    kind: ComposerFrameKind;
    edit?: ReaderSpec;
    editOf?: EditTarget;
    author?: string;
    /** The edited message's attached files: the frame shows its words only, and the edit keeps them. */
    editFiles?: FileRef[];
    /** The conversation the page named when the frame started (where its unsent text is kept). */
    conversationId?: string;
  };
  createdAt: number;
  bound?: { frameId: number; documentId?: string };
}

/** A token nobody redeemed in this long was not for a frame Veil placed (or the page blocked it). */
const UNBOUND_TTL_MS = 2 * 60_000;
/** Enough for every message of a long conversation to have been in view once. */
export const MAX_PER_TAB = 2_000;
/** One maximal message (1 M characters of text, sealed and encoded) fits; a spray of them does not. */
export const MAX_READER_CHARS = 4_500_000;
/** Reader texts held per tab and in all: about two maximal messages per tab. */
export const MAX_TAB_READER_CHARS = 2 * MAX_READER_CHARS;
export const MAX_TOTAL_READER_CHARS = 6 * MAX_READER_CHARS;
/** Replay memory per tab (authentic message ids seen there). */
export const MAX_SEEN_PER_TAB = 5_000;
const TOKEN_PREFIX = 'veil.cap.';
const SEEN_PREFIX = 'veil.seen.';

/**
 * A reader may only be made for what the page really shows: one to 255 Veil envelopes (a message
 * or its chunks), each exactly one envelope, together no longer than one maximal message.
 */
export function validReaderTexts(texts: unknown): texts is string[] {
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > 255) return false;
  let total = 0;
  for (const t of texts) {
    if (typeof t !== 'string') return false;
    total += t.length;
    if (total > MAX_READER_CHARS) return false;
  }
  return texts.every((t: string) => {
    const found = findEnvelopes(t);
    return found.length === 1 && found[0]!.kind === 'envelope';
  });
}

const readerChars = (c: Capability) =>
  [c.reader, c.composer?.edit].reduce((n, spec) => n + (spec?.texts.reduce((m, t) => m + t.length, 0) ?? 0), 0);

export function originOf(url: string): string {
  try {
    const u = new URL(url);
    // Engines may call a non-web scheme's origin opaque ("null"), and every opaque origin would then
    // equal Veil's own (an about:blank or data: frame, say): spell out scheme and host instead.
    return u.origin !== 'null' ? u.origin : `${u.protocol}//${u.host}`;
  } catch {
    return '';
  }
}

/**
 * Veil's own origins: the extension's, and in Chrome the per-session dynamic origin its secure
 * frames load from (`use_dynamic_url`, lib/policy/web-accessible.ts).
 */
export function extensionOrigins(): string[] {
  const pages = ['/', ...Object.values(SECURE_FRAME_PAGES)];
  return [...new Set(pages.map((p) => originOf(browser.runtime.getURL(p))))];
}

/** The secure frame page of this kind, at one of Veil's origins. */
export function isFramePageOf(url: string, kind: keyof typeof SECURE_FRAME_PAGES): boolean {
  return isSecureFramePage(url, extensionOrigins()) && new URL(url).pathname === SECURE_FRAME_PAGES[kind];
}

export function isSecureFramePage(url: string, extensionOrigins: string[]): boolean {
  try {
    const u = new URL(url);
    return (
      extensionOrigins.includes(originOf(url)) && (Object.values(SECURE_FRAME_PAGES) as string[]).includes(u.pathname)
    );
  } catch {
    return false;
  }
}

const sameDocument = (a: string | undefined, b: string | undefined) => a === b;

type SessionArea = {
  get(k: string | null): Promise<Record<string, unknown>>;
  set(v: Record<string, unknown>): Promise<void>;
  remove(k: string[]): Promise<void>;
};

export class CapabilityRegistry {
  private caps = new Map<string, Capability>();
  /** Per tab: authentic message id -> the host message id it was first shown under (replay detection). */
  private seen = new Map<number, Map<string, string>>();
  private loaded?: Promise<void>;
  private saveScheduled = false;
  /** Session entries to write (token or tab) or, when mapped to undefined, to remove. */
  private dirty = new Map<string, unknown>();
  private readerChars = 0;
  /** Per tab: its tokens, least recently used first, and the reader text they hold. */
  private tabs = new Map<
    number,
    { tokens: Set<string>; chars: number; mints: number; docs: Map<number, string | undefined> }
  >();

  constructor(
    private readonly session: () => SessionArea | undefined = () =>
      (browser.storage as unknown as { session?: SessionArea }).session,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads what a previous service-worker instance left, once; installs tab clean-up. */
  private ready(): Promise<void> {
    this.loaded ??= (async () => {
      try {
        browser.tabs?.onRemoved.addListener((tabId) => this.dropTab(tabId));
      } catch {
        // no tabs API here (tests): tokens then expire by count and age only
      }
      const area = this.session();
      if (!area) return;
      try {
        const saved = await area.get(null);
        for (const [k, v] of Object.entries(saved)) {
          if (k.startsWith(TOKEN_PREFIX) && !this.caps.has(k.slice(TOKEN_PREFIX.length)))
            this.index(k.slice(TOKEN_PREFIX.length), v as Capability);
          if (k.startsWith(SEEN_PREFIX))
            this.seen.set(Number(k.slice(SEEN_PREFIX.length)), new Map(v as [string, string][]));
        }
      } catch (e) {
        console.warn('Veil: could not restore secure frame tokens', e);
      }
    })();
    return this.loaded;
  }

  /** Queues one token's (or one tab's replay memory's) session entry; written once per task. */
  private markDirty(key: string): void {
    const area = this.session();
    if (!area) return;
    this.dirty.set(key, undefined);
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    setTimeout(() => {
      this.saveScheduled = false;
      const set: Record<string, unknown> = {};
      const remove: string[] = [];
      for (const k of this.dirty.keys()) {
        const value = k.startsWith(TOKEN_PREFIX)
          ? persistable(this.caps.get(k.slice(TOKEN_PREFIX.length)))
          : [...(this.seen.get(Number(k.slice(SEEN_PREFIX.length))) ?? [])];
        if (value === undefined || (Array.isArray(value) && value.length === 0)) remove.push(k);
        else set[k] = value;
      }
      this.dirty.clear();
      const warn = (e: unknown) => console.warn('Veil: could not save secure frame tokens', e);
      if (Object.keys(set).length) area.set(set).catch(warn);
      if (remove.length) area.remove(remove).catch(warn);
    }, 0);
  }

  private tab(tabId: number) {
    let tab = this.tabs.get(tabId);
    if (!tab) this.tabs.set(tabId, (tab = { tokens: new Set(), chars: 0, mints: 0, docs: new Map() }));
    return tab;
  }

  private index(token: string, c: Capability): void {
    const tab = this.tab(c.tabId);
    this.caps.set(token, c);
    tab.tokens.add(token);
    tab.chars += readerChars(c);
    this.readerChars += readerChars(c);
  }

  private drop(token: string): void {
    const c = this.caps.get(token);
    if (!c) return;
    const tab = this.tab(c.tabId);
    tab.tokens.delete(token);
    tab.chars -= readerChars(c);
    this.readerChars -= readerChars(c);
    if (tab.tokens.size === 0) this.tabs.delete(c.tabId);
    this.caps.delete(token);
    this.markDirty(TOKEN_PREFIX + token);
  }

  /** Least recently used first: a token in use moves to the end of its tab's order. */
  private touch(token: string, c: Capability): void {
    const tokens = this.tab(c.tabId).tokens;
    tokens.delete(token);
    tokens.add(token);
  }

  /**
   * Drops a tab's tokens whose page is gone (same host frame, another document) or that nobody
   * redeemed in time. Runs when the host document changes and on every 64th mint, so a page
   * minting thousands of tokens costs constant work per mint, not a scan of all of them.
   */
  private sweep(host: FrameRef, now: number): void {
    const tab = this.tab(host.tabId);
    let navigated = false;
    for (const t of tab.tokens) {
      const c = this.caps.get(t)!;
      const stale = c.hostFrameId === host.frameId && !sameDocument(c.hostDocumentId, host.documentId);
      navigated ||= stale;
      if (stale || (!c.bound && now - c.createdAt > UNBOUND_TTL_MS)) this.drop(t);
    }
    if (navigated) this.forgetSeen(host.tabId);
  }

  /** Evicts the oldest tokens until the tab, and all tabs together, are within their budgets. */
  private fit(tabId: number, incomingChars: number): void {
    const tab = this.tab(tabId);
    const full = () => tab.tokens.size >= MAX_PER_TAB || tab.chars + incomingChars > MAX_TAB_READER_CHARS;
    // Readers go first: scrolling a long conversation mints one per message, and must not take
    // the composer the user is typing in along with the oldest of them.
    for (const t of tab.tokens) {
      if (!full()) break;
      if (this.caps.get(t)?.kind === 'reader') this.drop(t);
    }
    for (const t of tab.tokens) {
      if (!full()) break;
      this.drop(t);
    }
    // All tabs together: the tab holding the most reader text gives up its oldest reader first.
    while (this.readerChars + incomingChars > MAX_TOTAL_READER_CHARS) {
      const greedy = [...this.tabs.values()].sort((a, b) => b.chars - a.chars)[0];
      const oldestReader = greedy && [...greedy.tokens].find((t) => this.caps.get(t)?.reader?.texts.length);
      if (!oldestReader) break;
      this.drop(oldestReader);
    }
  }

  async mint(
    host: FrameRef,
    spec: Pick<Capability, 'kind' | 'handle' | 'theme' | 'reader' | 'composer'>,
  ): Promise<string> {
    await this.ready();
    const now = this.now();
    const tab = this.tab(host.tabId);
    // The tab navigated (its page's frames are gone, and so are their tokens; a worker restart
    // forgot which page it showed), or it is time to expire unredeemed ones.
    const navigated = !tab.docs.has(host.frameId) || tab.docs.get(host.frameId) !== host.documentId;
    tab.docs.set(host.frameId, host.documentId);
    if ((navigated && tab.tokens.size > 0) || ++tab.mints % 64 === 0) this.sweep(host, now);
    const cap: Capability = {
      ...spec,
      tabId: host.tabId,
      hostFrameId: host.frameId,
      hostDocumentId: host.documentId,
      createdAt: now,
    };
    this.fit(host.tabId, readerChars(cap));
    const token = base64urlnopad.encode(randomBytes(32));
    this.index(token, cap);
    this.markDirty(TOKEN_PREFIX + token);
    return token;
  }

  /**
   * First use of a token by a frame: binds it. Refused when the token is unknown, expired, meant
   * for another tab, presented by the page's own top frame, or already bound to another frame.
   */
  async redeem(token: string, frame: FrameRef): Promise<Capability | undefined> {
    await this.ready();
    const c = this.caps.get(token);
    if (!c || c.tabId !== frame.tabId || frame.frameId === c.hostFrameId) return undefined;
    if (c.bound)
      return c.bound.frameId === frame.frameId && sameDocument(c.bound.documentId, frame.documentId) ? c : undefined;
    if (this.now() - c.createdAt > UNBOUND_TTL_MS) {
      this.drop(token);
      return undefined;
    }
    c.bound = { frameId: frame.frameId, documentId: frame.documentId };
    this.touch(token, c);
    this.markDirty(TOKEN_PREFIX + token);
    return c;
  }

  /** A bound token's capability changed (an edit's target found): kept for a restarted worker too. */
  changed(token: string): void {
    if (this.caps.has(token)) this.markDirty(TOKEN_PREFIX + token);
  }

  /** The capability of a bound token, only for the frame it is bound to. */
  async forFrame(token: string, frame: FrameRef, kind?: SecureFrameKind): Promise<Capability | undefined> {
    await this.ready();
    const c = this.caps.get(token);
    if (!c?.bound || c.tabId !== frame.tabId || c.bound.frameId !== frame.frameId) return undefined;
    if (!sameDocument(c.bound.documentId, frame.documentId)) return undefined;
    if (kind && c.kind !== kind) return undefined;
    this.touch(token, c);
    return c;
  }

  /** True when this authentic message was already shown in this tab under another host message id. */
  replayed(tabId: number, messageId: string | undefined, hostMessageId: string | undefined): boolean {
    if (!messageId || !hostMessageId) return false;
    let m = this.seen.get(tabId);
    if (!m) this.seen.set(tabId, (m = new Map()));
    const first = m.get(messageId);
    if (first === undefined) {
      // Bounded: the oldest sighting goes first (the persistent replay log still knows it).
      if (m.size >= MAX_SEEN_PER_TAB) m.delete(m.keys().next().value!);
      m.set(messageId, hostMessageId);
      this.markDirty(SEEN_PREFIX + tabId);
    }
    return first !== undefined && first !== hostMessageId;
  }

  private forgetSeen(tabId: number): void {
    if (this.seen.delete(tabId)) this.markDirty(SEEN_PREFIX + tabId);
  }

  dropTab(tabId: number): void {
    for (const t of this.tabs.get(tabId)?.tokens ?? []) this.drop(t);
    this.forgetSeen(tabId);
  }

  /** For tests: reader text held in memory. */
  get heldReaderChars(): number {
    return this.readerChars;
  }

  /** For tests. */
  get size(): number {
    return this.caps.size;
  }
}

/** What survives a worker restart: everything but a reader's envelope texts. */
function persistable(c: Capability | undefined): Capability | undefined {
  if (!c) return undefined;
  if (c.reader) return { ...c, reader: { ...c.reader, texts: [] } };
  if (c.composer?.edit) return { ...c, composer: { ...c.composer, edit: { ...c.composer.edit, texts: [] } } };
  return c;
}
