/**
 * Passphrase-protected key bundles: how keys travel between people, profiles and admins.
 * scrypt (memory-hard, @noble/hashes) derives the wrapping key; XChaCha20-Poly1305 seals the
 * secrets; every other field of the file is the associated data, so metadata cannot be altered
 * either. Format: docs/key-bundle.md. Pure: no DOM, no browser APIs.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes, utf8ToBytes } from '@noble/ciphers/utils.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64 } from '@scure/base';
import { bytesToHex } from '@noble/ciphers/utils.js';
import {
  type DirectoryEntry,
  KEY_ID_RE,
  type KeyRecord,
  type KeyStatus,
  type SigningIdentity,
  validateDirectoryEntry,
  validateScope,
} from '../keys/model';

export const BUNDLE_FORMAT = 'veil-key-bundle';
export const DEFAULT_KDF = { N: 2 ** 17, r: 8, p: 1 };
/** Accepted scrypt costs: weak enough files are refused, absurd ones cannot hang the importer. */
const MIN_LOG_N = 15;
const MAX_LOG_N = 20;

export interface BundleKeyMeta {
  id: string;
  label: string;
  scope: { site: string; conversations: string[] };
  status: KeyStatus;
  createdAt: number;
}

export interface BundleFile {
  format: typeof BUNDLE_FORMAT;
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  createdAt: number;
  keys: BundleKeyMeta[];
  /** Public keys of people's signing identities, for verifying senders (authenticated, not secret). */
  directory?: DirectoryEntry[];
  nonce: string;
  ciphertext: string;
}

/** What a bundle carries once opened. */
export interface BundleContents {
  keys: KeyRecord[];
  /** The recipient's own signing identities (secret; only in bundles made for one person). */
  identities: SigningIdentity[];
  directory: DirectoryEntry[];
}

/** The sealed part: key secrets (same order as `keys`) and private signing identities. */
interface SealedPayload {
  secrets: string[];
  identities?: { site: string; userId: string; secretKey: string; createdAt: number }[];
}

export class BundleError extends Error {
  constructor(
    readonly code: 'not-a-bundle' | 'unsupported' | 'bad-passphrase' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/** The authenticated header: the file minus its ciphertext, in a fixed field order. */
function associatedData(b: Omit<BundleFile, 'ciphertext'>): Uint8Array {
  const kdf = { name: b.kdf.name, N: b.kdf.N, r: b.kdf.r, p: b.kdf.p, salt: b.kdf.salt };
  const keys = b.keys.map((k) => ({
    id: k.id,
    label: k.label,
    scope: { site: k.scope.site, conversations: k.scope.conversations },
    status: k.status,
    createdAt: k.createdAt,
  }));
  const directory = (b.directory ?? []).map((d) => ({
    site: d.site,
    userId: d.userId,
    publicKey: d.publicKey,
    addedAt: d.addedAt,
  }));
  return utf8ToBytes(JSON.stringify([b.format, b.version, kdf, b.createdAt, keys, directory, b.nonce]));
}

async function wrappingKey(passphrase: string, kdf: BundleFile['kdf']): Promise<Uint8Array> {
  return scryptAsync(passphrase.normalize('NFKC'), base64.decode(kdf.salt), {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    dkLen: 32,
    maxmem: 2 ** 31,
  });
}

export interface CreateBundleOptions {
  kdf?: { N: number; r: number; p: number };
  now?: number;
  identities?: SigningIdentity[];
  directory?: DirectoryEntry[];
  /** Fixed salt and nonce: for test vectors only. */
  salt?: Uint8Array;
  nonce?: Uint8Array;
}

export async function createBundle(
  keys: KeyRecord[],
  passphrase: string,
  opts: CreateBundleOptions = {},
): Promise<BundleFile> {
  if (passphrase.length < 8) throw new BundleError('invalid', 'passphrase must have at least 8 characters');
  if (keys.length === 0 && !opts.identities?.length && !opts.directory?.length)
    throw new BundleError('invalid', 'nothing to export');
  const params = opts.kdf ?? DEFAULT_KDF;
  const head: Omit<BundleFile, 'ciphertext'> = {
    format: BUNDLE_FORMAT,
    version: 1,
    kdf: { name: 'scrypt', ...params, salt: base64.encode(opts.salt ?? randomBytes(16)) },
    createdAt: opts.now ?? Date.now(),
    keys: keys.map((k) => ({ id: k.id, label: k.label, scope: k.scope, status: k.status, createdAt: k.createdAt })),
    ...(opts.directory?.length ? { directory: opts.directory } : {}),
    nonce: base64.encode(opts.nonce ?? randomBytes(24)),
  };
  checkHeader(head);
  const payload: SealedPayload = {
    secrets: keys.map((k) => base64.encode(k.secret)),
    ...(opts.identities?.length
      ? {
          identities: opts.identities.map((i) => ({
            site: i.site,
            userId: i.userId,
            secretKey: base64.encode(i.secretKey),
            createdAt: i.createdAt,
          })),
        }
      : {}),
  };
  const wk = await wrappingKey(passphrase, head.kdf);
  const ct = xchacha20poly1305(wk, base64.decode(head.nonce), associatedData(head)).encrypt(
    utf8ToBytes(JSON.stringify(payload)),
  );
  return { ...head, ciphertext: base64.encode(ct) };
}

function checkHeader(b: Omit<BundleFile, 'ciphertext'>): void {
  const bad = (why: string) => new BundleError('invalid', `key bundle is invalid: ${why}`);
  const logN = typeof b.kdf?.N === 'number' ? Math.log2(b.kdf.N) : NaN; // a hostile object may not convert
  if (
    b.kdf?.name !== 'scrypt' ||
    !Number.isInteger(logN) ||
    logN < MIN_LOG_N ||
    logN > MAX_LOG_N ||
    b.kdf.r !== 8 ||
    b.kdf.p !== 1 ||
    typeof b.kdf.salt !== 'string'
  ) {
    throw bad(`kdf must be scrypt with N = 2^${MIN_LOG_N}..2^${MAX_LOG_N}, r = 8, p = 1`);
  }
  if (!Number.isFinite(b.createdAt)) throw bad('createdAt is not a number');
  if (!Array.isArray(b.keys) || b.keys.length > 1000) throw bad('keys must be a list of at most 1000 keys');
  if (b.directory !== undefined) {
    if (!Array.isArray(b.directory) || b.directory.length > 100_000) throw bad('directory must be a list');
    const people = new Set<string>();
    b.directory.forEach((d, i) => {
      try {
        validateDirectoryEntry(d, `directory[${i}]`);
      } catch (e) {
        throw bad((e as Error).message);
      }
      const who = `${d.site}\u0000${d.userId}`;
      if (people.has(who)) throw bad(`directory lists ${d.userId} on ${d.site} twice`);
      people.add(who);
    });
  }
  if (typeof b.nonce !== 'string' || typeof b.kdf.salt !== 'string') throw bad('nonce and salt must be base64 text');
  const seen = new Set<string>();
  for (const [i, k] of b.keys.entries()) {
    if (typeof k?.id !== 'string' || !KEY_ID_RE.test(k.id)) throw bad(`keys[${i}].id must be 8 hex characters`);
    if (seen.has(k.id)) throw bad(`key ${k.id} appears twice`);
    seen.add(k.id);
    if (typeof k.label !== 'string' || k.label.length > 200) throw bad(`keys[${i}].label must be text`);
    if (!['active', 'retired', 'revoked'].includes(k.status)) throw bad(`keys[${i}].status is unknown`);
    if (!Number.isFinite(k.createdAt)) throw bad(`keys[${i}].createdAt is not a number`);
    try {
      validateScope(k.scope);
    } catch (e) {
      throw bad(`keys[${i}].scope: ${(e as Error).message}`);
    }
  }
}

/** Parses and opens a bundle file's text. Throws BundleError with a message fit for users. */
export async function openBundle(fileText: string, passphrase: string): Promise<BundleContents> {
  let b: BundleFile;
  try {
    b = JSON.parse(fileText);
  } catch {
    throw new BundleError('not-a-bundle', 'this file is not a Veil key bundle (not JSON)');
  }
  if (!b || typeof b !== 'object' || b.format !== BUNDLE_FORMAT) {
    throw new BundleError('not-a-bundle', 'this file is not a Veil key bundle');
  }
  if (typeof b.version !== 'number') throw new BundleError('invalid', 'key bundle is invalid: version is not a number');
  if (b.version !== 1) throw new BundleError('unsupported', `key bundle version ${b.version} needs a newer Veil`);
  checkHeader(b);
  let payload: SealedPayload;
  try {
    const wk = await wrappingKey(passphrase, b.kdf);
    const pt = xchacha20poly1305(wk, base64.decode(b.nonce), associatedData(b)).decrypt(
      base64.decode(String(b.ciphertext)),
    );
    payload = JSON.parse(new TextDecoder().decode(pt));
  } catch {
    throw new BundleError('bad-passphrase', 'wrong passphrase, or the file was altered');
  }
  const invalid = (why: string) => new BundleError('invalid', `key bundle is invalid: ${why}`);
  if (!Array.isArray(payload?.secrets) || payload.secrets.length !== b.keys.length)
    throw invalid('secrets do not match the key list');
  const keys = b.keys.map((k, i) => {
    const secret = base64.decode(String(payload.secrets[i]));
    if (secret.length !== 32) throw invalid(`key ${k.id} has a secret of the wrong size`);
    return { ...k, scope: validateScope(k.scope), secret, source: 'imported' as const };
  });
  const identities = (payload.identities ?? []).map((i) => {
    const secretKey = base64.decode(String(i.secretKey));
    if (secretKey.length !== 32 || typeof i.site !== 'string' || typeof i.userId !== 'string')
      throw invalid('a signing identity is malformed');
    return { site: i.site, userId: i.userId, secretKey, createdAt: Number(i.createdAt) || b.createdAt };
  });
  return {
    keys,
    identities,
    directory: (b.directory ?? []).map((d, i) => validateDirectoryEntry(d, `directory[${i}]`)),
  };
}

/** The directory entry that publishes an identity's public key. */
export function directoryEntryOf(i: SigningIdentity): DirectoryEntry {
  return {
    site: i.site,
    userId: i.userId,
    publicKey: bytesToHex(ed25519.getPublicKey(i.secretKey)),
    addedAt: i.createdAt,
  };
}
