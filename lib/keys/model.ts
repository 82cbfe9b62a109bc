/**
 * The keyring's data model: what a key is, which conversations it protects, how it is shown.
 * Pure: no DOM, no browser APIs. Secrets appear only in `KeyRecord`, which lives in the
 * background; everything that leaves the background is a `KeyInfo`.
 */
import { base32 } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, hexToBytes, utf8ToBytes } from '@noble/ciphers/utils.js';

export type KeyStatus = 'active' | 'retired' | 'revoked';

/**
 * Which messages a key protects. `site` is an adapter id (e.g. "fixture-chat") or "*";
 * `conversations` are patterns over conversation ids where `*` matches any run of characters.
 */
export interface KeyScope {
  site: string;
  conversations: string[];
}

export interface KeyRecord {
  id: string; // 8 lowercase hex characters = the 4-byte key id on the wire
  secret: Uint8Array; // 32 bytes; never leaves the background
  label: string;
  scope: KeyScope;
  status: KeyStatus;
  createdAt: number;
  /** `keyservice`: released to the signed-in user by Veil's key service (lib/background/keyservice). */
  source: KeySource;
  /** Key service keys only: unusable (and deleted) after this time unless a release renews them. */
  expiresAt?: number;
}

export type KeySource = 'generated' | 'imported' | 'policy' | 'keyservice';

/** A key as everything outside the background sees it: no secret, a fingerprint to compare. */
export type KeyInfo = Omit<KeyRecord, 'secret'> & { fingerprint: string };

export const KEY_ID_RE = /^[0-9a-f]{8}$/;

/** A short, comparable fingerprint: 80 bits of SHA-256 over id and secret, base32 in groups. */
export function fingerprint(id: string, secret: Uint8Array): string {
  const digest = sha256(concatBytes(utf8ToBytes('veil/fingerprint/v1'), hexToBytes(id), secret));
  return base32.encode(digest.subarray(0, 10)).match(/.{4}/g)!.join('-');
}

export function toInfo(k: KeyRecord | KeyInfo): KeyInfo {
  const { id, label, scope, status, createdAt, source, expiresAt } = k;
  const fp = 'secret' in k ? fingerprint(k.id, k.secret) : k.fingerprint;
  return {
    id,
    label,
    scope: { ...scope, conversations: [...scope.conversations] },
    status,
    createdAt,
    source,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    fingerprint: fp,
  };
}

/**
 * Whether `text` matches a glob where `*` matches any run of characters (and nothing else is
 * special). Classic two-pointer matching: on a mismatch only the last `*` is retried, one character
 * further, so the work is at most |pattern| x |text| steps and usually linear. Never a regular
 * expression: the page chooses conversation ids, and a backtracking regex over `*a*a*a*b` took
 * minutes. `steps`, if given, counts the comparisons (tests prove the bound with it).
 */
export function globMatch(pattern: string, text: string, steps?: { n: number }): boolean {
  let p = 0;
  let s = 0;
  let star = -1; // position in `pattern` just after the last '*'
  let resume = 0; // where in `text` that '*' match would continue
  while (s < text.length) {
    if (steps) steps.n++;
    if (p < pattern.length && pattern[p] === '*') {
      star = ++p;
      resume = s;
    } else if (p < pattern.length && pattern[p] === text[s]) {
      p++;
      s++;
    } else if (star >= 0) {
      p = star;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * True when some conversation id matches both glob patterns (`*` wildcards only). Dynamic
 * programming over the two patterns: |a| × |b| steps, no backtracking.
 */
export function globsIntersect(a: string, b: string): boolean {
  // can[i][j]: the rests a[i..] and b[j..] match a common string. Filled from the ends.
  const can = Array.from({ length: a.length + 1 }, () => new Array<boolean>(b.length + 1).fill(false));
  for (let i = a.length; i >= 0; i--)
    for (let j = b.length; j >= 0; j--) {
      if (i === a.length && j === b.length) can[i]![j] = true;
      else if (a[i] === '*') can[i]![j] = can[i + 1]![j]! || (j < b.length && can[i]![j + 1]!);
      else if (b[j] === '*') can[i]![j] = can[i]![j + 1]! || (i < a.length && can[i + 1]![j]!);
      else can[i]![j] = i < a.length && j < b.length && a[i] === b[j] && can[i + 1]![j + 1]!;
    }
  return can[0]![0]!;
}

/** How specifically one conversation pattern of a scope on `site` matches any id it matches. */
export function patternScore(pattern: string, site: string): number {
  return (pattern.includes('*') ? pattern.replace(/\*/g, '').length : 10_000) * 2 + (site === '*' ? 0 : 1);
}

/** How specifically a scope matches; -1 when it does not. Higher wins. */
export function scopeSpecificity(scope: KeyScope, site: string, conversationId: string): number {
  if (scope.site !== '*' && scope.site !== site) return -1;
  let best = -1;
  // An exact id beats any pattern; among patterns, more literal characters win; then a named site.
  for (const p of scope.conversations)
    if (globMatch(p, conversationId)) best = Math.max(best, patternScore(p, scope.site));
  return best;
}

/** The key that encrypts new messages in a conversation: the most specific active one. */
export function selectEncryptionKey<K extends Omit<KeyRecord, 'secret'>>(
  keys: K[],
  site: string,
  conversationId: string,
): K | undefined {
  let chosen: K | undefined;
  let chosenScore = -1;
  for (const k of keys) {
    if (k.status !== 'active') continue;
    const s = scopeSpecificity(k.scope, site, conversationId);
    if (s > chosenScore || (s === chosenScore && s >= 0 && chosen && k.createdAt > chosen.createdAt)) {
      chosen = k;
      chosenScore = s;
    }
  }
  return chosenScore >= 0 ? chosen : undefined;
}

export function validateScope(scope: unknown): KeyScope {
  const s = scope as KeyScope;
  if (
    !s ||
    typeof s.site !== 'string' ||
    !s.site ||
    !Array.isArray(s.conversations) ||
    s.conversations.length === 0 ||
    !s.conversations.every((c) => typeof c === 'string' && c.length > 0 && c.length < 512)
  ) {
    throw new Error('scope needs a site ("*" or an adapter id) and at least one conversation pattern');
  }
  return { site: s.site, conversations: [...s.conversations] };
}

/**
 * A person's own Ed25519 signing key for one chat site (`userId` is their id in that chat).
 * Lives in the background only; its public half goes into everyone's directory.
 */
export interface SigningIdentity {
  site: string;
  userId: string;
  secretKey: Uint8Array; // 32-byte Ed25519 seed
  createdAt: number;
}

/** Who signs as whom: the directory an admin distributes (chat user id per site -> public key). */
export interface DirectoryEntry {
  site: string;
  userId: string;
  publicKey: string; // 64 hex characters
  addedAt: number;
}

export const PUBLIC_KEY_RE = /^[0-9a-f]{64}$/;

export function validateDirectoryEntry(e: unknown, where: string): DirectoryEntry {
  const d = e as DirectoryEntry;
  if (
    !d ||
    typeof d.site !== 'string' ||
    !d.site ||
    typeof d.userId !== 'string' ||
    !d.userId ||
    d.userId.length > 256 ||
    !PUBLIC_KEY_RE.test(d.publicKey) ||
    !Number.isFinite(d.addedAt)
  ) {
    throw new Error(`${where} must have site, userId, a 64-hex-character publicKey and addedAt`);
  }
  return { site: d.site, userId: d.userId, publicKey: d.publicKey, addedAt: d.addedAt };
}
