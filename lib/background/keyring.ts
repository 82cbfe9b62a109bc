/**
 * The background's keyring: the store, the lock, and in-memory caches of derived keys.
 * The only place outside lib/keys where secrets exist; nothing here returns one to a caller.
 */
import { keyStatusText, t } from '../i18n';
import { bytesToHex, equalBytes, hexToBytes, randomBytes } from '@noble/ciphers/utils.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/ciphers/utils.js';
import { deriveKey, type DerivedKey } from '../crypto/envelope';
import type { ImportPlan } from '../messaging/protocol';
import {
  type KeyInfo,
  type KeyRecord,
  type KeyScope,
  type KeyStatus,
  globsIntersect,
  patternScore,
  selectEncryptionKey,
  toInfo,
} from '../keys/model';
import { type IdentityInfo, type ImportExtras, type KeyMeta, KeyStore } from './keys/store';
import { LockedError, newLock, openLock } from './keys/wrapping';

/** Where an unlocked keyring keeps its lock key across service-worker restarts (memory only). */
export interface LockCache {
  get(): Promise<Uint8Array | undefined>;
  set(key: Uint8Array | undefined): Promise<void>;
}

export const noLockCache: LockCache = { get: async () => undefined, set: async () => undefined };

export type LockState = 'none' | 'locked' | 'unlocked';

/**
 * True when `incoming` would encrypt some conversation `old` encrypts now: a pair of their patterns
 * matches a common conversation id and the incoming one is at least as specific (newer wins a tie).
 * Checked on the patterns' languages, not on the pattern strings as ids: `dm*-*` names nothing
 * that is literally `dm-*`, yet takes over every `dm-…` conversation from a `dm-*` key.
 */
function mayTakeOver(incoming: KeyRecord, old: KeyInfo): boolean {
  const site = (k: { scope: KeyScope }) => k.scope.site;
  if (site(incoming) !== '*' && site(old) !== '*' && site(incoming) !== site(old)) return false;
  return incoming.scope.conversations.some((p) =>
    old.scope.conversations.some((q) => {
      if (!globsIntersect(p, q)) return false;
      const mine = patternScore(p, site(incoming));
      const theirs = patternScore(q, site(old));
      return mine > theirs || (mine === theirs && incoming.createdAt > old.createdAt);
    }),
  );
}

/** False for a key service key past its offline grace period. */
function unexpired(k: KeyInfo): boolean {
  return k.expiresAt === undefined || k.expiresAt > Date.now();
}

function sameScope(a: KeyScope, b: KeyScope): boolean {
  return a.site === b.site && [...a.conversations].sort().join('\n') === [...b.conversations].sort().join('\n');
}

export class Keyring {
  private metas?: Promise<Map<string, KeyMeta>>;
  private derived = new Map<string, DerivedKey>();
  /** Unwrapped signing seeds, by site and user id; dropped with `derived` on lock and on changes. */
  private signingKeys = new Map<string, Uint8Array>();
  private lockKey?: Uint8Array;
  private lockLoaded = false;
  /**
   * Keys delivered by enterprise policy: held in memory only and replaced as a whole on
   * every policy change (syncPolicyKeys), never written to the store, so removing a key from the
   * policy removes it everywhere and the user lock does not apply to them (the policy already holds
   * them in the clear; docs/decisions/0004-policy-keys.md).
   */
  private policyKeys = new Map<string, KeyRecord>();
  private policyKeysExportable = false;

  constructor(
    readonly store = new KeyStore(),
    private readonly lockCache: LockCache = noLockCache,
    /**
     * Called on a user action (unlock, a send, Veil's own pages): the auto-lock timer restarts.
     * Never on decrypts: the page triggers those, and an open chat would otherwise never lock.
     */
    private readonly onUserAction: () => void = () => undefined,
  ) {}

  private load(): Promise<Map<string, KeyMeta>> {
    // Policy keys win an id clash with a stored key: the enterprise's word is final.
    this.metas ??= this.store
      .all()
      .then(
        (all) =>
          new Map([
            ...all.map((k) => [k.id, k] as const),
            ...[...this.policyKeys.values()].map((k) => [k.id, toInfo(k)] as const),
          ]),
      );
    return this.metas;
  }

  private invalidate(): void {
    this.metas = undefined;
    this.identityCache = undefined;
    this.directoryCache = undefined;
    this.derived.clear();
    this.signingKeys.clear();
  }

  private async currentLockKey(): Promise<Uint8Array | undefined> {
    if (!this.lockLoaded) {
      this.lockKey ??= await this.lockCache.get();
      this.lockLoaded = true;
    }
    return this.lockKey;
  }

  async lockState(): Promise<LockState> {
    if (!(await this.store.lockParams())) return 'none';
    return (await this.currentLockKey()) ? 'unlocked' : 'locked';
  }

  async list(): Promise<KeyInfo[]> {
    return [...(await this.load()).values()].filter(unexpired).sort((a, b) => a.createdAt - b.createdAt);
  }

  async get(id: string): Promise<KeyInfo | undefined> {
    const k = (await this.load()).get(id);
    return k && unexpired(k) ? k : undefined;
  }

  /** Derived keys for one key id; throws LockedError while the passphrase lock is closed. */
  async derivedFor(id: string): Promise<DerivedKey | undefined> {
    // Before the cache: a key service key past its grace period is gone even before the alarm deletes it.
    if (!(await this.get(id))) return undefined;
    let d = this.derived.get(id);
    if (d) return d;
    const secret = this.policyKeys.get(id)?.secret ?? (await this.store.unwrap(id, await this.currentLockKey()));
    if (!secret) return undefined;
    d = deriveKey({ id: hexToBytes(id), secret });
    this.derived.set(id, d);
    return d;
  }

  async encryptionKey(site: string, conversationId: string): Promise<KeyInfo | undefined> {
    return selectEncryptionKey(await this.list(), site, conversationId);
  }

  private async newId(): Promise<string> {
    const existing = await this.load();
    let id: string;
    do id = bytesToHex(randomBytes(4));
    while (existing.has(id));
    return id;
  }

  private async writableLockKey(): Promise<Uint8Array | undefined> {
    const state = await this.lockState();
    if (state === 'locked') throw new LockedError();
    return this.currentLockKey();
  }

  async generate(label: string, scope: KeyScope): Promise<KeyInfo> {
    const clash = (await this.list()).find((k) => k.status === 'active' && sameScope(k.scope, scope));
    if (clash) throw new Error(t('errScopeTaken', clash.label, clash.id));
    const rec: KeyRecord = {
      id: await this.newId(),
      secret: randomBytes(32),
      label,
      scope,
      status: 'active',
      createdAt: Date.now(),
      source: 'generated',
    };
    const lockKey = await this.writableLockKey();
    await this.mutate(() => this.store.addAll([rec], lockKey));
    return (await this.get(rec.id))!;
  }

  /**
   * Rotation: a new active key with the same scope; the old one is retired (still decrypts
   * history, never encrypts again). One transaction.
   */
  async rotate(id: string): Promise<KeyInfo> {
    const old = await this.get(id);
    if (!old) throw new Error(t('errNoSuchKey', id));
    this.assertNotPolicy(id, old);
    if (old.status !== 'active') throw new Error(t('errRotateInactive', id, keyStatusText(old.status)));
    const rec: KeyRecord = {
      id: await this.newId(),
      secret: randomBytes(32),
      label: old.label,
      scope: old.scope,
      status: 'active',
      createdAt: Date.now(),
      source: 'generated',
    };
    const lockKey = await this.writableLockKey();
    await this.mutate(() => this.store.update([{ id, status: 'retired' }], [rec], lockKey));
    return (await this.get(rec.id))!;
  }

  private async refuseIdClashes(keys: KeyRecord[]): Promise<Map<string, KeyMeta>> {
    const existing = await this.load();
    for (const k of keys) {
      if (!existing.has(k.id)) continue;
      const mine = await this.store.unwrap(k.id, await this.currentLockKey()).catch(() => undefined);
      const same = !!mine && equalBytes(mine, k.secret);
      throw new Error(same ? t('errKeyAlreadyThere', k.id) : t('errKeyConflict', k.id));
    }
    return existing;
  }

  /**
   * What importing would change, without writing: new keys and which existing key each would take
   * over encrypting from, the signing identities it would give the user, and directory entries
   * added or changed. `source` identifies the bundle (a digest of its text), so a confirmation
   * given for one bundle and keyring state is worth nothing for another.
   */
  async planImport(keys: KeyRecord[], extras: ImportExtras, source: string): Promise<ImportPlan> {
    const existing = [...(await this.refuseIdClashes(keys)).values()];
    const active = existing.filter((k) => k.status === 'active');
    const planned = keys.map((k) => {
      const replaces = active
        .filter((e) => k.status === 'active' && mayTakeOver(k, e))
        .map((e) => ({ id: e.id, label: e.label }));
      return { ...toInfo(k), replaces };
    });
    const identities = (extras.identities ?? []).map((i) => ({
      site: i.site,
      userId: i.userId,
      publicKey: bytesToHex(ed25519.getPublicKey(i.secretKey)),
    }));
    const known = new Map((await this.store.directory()).map((d) => [`${d.site}\u0000${d.userId}`, d.publicKey]));
    const directory = (extras.directory ?? []).map((d) => {
      const previousKey = known.get(`${d.site}\u0000${d.userId}`);
      const change = previousKey === undefined ? 'added' : previousKey === d.publicKey ? 'same' : 'changed';
      return { ...d, change, ...(change === 'changed' ? { previousKey } : {}) } as ImportPlan['directory'][number];
    });
    const needsConfirmation =
      planned.some((k) => k.replaces.length > 0) || identities.length > 0 || directory.some((d) => d.change !== 'same');
    const body = { needsConfirmation, keys: planned, identities, directory };
    const digest = bytesToHex(sha256(utf8ToBytes(source + JSON.stringify(body))).subarray(0, 16));
    return { digest, ...body };
  }

  /**
   * All or nothing: a conflicting id anywhere in the batch leaves the keyring untouched.
   * `replaceDirectory`: directory entries that differ from the known ones replace them (only
   * after the user confirmed exactly that plan); otherwise such an entry fails the import.
   */
  async importAll(keys: KeyRecord[], extras: ImportExtras = {}): Promise<void> {
    const existing = await this.refuseIdClashes(keys);
    // One active key per scope: a newer imported active key supersedes (retires) an older one,
    // which is how a rotation made elsewhere arrives.
    const retire = [...existing.values()]
      .filter(
        (old) =>
          old.status === 'active' &&
          keys.some((k) => k.status === 'active' && sameScope(k.scope, old.scope) && k.createdAt > old.createdAt),
      )
      .map((k) => k.id);
    const lockKey = await this.writableLockKey();
    await this.mutate(() => this.store.addAll(keys, lockKey, { ...extras, retire }));
  }

  /** Secrets of some keys, for export into a passphrase bundle. */
  async exportable(ids: string[]): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for (const meta of await this.list()) {
      if (!ids.includes(meta.id)) continue;
      const fromPolicy = this.policyKeys.get(meta.id);
      // Key service keys are the enterprise's too: exportable only where the policy allows it.
      const secret = fromPolicy
        ? this.policyKeysExportable
          ? fromPolicy.secret
          : undefined
        : meta.source === 'keyservice' && !this.policyKeysExportable
          ? undefined
          : await this.store.unwrap(meta.id, await this.currentLockKey());
      if (!secret) continue;
      const { fingerprint: _fp, ...rest } = meta;
      out.push({ ...rest, secret });
    }
    return out;
  }

  async setStatus(id: string, status: KeyStatus): Promise<KeyInfo> {
    const rec = await this.get(id);
    if (!rec) throw new Error(t('errNoSuchKey', id));
    this.assertNotPolicy(id, rec);
    if (rec.status === 'revoked' && status !== 'revoked') throw new Error(t('errRevokedStays'));
    await this.mutate(() => this.store.update([{ id, status }]));
    return (await this.get(id))!;
  }

  async unlock(passphrase: string): Promise<void> {
    const params = await this.store.lockParams();
    if (!params) return;
    const key = await openLock(passphrase, params);
    if (!key) throw new Error(t('errWrongPassphrase'));
    this.lockKey = key;
    this.lockLoaded = true;
    await this.lockCache.set(key);
    this.onUserAction();
  }

  /** Something the user did (not the page): keeps an unlocked keyring open a while longer. */
  noteUserAction(): void {
    this.onUserAction();
  }

  async lock(): Promise<void> {
    this.lockKey = undefined;
    this.lockLoaded = true;
    this.derived.clear();
    this.signingKeys.clear();
    await this.lockCache.set(undefined);
  }

  /** Sets, changes or (with `next` empty) removes the passphrase lock. Requires being unlocked. */
  async setPassphrase(next: string | undefined): Promise<void> {
    if (next !== undefined && next.length < 8) throw new Error(t('errPassphraseShort'));
    const current = await this.writableLockKey();
    const lock = next ? await newLock(next) : undefined;
    await this.mutate(() => this.store.relock(current, lock));
    this.lockKey = lock?.key;
    this.lockLoaded = true;
    await this.lockCache.set(lock?.key);
  }

  /**
   * Replaces every policy key at once with what the policy in force delivers. Sync, so
   * the policy source can call it in the same tick it switches policy: no request sees one without
   * the other. `exportable`: the policy's allowKeyExport.
   */
  syncPolicyKeys(records: KeyRecord[], exportable = false): void {
    this.policyKeys = new Map(records.map((k) => [k.id, { ...k, source: 'policy' as const }]));
    this.policyKeysExportable = exportable;
    this.invalidate();
  }

  isPolicyKey(id: string): boolean {
    return this.policyKeys.has(id);
  }

  private assertNotPolicy(id: string, meta?: KeyInfo): void {
    if (this.policyKeys.has(id) || meta?.source === 'keyservice') throw new Error(t('errPolicyKey', id));
  }

  /**
   * Makes the stored key service keys exactly `records` (one release: everything the user may
   * hold now), each usable until `expiresAt`. Keys of an earlier release missing now are deleted
   * (leaver, mover). Like policy keys, they bypass the passphrase lock: a refresh runs unattended.
   */
  async syncServiceKeys(records: KeyRecord[], expiresAt: number): Promise<void> {
    await this.mutate(() =>
      this.store.replaceServiceKeys(
        records.map((k) => ({ ...k, source: 'keyservice' as const, expiresAt })),
        [...this.policyKeys.keys()],
      ),
    );
  }

  /** Deletes key service keys whose grace period has ended; true when any was deleted. */
  async dropExpiredServiceKeys(now = Date.now()): Promise<boolean> {
    let dropped = false;
    await this.mutate(async () => {
      dropped = await this.store.deleteServiceKeys((k) => k.expiresAt !== undefined && k.expiresAt <= now);
    });
    return dropped;
  }

  /** Deletes every key service key (sign-out, or the policy no longer names a key service). */
  async clearServiceKeys(): Promise<boolean> {
    let dropped = false;
    await this.mutate(async () => {
      dropped = await this.store.deleteServiceKeys(() => true);
    });
    return dropped;
  }

  /** Makes the user's own signing identity on a site; returns its public key (hex) for IT. */
  async createIdentity(site: string, userId: string): Promise<string> {
    const secretKey = ed25519.utils.randomSecretKey();
    const lockKey = await this.writableLockKey();
    await this.mutate(() =>
      this.store.addAll([], lockKey, { identities: [{ site, userId, secretKey, createdAt: Date.now() }] }),
    );
    return bytesToHex(ed25519.getPublicKey(secretKey));
  }

  /** The signed-in user's Ed25519 seed on a site, if they have a signing identity there. */
  async signingKeyFor(site: string, userId: string): Promise<Uint8Array | undefined> {
    const ids = (this.identityCache ??= this.store.identities());
    if (!(await ids).some((i) => i.site === site && i.userId === userId)) return undefined;
    // Unwrapped once, like derived keys: every send would otherwise read IndexedDB and run AES-GCM.
    const cacheKey = `${site}\u0000${userId}`;
    let seed = this.signingKeys.get(cacheKey);
    if (!seed) {
      seed = await this.store.unwrapIdentity(site, userId, await this.currentLockKey());
      if (seed) this.signingKeys.set(cacheKey, seed);
    }
    return seed;
  }

  async identities(): Promise<IdentityInfo[]> {
    return (this.identityCache ??= this.store.identities());
  }

  /** The directory of public signing keys, by site then user id. */
  async directory(): Promise<Map<string, Map<string, Uint8Array>>> {
    this.directoryCache ??= this.store.directory().then((entries) => {
      const bySite = new Map<string, Map<string, Uint8Array>>();
      for (const e of entries) {
        if (!bySite.has(e.site)) bySite.set(e.site, new Map());
        bySite.get(e.site)!.set(e.userId, hexToBytes(e.publicKey));
      }
      return bySite;
    });
    return this.directoryCache;
  }

  private identityCache?: Promise<IdentityInfo[]>;
  private directoryCache?: Promise<Map<string, Map<string, Uint8Array>>>;

  private async mutate(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } finally {
      this.invalidate();
    }
  }
}
