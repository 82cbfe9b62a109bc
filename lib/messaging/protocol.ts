/**
 * The one protocol between Veil's content script, extension pages and background.
 * Every message type is declared here once, with who may send it. The background checks the
 * sender of every request (see lib/background/router.ts) before it encrypts or reveals anything.
 * Plaintext crosses this protocol only between a protected page's content script and the
 * background; keys never cross it.
 */
import type { KeyInfo, KeyScope, KeyStatus } from '../keys/model';
import type { Policy } from '../policy/policy';

/** Who may send a request: a content script in a protected tab, or an extension page. */
export type Caller = 'content' | 'extension-page';

export type VeilError = {
  code:
    | 'no-key' | 'too-long' | 'not-protected' | 'bad-request' | 'forbidden'
    | 'bundle' | 'keyring' | 'unreachable' | 'internal';
  message: string;
};

export type Result<T> = ({ ok: true } & T) | { ok: false; error: VeilError };

export type DecryptStatus = 'decrypted' | 'unknown-key' | 'tampered' | 'malformed';

export interface DecryptItem {
  /** The content script's handle for the message node; echoed back. */
  id: string;
  /** One envelope text, or all chunk texts of one message in any order. */
  texts: string[];
  /** The author the chat displays; checked against the authenticated sender. */
  author: string;
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
  reason?: string;
}

export interface SiteStatus {
  protected: boolean;
  adapterId?: string;
  requireEncryption: boolean;
  mode: Policy['mode'];
  managed: boolean;
}

export interface ProtocolMap {
  'site/status': { caller: 'content'; req: Record<string, never>; res: Result<SiteStatus> };
  encrypt: {
    caller: 'content';
    req: { conversationId: string; senderId: string; text: string; maxChars: number; allowChunks: boolean };
    res: Result<{ envelopes: string[]; keyId: string; fingerprint: string }>;
  };
  'encrypt/preview': {
    caller: 'content';
    req: { conversationId: string };
    res: Result<{ key?: KeyInfo }>;
  };
  decrypt: {
    caller: 'content';
    req: { conversationId: string; items: DecryptItem[] };
    res: Result<{ items: DecryptedItem[] }>;
  };
  'keys/list': { caller: 'extension-page'; req: Record<string, never>; res: Result<{ keys: KeyInfo[] }> };
  'keys/generate': {
    caller: 'extension-page';
    req: { label: string; scope: KeyScope };
    res: Result<{ key: KeyInfo }>;
  };
  'keys/import': {
    caller: 'extension-page';
    req: { fileText: string; passphrase: string };
    res: Result<{ imported: KeyInfo[] }>;
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
}

export type MessageType = keyof ProtocolMap;
export type Req<K extends MessageType> = ProtocolMap[K]['req'];
export type Res<K extends MessageType> = ProtocolMap[K]['res'];

/** Which caller each type accepts; the router refuses everything else. */
export const CALLERS: { [K in MessageType]: ProtocolMap[K]['caller'] } = {
  'site/status': 'content',
  encrypt: 'content',
  'encrypt/preview': 'content',
  decrypt: 'content',
  'keys/list': 'extension-page',
  'keys/generate': 'extension-page',
  'keys/import': 'extension-page',
  'keys/export': 'extension-page',
  'keys/set-status': 'extension-page',
  'policy/get': 'extension-page',
};

export interface Envelope<K extends MessageType = MessageType> {
  veil: 1;
  type: K;
  req: Req<K>;
}

export function isEnvelope(m: unknown): m is Envelope {
  const e = m as Envelope;
  return !!e && e.veil === 1 && typeof e.type === 'string' && e.type in CALLERS && typeof e.req === 'object';
}
