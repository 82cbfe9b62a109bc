/**
 * The one protocol between Veil's content script, extension pages and background.
 * Every message type is declared here once, with who may send it. The background checks the
 * sender of every request (see lib/background/router.ts) before it encrypts or reveals anything.
 * Plaintext crosses this protocol only between a protected page's content script and the
 * background; keys never cross it.
 */
import type { CustomAdapterSpec } from '../adapters/custom';
import type { FileRef } from '../crypto/file-ref';
import type { DirectoryEntry, KeyInfo, KeyScope, KeyStatus } from '../keys/model';
import type { Policy, ProtectedSite } from '../policy/policy';
import type { SecurityIndicator } from './indicator';
import type { ComposerFrameKind, ComposerFrameSpec, FrameTheme, ReaderSpec, SecureFrameKind } from './frame-types';

/**
 * Set (under `Symbol.for`) on the content script's own world once Veil runs in a document: the
 * content script runs once per document, and the background asks for it before injecting Veil
 * into an open tab again (the page's own world cannot see or set it).
 */
export const CONTENT_SCRIPT_MARK = 'veil.content-script';

/**
 * Who may send a request: a content script in a protected tab, an extension page, or one of
 * isolated mode's secure frames (an extension page framed inside a protected tab).
 * A secure frame is never an 'extension-page': it runs inside a page Veil does not trust.
 */
export type Caller = 'content' | 'extension-page' | 'secure-frame';

export type VeilError = {
  code:
    | 'no-key'
    | 'locked'
    | 'too-long'
    | 'not-protected'
    | 'bad-request'
    | 'forbidden'
    | 'bundle'
    | 'keyring'
    | 'unreachable'
    | 'internal'
    | 'policy'
    | 'confirm'
    /** An attachment could not be sealed or opened (tampered, truncated, swapped, too large…). */
    | 'file'
    /** The key service needs the user to sign in (the fix: "Sign in to Veil"). */
    | 'sign-in'
    /** The key service cannot be reached, or sent keys Veil refused. */
    | 'key-service';
  message: string;
};

/** The key service as Veil's options page shows it: no token, no key. */
export interface KeyServiceView {
  /** The service's URL, when the policy names one (else nothing else is set). */
  service?: string;
  /** The signed-in user (the ID token's subject), once a release came. */
  subject?: string;
  releasedAt?: number;
  /** Until when the keys work without reaching the service. */
  expiresAt?: number;
  /** Keys from the service in the keyring now. */
  keys: number;
  /** Why sends are blocked, when they are (the composer's line). */
  blocked?: string;
  /** What the service or the release check said, for IT (shown in Veil's options page only). */
  detail?: string;
}

export type Result<T> = ({ ok: true } & T) | { ok: false; error: VeilError };

/** `out-of-scope`: the key exists but is not for this site and conversation, or protects an isolated chat. */
export type DecryptStatus = 'decrypted' | 'unknown-key' | 'locked' | 'tampered' | 'malformed' | 'out-of-scope';

export interface DecryptItem {
  /** The content script's handle for the message node; echoed back. */
  id: string;
  /** One envelope text, or all chunk texts of one message in any order. */
  texts: string[];
  /** The author the chat displays; checked against the authenticated sender. */
  author: string;
  /** The chat's own id for the message element, if it has one (replay detection). */
  hostId?: string;
}

/** The message an edit replaces: its Veil message id (hex) and the chat's own id for it ('' if none). */
export interface EditTarget {
  messageId: string;
  hostId: string;
}

export interface DecryptedItem {
  id: string;
  status: DecryptStatus;
  text?: string;
  keyId?: string;
  fingerprint?: string;
  keyStatus?: KeyStatus;
  sentAt?: number;
  messageId?: string;
  movedFromOtherConversation?: boolean;
  senderMismatch?: boolean;
  /** For `out-of-scope`: the key protects a chat shown only in secure frames (isolated mode). */
  isolatedKey?: boolean;
  /** This envelope was first shown as another message (other host id, conversation or author). */
  replayed?: boolean;
  /** An edit: the message it replaces (message id hex, the chat's id for it). */
  editOf?: EditTarget;
  /** An edit shown in the place of a message other than the one it names (the vendor moved it). */
  graftedEdit?: boolean;
  /**
   * The text quotes encrypted messages: `verified` when each quote matches the original this
   * browser saw, `unseen` when an original is not known here, `mismatch` when a quote does not match.
   */
  quote?: 'verified' | 'unseen' | 'mismatch';
  /** Who wrote the quoted messages that matched (as this browser saw them). */
  quotedAuthors?: string[];
  /** Between decryptFrame and judgeQuotes only (background): what the quotes name. */
  quotedMessages?: { messageId: string; digest: string; author: string }[];
  /** Sealed long before (or after) it first appeared, in a conversation watched since then. */
  staleOnArrival?: boolean;
  /** Sender authenticity (Ed25519), when the frame is signed or the author normally signs. */
  signature?: {
    state: 'verified' | 'failed' | 'unknown-signer' | 'missing';
    /** For `failed`: the directory member whose key did make the signature, if any. */
    signedBy?: string;
  };
  reason?: string;
}

/**
 * What a key bundle would change (options page, before importing). `needsConfirmation`: it changes
 * which key encrypts an existing scope or who is verified (identities, directory), so the import
 * goes ahead only with `digest` echoed back as `confirm`.
 */
export interface ImportPlan {
  digest: string;
  needsConfirmation: boolean;
  keys: (KeyInfo & { replaces: { id: string; label: string }[] })[];
  /** Signing identities the bundle would give the user (sign as `userId` on `site`). */
  identities: { site: string; userId: string; publicKey: string }[];
  directory: (DirectoryEntry & { change: 'added' | 'changed' | 'same'; previousKey?: string })[];
}

export interface SiteStatus {
  protected: boolean;
  adapterId?: string;
  requireEncryption: boolean;
  mode: Policy['mode'];
  managed: boolean;
  /** Mark incoming plaintext in protected conversations as "not encrypted" (policy; default true). */
  flagUnencrypted?: boolean;
  /** The policy's adapter declaration when `adapterId` is 'custom' (validated again in the page). */
  customAdapter?: CustomAdapterSpec;
  /** Set when the enterprise policy is invalid: the content script blocks sending and shows this. */
  policyError?: string;
  /** Files attached in this chat: encrypted, refused or let through (policy; default encrypt). */
  attachments?: 'encrypt' | 'block' | 'allow';
  /** Largest file Veil encrypts, in bytes. */
  maxAttachmentBytes?: number;
  /** Previews outside the message list: `decrypt` only where policy says so and the chat is inline. */
  previews?: 'label' | 'decrypt';
}

/** What Veil's popup shows about one tab. */
export interface TabPolicyStatus {
  policy: Policy;
  /** The protected site the URL belongs to, if any. */
  site?: ProtectedSite;
  /** Keys whose scope covers that site, newest first. */
  keys: KeyInfo[];
}

/** One message the local search found (popup); its text only as a snippet, matches marked. */
export interface SearchResult {
  /** The index's number for it: `search/open` goes back to it. */
  id: number;
  site: string;
  conversationId: string;
  author: string;
  sentAt: number;
  signature?: 'verified' | 'failed' | 'unknown-signer' | 'missing';
  /** Plain text parts; `hit` parts matched the query. Shown with textContent, never as HTML. */
  snippet: { text: string; hit: boolean }[];
}

export interface ProtocolMap {
  'site/status': { caller: 'content'; req: Record<string, never>; res: Result<SiteStatus> };
  encrypt: {
    caller: 'content';
    req: {
      conversationId: string;
      senderId: string;
      text: string;
      maxChars: number;
      allowChunks: boolean;
      /** The new text of this message (an edit), bound to it inside the envelope. */
      editOf?: EditTarget;
    };
    res: Result<{ envelopes: string[]; keyId: string; fingerprint: string }>;
  };
  'encrypt/preview': {
    caller: 'content';
    req: { conversationId: string };
    /** `locked`: that key exists but the passphrase lock is closed (sending would fail). */
    res: Result<{ key?: KeyInfo; locked?: boolean }>;
  };
  decrypt: {
    caller: 'content';
    req: { conversationId: string; items: DecryptItem[] };
    res: Result<{ items: DecryptedItem[] }>;
  };
  /**
   * Envelope texts shown in previews of a conversation (policy `previews: "decrypt"`, inline):
   * each one's plaintext, or null where it does not open as a message of that conversation.
   */
  'decrypt/preview': {
    caller: 'content';
    req: { conversationId: string; texts: string[] };
    res: Result<{ texts: (string | null)[] }>;
  };
  'keys/list': {
    caller: 'extension-page';
    req: Record<string, never>;
    res: Result<{
      keys: KeyInfo[];
      lock: 'none' | 'locked' | 'unlocked';
      identities: { site: string; userId: string; publicKey: string; createdAt: number }[];
      directory: DirectoryEntry[];
    }>;
  };
  'keys/create-identity': {
    caller: 'extension-page';
    req: { site: string; userId: string };
    res: Result<{ publicKey: string }>;
  };
  'keys/rotate': { caller: 'extension-page'; req: { id: string }; res: Result<{ key: KeyInfo }> };
  'keys/unlock': { caller: 'extension-page'; req: { passphrase: string }; res: Result<Record<never, never>> };
  'keys/lock': { caller: 'extension-page'; req: Record<string, never>; res: Result<Record<never, never>> };
  'keys/set-passphrase': {
    caller: 'extension-page';
    /** `passphrase` empty removes the lock. */
    req: { passphrase: string };
    res: Result<Record<never, never>>;
  };
  'keys/generate': {
    caller: 'extension-page';
    req: { label: string; scope: KeyScope };
    res: Result<{ key: KeyInfo }>;
  };
  /** What importing a bundle would change, for the user to confirm (nothing is written). */
  'keys/import-preview': {
    caller: 'extension-page';
    req: { fileText: string; passphrase: string };
    res: Result<{ plan: ImportPlan }>;
  };
  'keys/import': {
    caller: 'extension-page';
    /** `confirm`: the digest of the plan the user reviewed; required when the plan needs confirmation. */
    req: { fileText: string; passphrase: string; confirm?: string };
    res: Result<{ imported: KeyInfo[]; identities: number; directory: number }>;
  };
  'keys/export': {
    caller: 'extension-page';
    req: { ids: string[]; passphrase: string };
    res: Result<{ fileText: string }>;
  };
  'keys/set-status': {
    caller: 'extension-page';
    req: { id: string; status: KeyStatus };
    res: Result<{ key: KeyInfo }>;
  };
  'policy/get': { caller: 'extension-page'; req: Record<string, never>; res: Result<{ policy: Policy }> };
  'policy/tab': { caller: 'extension-page'; req: { url: string }; res: Result<TabPolicyStatus> };
  /** The user's own protected chats (unmanaged installs; an enterprise policy replaces them). */
  'sites/add': {
    caller: 'extension-page';
    req: { adapter: string; address: string };
    res: Result<{ sites: ProtectedSite[] }>;
  };
  'sites/remove': {
    caller: 'extension-page';
    req: { adapter: string; pattern: string };
    res: Result<{ sites: ProtectedSite[] }>;
  };
  // ---- attachments (lib/background/handlers/files.ts, docs/wire-format.md "Files") ----
  // A file crosses in pieces (base64, at most FILE_PIECE_BYTES each) inside one session bound to
  // the calling tab and frame; the background holds about two chunks of it at any time.
  /** Starts sealing one file the user attached; `fileName` is what the chat gets to see. */
  'file/seal-start': {
    caller: 'content';
    req: { conversationId: string; senderId: string; name: string; type: string; size: number };
    res: Result<{ sid: string; fileName: string }>;
  };
  /** Plaintext piece in, sealed bytes out (possibly none yet). */
  'file/seal-push': { caller: 'content'; req: { sid: string; data: string }; res: Result<{ data: string }> };
  /** The last sealed bytes, and the reference the message envelope will carry. */
  'file/seal-finish': { caller: 'content'; req: { sid: string }; res: Result<{ data: string; ref: FileRef }> };
  /** Starts opening a sealed file a message names (its digest and size come from that message). */
  'file/open-start': {
    caller: 'content';
    req: { conversationId: string; author: string; sha256: string; sealedSize: number };
    res: Result<{ sid: string }>;
  };
  /** Sealed piece in, plaintext out: to be discarded unless `file/open-finish` succeeds. */
  'file/open-push': { caller: 'content'; req: { sid: string; data: string }; res: Result<{ data: string }> };
  'file/open-finish': {
    caller: 'content';
    req: { sid: string };
    res: Result<{
      data: string;
      name: string;
      type: string;
      size: number;
      movedFromOtherConversation: boolean;
      senderMismatch: boolean;
    }>;
  };
  /** Forgets a session (the user cancelled, the page went away). */
  'file/abort': { caller: 'content'; req: { sid: string }; res: Result<Record<never, never>> };
  /**
   * A blocked send offers its fix: the content script cannot open extension pages, so it
   * asks the background to open Veil's options at one section. Carries nothing but the section name.
   */
  'ui/open-options': { caller: 'content'; req: { section: OptionsSection }; res: Result<Record<never, never>> };
  /**
   * The user clicked "Sign in to Veil" under a composer: the background opens the identity
   * provider's sign-in window and fetches the user's keys. Answers why sends are still blocked, if they are.
   */
  'keyservice/sign-in': { caller: 'content'; req: Record<string, never>; res: Result<{ blocked?: string }> };
  /** Veil's options page shows who is signed in to the key service and how fresh the keys are. */
  'keyservice/status': { caller: 'extension-page'; req: Record<string, never>; res: Result<KeyServiceView> };
  /**
   * The user clicked in Veil's options page: `signIn` opens the identity window; otherwise the keys
   * are fetched again now, silently (after IT changed the user's groups, say).
   */
  'keyservice/refresh': { caller: 'extension-page'; req: { signIn: boolean }; res: Result<KeyServiceView> };

  // ---- isolated mode (lib/background/handlers/isolated.ts, docs/isolated-mode.md) ----
  /** The content script asks for a capability for one frame it is about to place. */
  'isolated/open-frame': {
    caller: 'content';
    req: {
      kind: SecureFrameKind;
      handle: string;
      theme: FrameTheme;
      reader?: ReaderSpec;
      composer?: ComposerFrameSpec;
    };
    /**
     * `url`: where to load the frame. Chrome serves it from a per-session dynamic origin that only
     * the background's runtime.getURL knows (content scripts get the fixed one, which is refused).
     */
    res: Result<{ token: string; url: string }>;
  };
  /** A secure frame redeems the token its parent handed it; binds the token to that frame. */
  'secure/redeem': { caller: 'secure-frame'; req: { token: string }; res: Result<SecureFrameGrant> };
  /** The secure composer sends what the user typed: encrypted here, only the envelope reaches the page. */
  'secure/send': {
    caller: 'secure-frame';
    /** `files`: the files attached in this composer since its last send, each with the conversation it was sealed for. */
    req: { token: string; text: string; files?: AttachedFile[] };
    res: Result<{ fingerprint: string; parts: number }>;
  };
  /**
   * The secure composer's unsent text (empty: none), kept in the background's memory so a composer
   * the page replaces (its box re-rendered or removed) does not take the user's words with it.
   */
  'secure/draft': {
    caller: 'secure-frame';
    req: { token: string; text: string; files?: AttachedFile[] };
    res: Result<Record<never, never>>;
  };
  /** A frame's content height changed (readers are sized to their content). */
  'secure/size': { caller: 'secure-frame'; req: { token: string; height: number }; res: Result<Record<never, never>> };
  /** The user focused, left or pointed into a frame: the host side checks for overlays and focus theft. */
  'secure/event': {
    caller: 'secure-frame';
    req: { token: string; event: SecureFrameEvent };
    /** `typed`: what the user typed into the page meanwhile (chat's box, before the frame was ready). */
    res: Result<{ warning?: string; typed?: HeldTyping[] }>;
  };
  // ---- isolated mode's files (lib/background/handlers/isolated-files.ts): pieces as for file/* ----
  /** The secure composer starts sealing a file the user attached in it (picker, drop or paste there). */
  'secure/file-seal-start': {
    caller: 'secure-frame';
    req: { token: string; name: string; type: string; size: number };
    res: Result<{ sid: string }>;
  };
  /** Plaintext piece in; its sealed bytes go to the content script, never back to the frame. */
  'secure/file-seal-push': {
    caller: 'secure-frame';
    req: { token: string; sid: string; data: string };
    res: Result<Record<never, never>>;
  };
  /**
   * Seals the rest and has the chat upload the `.veil` file. The frame keeps the reference and sends
   * it with its next message (`secure/send` `files`), which must go to `conversationId`.
   */
  'secure/file-seal-finish': {
    caller: 'secure-frame';
    req: { token: string; sid: string };
    res: Result<{ ref: FileRef; conversationId: string }>;
  };
  /** A reader opens the `index`-th file its message names; the sealed bytes come from the chat's link. */
  'secure/file-open': { caller: 'secure-frame'; req: { token: string; index: number }; res: Result<{ sid: string }> };
  /** The next plaintext piece (to be discarded unless `done` comes): `done` once all of it proved authentic. */
  'secure/file-pull': {
    caller: 'secure-frame';
    req: { token: string; sid: string };
    res: Result<
      | { done: false; data: string }
      | { done: true; data: string; name: string; type: string; size: number; moved: boolean }
    >;
  };
  'secure/file-abort': {
    caller: 'secure-frame';
    req: { token: string; sid: string };
    res: Result<Record<never, never>>;
  };
  'isolated/settings': {
    caller: 'extension-page';
    req: Record<string, never>;
    res: Result<{
      indicator: SecurityIndicator;
      sites: { key: string; name: string; mode: Policy['mode']; enforced: boolean }[];
    }>;
  };
  'isolated/set-site-mode': {
    caller: 'extension-page';
    req: { key: string; mode: Policy['mode'] };
    res: Result<Record<never, never>>;
  };
  'isolated/set-indicator': {
    caller: 'extension-page';
    req: { indicator: SecurityIndicator };
    res: Result<{ indicator: SecurityIndicator }>;
  };
  // ---- local search (lib/background/handlers/search.ts): Veil's own pages only, never a chat page ----
  /** Messages this browser decrypted that hold every word of `query`; `url`: only that chat's site. */
  'search/query': {
    caller: 'extension-page';
    req: { query: string; url?: string };
    res: Result<{ enabled: boolean; messages: number; site?: string; results: SearchResult[] }>;
  };
  /** Brings the chat tab of a result to the front (opens it if closed) and shows the message there. */
  'search/open': { caller: 'extension-page'; req: { id: number }; res: Result<Record<never, never>> };
  /** Erases the local search index. */
  'search/clear': { caller: 'extension-page'; req: Record<string, never>; res: Result<Record<never, never>> };
}

/**
 * A run of text typed where the page could have got it, with when its first key was pressed
 * (milliseconds since the epoch, `performance.timeOrigin + event.timeStamp`: one clock for the
 * page and the frame), so the secure composer can put it before the keys typed into it later.
 */
export interface HeldTyping {
  text: string;
  at: number;
}

/**
 * `tab`/`shift-tab`: the user tabs out of the composer; the content script moves focus for it (so it is not theft).
 * `attach`: the user is attaching files (📎 or a drop): the composer must be in plain view first.
 */
export type SecureFrameEvent = 'focus' | 'blur' | 'pointerdown' | 'tab' | 'shift-tab' | 'attach';

/** What a secure frame gets for a valid token: never more than the one message or composer it was made for. */
export interface SecureFrameGrant {
  kind: SecureFrameKind;
  indicator: SecurityIndicator;
  theme: FrameTheme;
  /** Reader frames: the decrypted message (its text only ever goes to this frame). */
  reader?: { item: DecryptedItem; author: string; replayed: boolean };
  /**
   * Composer frames: which key will encrypt, if any, and which of the chat's boxes it stands in
   * for; an edit's composer gets the text of the message it edits (to this frame only).
   */
  composer?: {
    keyLabel?: string;
    fingerprint?: string;
    error?: string;
    kind?: ComposerFrameKind;
    text?: string;
    /** Text the user typed into an earlier composer of this box that was not sent (see secure/draft). */
    draft?: string;
    /** Files attached in an earlier composer of this box and not sent. */
    draftFiles?: AttachedFile[];
  };
}

/** A file attached in a secure composer, not sent yet: its reference and the conversation it was sealed for. */
export interface AttachedFile {
  ref: FileRef;
  conversationId: string;
}

/**
 * Background -> content script, isolated mode only: the host side of a secure frame. Sent with
 * tabs.sendMessage to the frame that minted the capability; the content script accepts them only
 * from the background (no tab in the sender).
 */
export interface HostCommandMap {
  /** What the composer sends to: read from the chat's DOM at send time (SPAs switch conversations). */
  'host/compose-context': {
    req: { handle: string };
    res: Result<{ conversationId: string; senderId: string; maxChars: number; allowChunks: boolean }>;
  };
  /** Put these envelopes into the chat's composer and send them, one by one. */
  'host/put-envelopes': { req: { handle: string; envelopes: string[] }; res: Result<Record<never, never>> };
  'host/frame-size': { req: { handle: string; height: number }; res: Result<Record<never, never>> };
  /** Sealed bytes of a file the secure composer is attaching, kept (as a Blob) until `host/file-hand`. */
  'host/file-piece': { req: { handle: string; sid: string; data: string }; res: Result<Record<never, never>> };
  /** The last sealed bytes: give the chat the whole `.veil` file now, the way its adapter uploads. */
  'host/file-hand': {
    /** `pieces`: how many `host/file-piece` came before (a file missing one is not handed over). */
    req: { handle: string; sid: string; data: string; fileName: string; pieces: number };
    res: Result<Record<never, never>>;
  };
  /** A sealed file that will not be finished: its bytes go. */
  'host/file-drop': { req: { handle: string; sid: string }; res: Result<Record<never, never>> };
  /**
   * Sealed bytes (up to FILE_PIECE_BYTES from `at`) of the file a reader's message links, as they
   * download from the chat; `end`: the download ended with them. `sealedSize`: what the message
   * says the file holds (the download stops one byte past it).
   */
  'host/file-read': {
    req: { handle: string; fileId: string; at: number; sealedSize: number };
    res: Result<{ data: string; end: boolean }>;
  };

  'host/frame-event': {
    req: { handle: string; event: SecureFrameEvent | 'ready' };
    res: Result<{ warning?: string; typed?: HeldTyping[] }>;
  };
}
export type HostCommand = keyof HostCommandMap;
export interface HostEnvelope<K extends HostCommand = HostCommand> {
  veilHost: 1;
  type: K;
  req: HostCommandMap[K]['req'];
}

/**
 * Background -> content scripts of protected tabs: something changed that can turn
 * "🔒 Veil is locked", "🔑 Unknown key" or a revoked key's badge into something else, so the page
 * should re-render those messages and re-describe its composer, without a reload. Carries no
 * secrets and no plaintext; sent with tabs.sendMessage; the content script accepts it only from
 * the background (its own extension id, no tab in the sender) and treats it as a hint to re-ask.
 */
export interface VeilNotice {
  veilNotice: 1;
  type: 'keyring/changed';
  reason: 'unlock' | 'lock' | 'import' | 'generate' | 'rotate' | 'status' | 'passphrase' | 'identity' | 'policy';
  /** Keys whose status changed (rotate, revoke): results under them are asked for again. */
  keyIds?: string[];
}

export function isVeilNotice(m: unknown): m is VeilNotice {
  const n = m as VeilNotice;
  return (
    !!n &&
    n.veilNotice === 1 &&
    n.type === 'keyring/changed' &&
    typeof n.reason === 'string' &&
    (n.keyIds === undefined || (Array.isArray(n.keyIds) && n.keyIds.every((k) => typeof k === 'string')))
  );
}

/** Background → the content script of one tab: bring the message the user opened from search into view. */
export interface ShowMessageNotice {
  veilShow: 1;
  /** The Veil message id (hex). */
  messageId: string;
}

export function isShowMessageNotice(m: unknown): m is ShowMessageNotice {
  const n = m as ShowMessageNotice;
  return !!n && n.veilShow === 1 && typeof n.messageId === 'string' && /^[0-9a-f]{32}$/.test(n.messageId);
}

/** The sections of the options page a protected page may open (ids of their headings' sections). */
export const OPTIONS_SECTIONS = ['keys-section', 'lock', 'policy-section', 'import'] as const;
export type OptionsSection = (typeof OPTIONS_SECTIONS)[number];

/** Files one message carries at most (isolated mode's composer; the background refuses more). */
export const MAX_FILES_PER_MESSAGE = 16;

/** Largest piece of a file in one request (bytes before base64): a few of the format's 64 KiB chunks. */
export const FILE_PIECE_BYTES = 256 * 1024;

export type MessageType = keyof ProtocolMap;
export type Req<K extends MessageType> = ProtocolMap[K]['req'];
export type Res<K extends MessageType> = ProtocolMap[K]['res'];

/** Which caller each type accepts; the router refuses everything else. */
export const CALLERS: { [K in MessageType]: ProtocolMap[K]['caller'] } = {
  'site/status': 'content',
  encrypt: 'content',
  'encrypt/preview': 'content',
  decrypt: 'content',
  'decrypt/preview': 'content',
  'keys/list': 'extension-page',
  'keys/rotate': 'extension-page',
  'keys/create-identity': 'extension-page',
  'keys/unlock': 'extension-page',
  'keys/lock': 'extension-page',
  'keys/set-passphrase': 'extension-page',
  'keys/generate': 'extension-page',
  'keys/import': 'extension-page',
  'keys/import-preview': 'extension-page',
  'keys/export': 'extension-page',
  'keys/set-status': 'extension-page',
  'policy/get': 'extension-page',
  'policy/tab': 'extension-page',
  'sites/add': 'extension-page',
  'sites/remove': 'extension-page',
  'ui/open-options': 'content',
  'keyservice/sign-in': 'content',
  'keyservice/status': 'extension-page',
  'keyservice/refresh': 'extension-page',
  'file/seal-start': 'content',
  'file/seal-push': 'content',
  'file/seal-finish': 'content',
  'file/open-start': 'content',
  'file/open-push': 'content',
  'file/open-finish': 'content',
  'file/abort': 'content',
  'isolated/open-frame': 'content',
  'secure/redeem': 'secure-frame',
  'secure/send': 'secure-frame',
  'secure/draft': 'secure-frame',
  'secure/size': 'secure-frame',
  'secure/event': 'secure-frame',
  'secure/file-seal-start': 'secure-frame',
  'secure/file-seal-push': 'secure-frame',
  'secure/file-seal-finish': 'secure-frame',
  'secure/file-open': 'secure-frame',
  'secure/file-pull': 'secure-frame',
  'secure/file-abort': 'secure-frame',
  'isolated/settings': 'extension-page',
  'isolated/set-site-mode': 'extension-page',
  'isolated/set-indicator': 'extension-page',
  'search/query': 'extension-page',
  'search/open': 'extension-page',
  'search/clear': 'extension-page',
};

export interface Envelope<K extends MessageType = MessageType> {
  veil: 1;
  type: K;
  req: Req<K>;
}

export function isEnvelope(m: unknown): m is Envelope {
  const e = m as Envelope;
  // Own keys only: `'toString' in CALLERS` is true, and a prototype name is no message type.
  return (
    !!e && e.veil === 1 && typeof e.type === 'string' && Object.hasOwn(CALLERS, e.type) && typeof e.req === 'object'
  );
}
