/**
 * The keys an archive is read with: the admin's passphrase-protected key files and deployed policy
 * files, several at once (rotated, retired and revoked keys included: history needs them all),
 * served to lib/background/decrypt.ts through the three Keyring methods it calls.
 */
import { readFileSync } from 'node:fs';
import { hexToBytes } from '@noble/ciphers/utils.js';
import { BundleError, directoryEntryOf, openBundle } from '../lib/crypto/bundle';
import { type DerivedKey, deriveKey } from '../lib/crypto/envelope';
import { type DirectoryEntry, type KeyInfo, type KeyRecord, type KeyStatus, toInfo } from '../lib/keys/model';
import { CHROME_EXTENSION_ID, GECKO_ID } from '../lib/policy/ids';
import { parseManagedPolicy } from '../lib/policy/parse';
import { policiesInFile, ReadError } from './admin-read';
import { nativeXChaChaOpener } from './archive-aead';

export class KeyLoadError extends Error {}

/** A later file's revocation must win over an earlier file's "active": the worse status counts. */
const SEVERITY: Record<KeyStatus, number> = { active: 0, retired: 1, revoked: 2 };

export class ArchiveKeyring {
  private readonly records = new Map<string, KeyRecord>();
  private readonly infos = new Map<string, KeyInfo>();
  private readonly derived = new Map<string, DerivedKey>();
  private readonly people = new Map<string, Map<string, Uint8Array>>();
  private readonly entries: DirectoryEntry[] = [];
  /** Conflicts noticed while loading (same id, other secret): reported, the first key kept. */
  readonly warnings: string[] = [];

  add(keys: KeyRecord[], directory: DirectoryEntry[], from: string): void {
    for (const k of keys) {
      const had = this.records.get(k.id);
      if (had && !sameBytes(had.secret, k.secret)) {
        this.warnings.push(`${from}: key ${k.id} has another secret than the one loaded before; kept the first`);
        continue;
      }
      const rec = had && SEVERITY[had.status] >= SEVERITY[k.status] ? had : { ...k };
      this.records.set(k.id, rec);
      this.infos.set(k.id, toInfo(rec));
    }
    for (const d of directory) {
      this.entries.push(d);
      if (!this.people.has(d.site)) this.people.set(d.site, new Map());
      this.people.get(d.site)!.set(d.userId, hexToBytes(d.publicKey));
    }
  }

  /** Everything loaded, to hand to worker threads (scripts/archive-workers.ts): secrets stay in this process. */
  snapshot(): { keys: KeyRecord[]; directory: DirectoryEntry[] } {
    return { keys: [...this.records.values()], directory: [...this.entries] };
  }

  get size(): number {
    return this.records.size;
  }

  list(): KeyInfo[] {
    return [...this.infos.values()];
  }

  // The Keyring methods decryptItem uses (lib/background/keyring.ts).
  async get(id: string): Promise<KeyInfo | undefined> {
    return this.infos.get(id);
  }

  async derivedFor(id: string): Promise<DerivedKey | undefined> {
    let d = this.derived.get(id);
    if (d) return d;
    const rec = this.records.get(id);
    if (!rec) return undefined;
    d = deriveKey({ id: hexToBytes(id), secret: rec.secret });
    const open = nativeXChaChaOpener(d.enc);
    if (open) d.open = open;
    this.derived.set(id, d);
    return d;
  }

  async directory(): Promise<Map<string, Map<string, Uint8Array>>> {
    return this.people;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new KeyLoadError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** An admin key file (docs/key-bundle.md): keys, and the directory of people's signing keys. */
export async function loadKeyFile(ring: ArchiveKeyring, file: string, passphrase: string): Promise<void> {
  try {
    const b = await openBundle(read(file, 'keys file').toString('utf8'), passphrase);
    ring.add(b.keys, [...b.directory, ...b.identities.map(directoryEntryOf)], file);
  } catch (e) {
    if (e instanceof BundleError) throw new KeyLoadError(`${file}: ${e.message}`);
    throw e;
  }
}

/** A deployed policy in any form `policy` writes (Chrome JSON, .reg, .mobileconfig, Firefox). */
export function loadPolicyFile(ring: ArchiveKeyring, file: string, ids: { chrome?: string; firefox?: string }): void {
  let found;
  try {
    found = policiesInFile(read(file, 'policy file'), {
      chrome: [...(ids.chrome ? [ids.chrome] : []), CHROME_EXTENSION_ID],
      firefox: [...(ids.firefox ? [ids.firefox] : []), GECKO_ID],
    });
  } catch (e) {
    if (e instanceof ReadError) throw new KeyLoadError(`${file}: ${e.message}`);
    throw e;
  }
  if (found.length === 0) throw new KeyLoadError(`${file}: this file configures no Veil policy`);
  for (const { where, policy } of found) {
    const parsed = parseManagedPolicy(policy);
    // The browser would refuse an invalid policy (and its keys) outright; so does the archive.
    if (parsed.policy.errors.length) {
      const first = parsed.policy.errors[0]!;
      throw new KeyLoadError(`${file} (${where}) is invalid: ${first.path || '(policy)'}: ${first.message}`);
    }
    ring.add(parsed.keys, [], `${file} (${where})`);
  }
}
