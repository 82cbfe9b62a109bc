/**
 * What the key service does, without HTTP: release a caller's group keys wrapped to their device,
 * and the admin operations (create, rotate, revoke, map, export). Every outcome is audited. The
 * service holds no state of its own (the store and the HSM do), so any number of instances can
 * serve the same database.
 */
import { createHash, randomBytes } from 'node:crypto';
import { deviceNonce } from '../lib/crypto/device-nonce';
import { validateScope, type KeyScope } from '../lib/keys/model';
import type { Audit } from './audit';
import type { Caller } from './auth';
import type { Hsm } from './hsm';
import { devicePublicKey, KEMS, releaseAad, sealKey, stripPadding, type Kem } from './hpke';
import { ConflictError, type GroupKeyRow, type Store } from './store';

export interface ServiceOptions {
  refreshMinutes: number;
  offlineGraceHours: number;
  defaultKem: Kem;
  /** Rotate a group's key as soon as a release shows a member has left it. */
  rotateOnRemoval: boolean;
  /**
   * Release only to the device key the sign-in was made for (its nonce commits to it); `false`
   * accepts any device key a valid token names (for an IdP that cannot carry auth_time or sid).
   */
  deviceBinding: boolean;
  now?: () => number;
}

export interface ReleasedKey {
  id: string;
  group: string;
  status: 'active' | 'retired';
  label: string;
  scope: KeyScope;
  createdAt: number;
  wrapped: { suite: string; enc: string; ct: string };
}

export interface Release {
  subject: string;
  groups: string[];
  releasedAt: number;
  refreshAfter: number;
  offlineGraceHours: number;
  keys: ReleasedKey[];
}

/** A refusal the HTTP layer maps to a status and the audit log records. */
export class Refusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const keyAad = (id: string, group: string) => new TextEncoder().encode(`veil/group-key/v1\n${id}\n${group}`);
/**
 * A device public key as it may arrive: base64url, padding tolerated, no longer than an X-Wing key.
 * Checked before anything else reads the value (one anchored pass, no backtracking blow-up).
 */
const DEVICE_KEY_FORMAT = /^[A-Za-z0-9_-]{1,2048}={0,2}$/;
export const isDeviceKeyText = (v: unknown): v is string => typeof v === 'string' && DEVICE_KEY_FORMAT.test(v);
/** The audit log's short device id; undefined for anything that is not a device key. */
export const deviceId = (publicKey: unknown) =>
  isDeviceKeyText(publicKey) ? deviceHash(publicKey).slice(0, 16) : undefined;
/** The whole SHA-256 of a device key: what a sign-in is bound to (the 16-character id is for the audit log). */
const deviceHash = (publicKey: string) => createHash('sha256').update(stripPadding(publicKey)).digest('hex');

export class KeyService {
  private readonly now: () => number;

  constructor(
    readonly store: Store,
    readonly hsm: Hsm,
    private readonly audit: Audit,
    readonly options: ServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The caller's keys now: active and retired keys of every mapped group they belong to. */
  async release(caller: Caller, device: { kem?: unknown; publicKey?: unknown; salt?: unknown }): Promise<Release> {
    const kem = device.kem as Kem;
    const dev = deviceId(device.publicKey);
    const refuse = (r: Refusal): never => {
      this.audit.write({ event: 'refusal', subject: caller.subject, device: dev, reason: `${r.code}: ${r.message}` });
      throw r;
    };
    // Strings only: a key the binding checks as one value and HPKE reads as another (an array's
    // String()) would slip past the device binding.
    if (typeof device.kem !== 'string' || !KEMS.includes(kem))
      refuse(new Refusal(400, 'bad_request', `device.kem must be one of ${KEMS.join(', ')}`));
    if (!isDeviceKeyText(device.publicKey))
      refuse(new Refusal(400, 'bad_request', 'device.publicKey must be a base64url string'));
    if (device.salt !== undefined && (typeof device.salt !== 'string' || device.salt.length > 100))
      refuse(new Refusal(400, 'bad_request', 'device.salt must be a short string'));
    const publicKey = device.publicKey as string;
    let recipient: CryptoKey | undefined;
    try {
      recipient = await devicePublicKey(kem, publicKey);
    } catch (e) {
      refuse(new Refusal(400, 'bad_request', `device.publicKey: ${(e as Error).message}`));
    }
    // An old token is refused before it can bind anything or change recorded groups.
    if (await this.store.isStale(caller.subject, caller.issuedAt))
      refuse(new Refusal(401, 'stale_token', 'this user has presented a newer ID token: get a fresh one'));
    if (this.options.deviceBinding)
      await this.checkDevice(caller, publicKey, device.salt as string | undefined, refuse);
    await this.noteMembership(caller, refuse);
    const scopes = await this.store.scopes(caller.groups);
    const groups = caller.groups.filter((g) => scopes.has(g)).sort();
    const rows = (await this.store.keysOfGroups(groups)).filter((k) => k.status !== 'revoked');
    if (rows.length === 0) refuse(new Refusal(403, 'no_groups', "none of the caller's groups has keys"));
    const keys: ReleasedKey[] = [];
    for (const k of rows) {
      const secret = this.hsm.unwrap(k.wrapped, keyAad(k.id, k.group));
      try {
        keys.push({
          id: k.id,
          group: k.group,
          status: k.status as 'active' | 'retired',
          label: k.label,
          scope: scopes.get(k.group)!,
          createdAt: k.createdAt,
          wrapped: await sealKey(kem, recipient!, secret, releaseAad(caller.subject, k.id, k.group)),
        });
      } finally {
        secret.fill(0);
      }
    }
    const releasedAt = this.now();
    this.audit.write({
      event: 'release',
      subject: caller.subject,
      device: dev,
      kem,
      groups,
      keyIds: keys.map((k) => k.id),
    });
    return {
      subject: caller.subject,
      groups,
      releasedAt,
      refreshAfter: releasedAt + this.options.refreshMinutes * 60_000,
      offlineGraceHours: this.options.offlineGraceHours,
      keys,
    };
  }

  /**
   * The token's sign-in must have been made for this device: a token whose nonce commits to this
   * device key (with the salt the browser sends) binds the sign-in to it; any later token of that
   * sign-in (refreshed: no nonce) must come with the same device key. A token replayed by whoever
   * saw it (a TLS-terminating hop, a header log) with a device key of their own gets nothing.
   */
  private async checkDevice(
    caller: Caller,
    publicKey: string,
    salt: string | undefined,
    refuse: (r: Refusal) => never,
  ): Promise<void> {
    if (!caller.signIns.length)
      refuse(
        new Refusal(400, 'no_sign_in_claim', 'the ID token has neither auth_time nor sid: device binding needs one'),
      );
    const device = deviceHash(publicKey);
    const proven = !!caller.nonce && !!salt && caller.nonce === deviceNonce(publicKey, salt);
    if (proven) return this.store.bindDevice(caller.subject, caller.signIns, device, this.now());
    const bound = await this.store.boundDevices(caller.subject, caller.signIns);
    // Nothing bound is a refusal too: only a sign-in made for a device opens releases.
    if (!bound.includes(device))
      refuse(
        new Refusal(
          401,
          'device_unbound',
          bound.length
            ? 'this sign-in was made for another device'
            : 'this sign-in was not made for this device: sign in again',
        ),
      );
  }

  /** Joiners, movers and leavers show up as a change of groups between two releases. */
  private async noteMembership(caller: Caller, refuse: (r: Refusal) => never): Promise<void> {
    const before = await this.store.swapSubjectGroups(caller.subject, caller.groups, caller.issuedAt, this.now());
    if (before === 'stale')
      refuse(new Refusal(401, 'stale_token', 'this user has presented a newer ID token: get a fresh one'));
    if (!before) return;
    const added = caller.groups.filter((g) => !before.includes(g)).sort();
    const removed = before.filter((g) => !caller.groups.includes(g)).sort();
    if (!added.length && !removed.length) return;
    this.audit.write({ event: 'membership', subject: caller.subject, added, removed });
    if (!this.options.rotateOnRemoval) return;
    // Only groups that hold keys here (IdPs send many unmapped ones), each on its own: one that
    // fails is audited for the admin and does not keep the others from rotating.
    const mapped = await this.store.scopes(removed);
    for (const g of removed.filter((r) => mapped.has(r))) {
      try {
        await this.rotate(g, 'keyservice', `automatic: ${caller.subject} left ${g}`);
      } catch (e) {
        this.audit.write({
          event: 'rotation-failed',
          subject: 'keyservice',
          group: g,
          reason: `automatic rotation after ${caller.subject} left ${g}: ${(e as Error).message}; rotate it by hand`,
        });
      }
    }
  }

  // ---- admin operations (scripts: npm run admin -- keyservice …) ----

  async map(group: string, scope: unknown, actor: string): Promise<void> {
    const s = validateScope(scope);
    await this.store.setScope(group, s, this.now());
    this.audit.write({ event: 'map', subject: actor, group, scope: s });
  }

  /** A group's first key (or another active one after a revoke). */
  async createGroupKey(group: string, label: string, actor: string): Promise<GroupKeyRow> {
    if (!(await this.store.scopes([group])).has(group))
      throw new Refusal(404, 'unknown_group', `group "${group}" has no scope yet: map it first`);
    if ((await this.store.keysOfGroups([group])).some((k) => k.status === 'active'))
      throw new Refusal(400, 'has_key', `group "${group}" already has an active key: rotate it instead`);
    const row = await this.newKey(group, label, (r) => this.store.rotate(r));
    this.audit.write({ event: 'create', subject: actor, group, keyIds: [row.id] });
    return row;
  }

  /** New active key for the group; the previous one is retired (still released, for history). */
  async rotate(group: string, actor: string, reason = 'rotation', label?: string): Promise<GroupKeyRow> {
    const current = (await this.store.keysOfGroups([group])).filter((k) => k.status === 'active');
    if (!current.length && !(await this.store.scopes([group])).has(group))
      throw new Refusal(404, 'unknown_group', `group "${group}" has no keys to rotate`);
    let retired: string[] = [];
    const row = await this.newKey(group, label ?? current[0]?.label ?? group, async (r) => {
      retired = await this.store.rotate(r);
    });
    this.audit.write({ event: 'rotation', subject: actor, group, keyIds: [row.id], retired, reason });
    return row;
  }

  /** A revoked key is never released again: browsers delete it at their next refresh. */
  async revoke(id: string, actor: string): Promise<void> {
    const k = await this.store.key(id);
    if (!k) throw new Refusal(404, 'unknown_key', `no key ${id}`);
    await this.store.setStatus(id, 'revoked');
    this.audit.write({ event: 'revoke', subject: actor, group: k.group, keyIds: [id] });
  }

  /** Keys in the clear for the compliance archive: the caller seals them at once (a key bundle). */
  async exportKeys(
    groups: string[] | undefined,
    actor: string,
  ): Promise<(GroupKeyRow & { secret: Uint8Array; scope: KeyScope })[]> {
    const scopes = await this.store.scopes();
    const rows = groups ? await this.store.keysOfGroups(groups) : await this.store.allKeys();
    const out = rows.map((k) => ({
      ...k,
      scope: scopes.get(k.group) ?? { site: '*', conversations: ['*'] },
      secret: this.hsm.unwrap(k.wrapped, keyAad(k.id, k.group)),
    }));
    this.audit.write({ event: 'export', subject: actor, keyIds: out.map((k) => k.id), groups: groups ?? 'all' });
    return out;
  }

  private async newKey(group: string, label: string, save: (r: GroupKeyRow) => Promise<unknown>): Promise<GroupKeyRow> {
    for (let attempt = 0; ; attempt++) {
      const id = randomBytes(4).toString('hex');
      const secret = new Uint8Array(randomBytes(32));
      const row: GroupKeyRow = {
        id,
        group,
        status: 'active',
        label,
        createdAt: this.now(),
        wrapped: this.hsm.wrap(secret, keyAad(id, group)),
      };
      secret.fill(0);
      try {
        await save(row);
        return row;
      } catch (e) {
        // A 32-bit id may collide with an existing one: draw again.
        if (!(e instanceof ConflictError) || attempt > 5) throw e;
      }
    }
  }
}
