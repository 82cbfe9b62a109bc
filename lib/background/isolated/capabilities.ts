/**
 * Capability tokens for secure frames (issue #6). Background only.
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
 * content scripts by default.
 */
import browser from 'webextension-polyfill';
import { randomBytes } from '@noble/ciphers/utils.js';
import { base64urlnopad } from '@scure/base';
import {
  SECURE_FRAME_PAGES,
  type FrameTheme,
  type ReaderSpec,
  type SecureFrameKind,
} from '../../messaging/frame-types';

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
  createdAt: number;
  bound?: { frameId: number; documentId?: string };
}

/** A token nobody redeemed in this long was not for a frame Veil placed (or the page blocked it). */
const UNBOUND_TTL_MS = 2 * 60_000;
/** Enough for every message of a long conversation to have been in view once. */
const MAX_PER_TAB = 5_000;
const SESSION_KEY = 'veil.isolated.capabilities';

export function isSecureFramePage(url: string, extensionOrigin: string): boolean {
  if (!url.startsWith(extensionOrigin)) return false;
  try {
    return (Object.values(SECURE_FRAME_PAGES) as string[]).includes(new URL(url).pathname);
  } catch {
    return false;
  }
}

const sameDocument = (a: string | undefined, b: string | undefined) => a === b;

interface Saved {
  caps: [string, Capability][];
  seen: [number, [string, string][]][];
}

type SessionArea = { get(k: string): Promise<Record<string, unknown>>; set(v: Record<string, unknown>): Promise<void> };

export class CapabilityRegistry {
  private caps = new Map<string, Capability>();
  /** Per tab: authentic message id -> the host message id it was first shown under (replay detection). */
  private seen = new Map<number, Map<string, string>>();
  private loaded?: Promise<void>;
  private saveScheduled = false;

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
        const saved = (await area.get(SESSION_KEY))[SESSION_KEY] as Saved | undefined;
        for (const [t, c] of saved?.caps ?? []) if (!this.caps.has(t)) this.caps.set(t, c);
        for (const [tab, list] of saved?.seen ?? []) this.seen.set(tab, new Map(list));
      } catch (e) {
        console.warn('Veil: could not restore secure frame tokens', e);
      }
    })();
    return this.loaded;
  }

  private scheduleSave(): void {
    const area = this.session();
    if (!area || this.saveScheduled) return;
    this.saveScheduled = true;
    setTimeout(() => {
      this.saveScheduled = false;
      const saved: Saved = { caps: [...this.caps], seen: [...this.seen].map(([t, m]) => [t, [...m]]) };
      area.set({ [SESSION_KEY]: saved }).catch((e) => console.warn('Veil: could not save secure frame tokens', e));
    }, 0);
  }

  async mint(host: FrameRef, spec: Pick<Capability, 'kind' | 'handle' | 'theme' | 'reader'>): Promise<string> {
    await this.ready();
    const now = this.now();
    let count = 0;
    let oldest: string | undefined;
    for (const [t, c] of this.caps) {
      if (c.tabId !== host.tabId) continue;
      // The tab navigated: the old page's frames are gone, and so are their tokens.
      const stale = c.hostFrameId === host.frameId && !sameDocument(c.hostDocumentId, host.documentId);
      if (stale || (!c.bound && now - c.createdAt > UNBOUND_TTL_MS)) {
        this.caps.delete(t);
        if (stale) this.seen.delete(host.tabId);
        continue;
      }
      count++;
      oldest ??= t;
    }
    if (count >= MAX_PER_TAB && oldest) this.caps.delete(oldest);
    const token = base64urlnopad.encode(randomBytes(32));
    this.caps.set(token, {
      ...spec,
      tabId: host.tabId,
      hostFrameId: host.frameId,
      hostDocumentId: host.documentId,
      createdAt: now,
    });
    this.scheduleSave();
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
      this.caps.delete(token);
      return undefined;
    }
    c.bound = { frameId: frame.frameId, documentId: frame.documentId };
    this.scheduleSave();
    return c;
  }

  /** The capability of a bound token, only for the frame it is bound to. */
  async forFrame(token: string, frame: FrameRef, kind?: SecureFrameKind): Promise<Capability | undefined> {
    await this.ready();
    const c = this.caps.get(token);
    if (!c?.bound || c.tabId !== frame.tabId || c.bound.frameId !== frame.frameId) return undefined;
    if (!sameDocument(c.bound.documentId, frame.documentId)) return undefined;
    return kind && c.kind !== kind ? undefined : c;
  }

  /** True when this authentic message was already shown in this tab under another host message id. */
  replayed(tabId: number, messageId: string | undefined, hostMessageId: string | undefined): boolean {
    if (!messageId || !hostMessageId) return false;
    let m = this.seen.get(tabId);
    if (!m) this.seen.set(tabId, (m = new Map()));
    const first = m.get(messageId);
    if (first === undefined) {
      m.set(messageId, hostMessageId);
      this.scheduleSave();
    }
    return first !== undefined && first !== hostMessageId;
  }

  dropTab(tabId: number): void {
    for (const [t, c] of this.caps) if (c.tabId === tabId) this.caps.delete(t);
    this.seen.delete(tabId);
    this.scheduleSave();
  }

  /** For tests. */
  get size(): number {
    return this.caps.size;
  }
}
