/**
 * Passphrase-protected key bundles: how keys travel between people, profiles and admins.
 * scrypt (memory-hard, @noble/hashes) derives the wrapping key; XChaCha20-Poly1305 seals the
 * secrets; every other field of the file is the associated data, so metadata cannot be altered
 * either. Format: docs/key-bundle.md. Pure: no DOM, no browser APIs.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes, utf8ToBytes } from '@noble/ciphers/utils.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { base64 } from '@scure/base';
import { KEY_ID_RE, type KeyRecord, type KeyStatus, validateScope } from './model';

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
  nonce: string;
  ciphertext: string;
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
    id: k.id, label: k.label, scope: { site: k.scope.site, conversations: k.scope.conversations },
    status: k.status, createdAt: k.createdAt,
  }));
  return utf8ToBytes(JSON.stringify([b.format, b.version, kdf, b.createdAt, keys, b.nonce]));
}

async function wrappingKey(passphrase: string, kdf: BundleFile['kdf']): Promise<Uint8Array> {
  return scryptAsync(passphrase.normalize('NFKC'), base64.decode(kdf.salt), {
    N: kdf.N, r: kdf.r, p: kdf.p, dkLen: 32, maxmem: 2 ** 31,
  });
}

export async function createBundle(
  keys: KeyRecord[],
  passphrase: string,
  opts: { kdf?: { N: number; r: number; p: number }; now?: number } = {},
): Promise<BundleFile> {
  if (passphrase.length < 8) throw new BundleError('invalid', 'passphrase must have at least 8 characters');
  if (keys.length === 0) throw new BundleError('invalid', 'no keys to export');
  const params = opts.kdf ?? DEFAULT_KDF;
  const head: Omit<BundleFile, 'ciphertext'> = {
    format: BUNDLE_FORMAT,
    version: 1,
    kdf: { name: 'scrypt', ...params, salt: base64.encode(randomBytes(16)) },
    createdAt: opts.now ?? Date.now(),
    keys: keys.map((k) => ({ id: k.id, label: k.label, scope: k.scope, status: k.status, createdAt: k.createdAt })),
    nonce: base64.encode(randomBytes(24)),
  };
  checkHeader(head);
  const secrets = utf8ToBytes(JSON.stringify(keys.map((k) => base64.encode(k.secret))));
  const wk = await wrappingKey(passphrase, head.kdf);
  const ct = xchacha20poly1305(wk, base64.decode(head.nonce), associatedData(head)).encrypt(secrets);
  return { ...head, ciphertext: base64.encode(ct) };
}

function checkHeader(b: Omit<BundleFile, 'ciphertext'>): void {
  const bad = (why: string) => new BundleError('invalid', `key bundle is invalid: ${why}`);
  const logN = Math.log2(b.kdf?.N);
  if (b.kdf?.name !== 'scrypt' || !Number.isInteger(logN) || logN < MIN_LOG_N || logN > MAX_LOG_N
    || b.kdf.r !== 8 || b.kdf.p !== 1 || typeof b.kdf.salt !== 'string') {
    throw bad(`kdf must be scrypt with N = 2^${MIN_LOG_N}..2^${MAX_LOG_N}, r = 8, p = 1`);
  }
  if (!Number.isFinite(b.createdAt)) throw bad('createdAt is not a number');
  if (!Array.isArray(b.keys) || b.keys.length === 0 || b.keys.length > 1000) throw bad('keys must list 1 to 1000 keys');
  const seen = new Set<string>();
  for (const [i, k] of b.keys.entries()) {
    if (!KEY_ID_RE.test(k?.id)) throw bad(`keys[${i}].id must be 8 hex characters`);
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
export async function openBundle(fileText: string, passphrase: string): Promise<KeyRecord[]> {
  let b: BundleFile;
  try {
    b = JSON.parse(fileText);
  } catch {
    throw new BundleError('not-a-bundle', 'this file is not a Veil key bundle (not JSON)');
  }
  if (!b || typeof b !== 'object' || b.format !== BUNDLE_FORMAT) {
    throw new BundleError('not-a-bundle', 'this file is not a Veil key bundle');
  }
  if (b.version !== 1) throw new BundleError('unsupported', `key bundle version ${b.version} needs a newer Veil`);
  checkHeader(b);
  let secrets: unknown;
  try {
    const wk = await wrappingKey(passphrase, b.kdf);
    const pt = xchacha20poly1305(wk, base64.decode(b.nonce), associatedData(b)).decrypt(base64.decode(b.ciphertext));
    secrets = JSON.parse(new TextDecoder().decode(pt));
  } catch {
    throw new BundleError('bad-passphrase', 'wrong passphrase, or the file was altered');
  }
  if (!Array.isArray(secrets) || secrets.length !== b.keys.length) {
    throw new BundleError('invalid', 'key bundle is invalid: secrets do not match the key list');
  }
  return b.keys.map((k, i) => {
    const secret = base64.decode(String(secrets[i]));
    if (secret.length !== 32) throw new BundleError('invalid', `key ${k.id} has a secret of the wrong size`);
    return { ...k, scope: validateScope(k.scope), secret, source: 'imported' as const };
  });
}
