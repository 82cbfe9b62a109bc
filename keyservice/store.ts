/**
 * The key service's state: groups and their scopes, group keys (wrapped by the HSM's KEK, never in
 * the clear) and the groups each subject had at its last release (to see joiners, movers and
 * leavers). One implementation over a tiny SQL layer, so SQLite (one instance) and PostgreSQL
 * (several instances behind a load balancer) run the same statements.
 */
import type { KeyScope } from '../lib/keys/model';

export type GroupKeyStatus = 'active' | 'retired' | 'revoked';

export interface GroupKeyRow {
  id: string;
  group: string;
  status: GroupKeyStatus;
  label: string;
  createdAt: number;
  wrapped: Uint8Array; // IV || AES-GCM ciphertext made by the HSM
}

/** Statements use `?` placeholders; the PostgreSQL layer numbers them. */
export interface Sql {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<number>; // rows changed
}

export interface Db extends Sql {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction; on PostgreSQL it also takes `lock` (an advisory lock key). */
  tx<T>(fn: (sql: Sql) => Promise<T>, lock?: string): Promise<T>;
  close(): Promise<void>;
}

export class ConflictError extends Error {}

interface KeyDbRow {
  id: string;
  grp: string;
  status: GroupKeyStatus;
  label: string;
  created_at: number | string;
  wrapped: Uint8Array;
}

const toRow = (r: KeyDbRow): GroupKeyRow => ({
  id: r.id,
  group: r.grp,
  status: r.status,
  label: r.label,
  createdAt: Number(r.created_at),
  wrapped: new Uint8Array(r.wrapped),
});

export class Store {
  constructor(readonly db: Db) {}

  async migrate(): Promise<void> {
    const blob = this.db.dialect === 'postgres' ? 'BYTEA' : 'BLOB';
    await this.db.tx(async (sql) => {
      await sql.run(`CREATE TABLE IF NOT EXISTS ks_groups (
        name TEXT PRIMARY KEY, scope TEXT NOT NULL, updated_at BIGINT NOT NULL)`);
      await sql.run(`CREATE TABLE IF NOT EXISTS ks_keys (
        id TEXT PRIMARY KEY, grp TEXT NOT NULL, status TEXT NOT NULL, label TEXT NOT NULL,
        created_at BIGINT NOT NULL, wrapped ${blob} NOT NULL)`);
      // At most one active key per group, whichever instance rotates.
      await sql.run(`CREATE UNIQUE INDEX IF NOT EXISTS ks_keys_one_active ON ks_keys (grp) WHERE status = 'active'`);
      await sql.run(`CREATE TABLE IF NOT EXISTS ks_subjects (
        subject TEXT PRIMARY KEY, groups TEXT NOT NULL, seen_at BIGINT NOT NULL)`);
      // The newest ID token (its iat) each user presented: an older one is refused from then on.
      await sql.run(`CREATE TABLE IF NOT EXISTS ks_token_order (
        subject TEXT PRIMARY KEY, newest_iat BIGINT NOT NULL)`);
      // The iat of the token that last changed each user's groups: one change per second at most.
      await sql.run(`CREATE TABLE IF NOT EXISTS ks_group_changes (
        subject TEXT PRIMARY KEY, changed_iat BIGINT NOT NULL)`);
      // Which device each sign-in (auth_time or sid) was made for.
      await sql.run(`CREATE TABLE IF NOT EXISTS ks_devices (
        subject TEXT NOT NULL, sign_in TEXT NOT NULL, device TEXT NOT NULL, bound_at BIGINT NOT NULL,
        PRIMARY KEY (subject, sign_in))`);
    }, 'migrate');
  }

  async setScope(group: string, scope: KeyScope, now: number): Promise<void> {
    await this.db.run(
      `INSERT INTO ks_groups (name, scope, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at`,
      [group, JSON.stringify(scope), now],
    );
  }

  async scopes(groups?: string[]): Promise<Map<string, KeyScope>> {
    const rows = await this.db.all<{ name: string; scope: string }>(`SELECT name, scope FROM ks_groups`);
    const wanted = groups && new Set(groups);
    return new Map(
      rows.filter((r) => !wanted || wanted.has(r.name)).map((r) => [r.name, JSON.parse(r.scope) as KeyScope]),
    );
  }

  async keysOfGroups(groups: string[]): Promise<GroupKeyRow[]> {
    if (groups.length === 0) return [];
    const rows = await this.db.all<KeyDbRow>(
      `SELECT * FROM ks_keys WHERE grp IN (${groups.map(() => '?').join(',')}) ORDER BY created_at, id`,
      groups,
    );
    return rows.map(toRow);
  }

  async allKeys(): Promise<GroupKeyRow[]> {
    return (await this.db.all<KeyDbRow>(`SELECT * FROM ks_keys ORDER BY grp, created_at, id`)).map(toRow);
  }

  async key(id: string): Promise<GroupKeyRow | undefined> {
    const [r] = await this.db.all<KeyDbRow>(`SELECT * FROM ks_keys WHERE id = ?`, [id]);
    return r && toRow(r);
  }

  /**
   * Makes `next` the group's active key and retires the previous one, atomically: two instances
   * rotating at once serialise on the group's lock, and the partial unique index backs it up.
   */
  async rotate(next: GroupKeyRow): Promise<string[]> {
    return this.db.tx(async (sql) => {
      const old = await sql.all<{ id: string }>(`SELECT id FROM ks_keys WHERE grp = ? AND status = 'active'`, [
        next.group,
      ]);
      await sql.run(`UPDATE ks_keys SET status = 'retired' WHERE grp = ? AND status = 'active'`, [next.group]);
      await insert(sql, next);
      return old.map((r) => r.id);
    }, `group:${next.group}`);
  }

  async setStatus(id: string, status: GroupKeyStatus): Promise<boolean> {
    return (await this.db.run(`UPDATE ks_keys SET status = ? WHERE id = ?`, [status, id])) > 0;
  }

  /** Records the subject's groups now and returns what they were before (undefined: first time). */
  /**
   * Records the caller's groups and returns the ones recorded before, unless the caller's token
   * (`issuedAt`, seconds) is older than one this user already presented: then nothing changes and
   * 'stale' is returned, so an old token can neither fetch keys nor flip the recorded groups back.
   */
  async swapSubjectGroups(
    subject: string,
    groups: string[],
    issuedAt: number,
    now: number,
  ): Promise<string[] | undefined | 'stale'> {
    return this.db.tx(async (sql) => {
      const [order] = await sql.all<{ newest_iat: number | string }>(
        `SELECT newest_iat FROM ks_token_order WHERE subject = ?`,
        [subject],
      );
      if (order && issuedAt < Number(order.newest_iat)) return 'stale';
      const [prev] = await sql.all<{ groups: string }>(`SELECT groups FROM ks_subjects WHERE subject = ?`, [subject]);
      const sorted = JSON.stringify([...groups].sort());
      if (prev && prev.groups !== sorted) {
        // Tokens of one second cannot be ordered: the first change of groups in a second counts
        // (a removal and the refresh right after it), any further one in that second is refused,
        // so two tokens presented in turn cannot count as removal after removal, and rotate each time.
        const [changed] = await sql.all<{ changed_iat: number | string }>(
          `SELECT changed_iat FROM ks_group_changes WHERE subject = ?`,
          [subject],
        );
        if (order && issuedAt === Number(order.newest_iat) && changed && Number(changed.changed_iat) === issuedAt)
          return 'stale';
        await sql.run(
          `INSERT INTO ks_group_changes (subject, changed_iat) VALUES (?, ?)
           ON CONFLICT (subject) DO UPDATE SET changed_iat = excluded.changed_iat`,
          [subject, issuedAt],
        );
      }
      await sql.run(
        `INSERT INTO ks_token_order (subject, newest_iat) VALUES (?, ?)
         ON CONFLICT (subject) DO UPDATE SET newest_iat = excluded.newest_iat`,
        [subject, issuedAt],
      );
      await sql.run(
        `INSERT INTO ks_subjects (subject, groups, seen_at) VALUES (?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET groups = excluded.groups, seen_at = excluded.seen_at`,
        [subject, sorted, now],
      );
      return prev ? (JSON.parse(prev.groups) as string[]) : undefined;
    }, `subject:${subject}`);
  }

  /** Whether a token issued at `issuedAt` (seconds) is older than one this user already presented. */
  async isStale(subject: string, issuedAt: number): Promise<boolean> {
    const [order] = await this.db.all<{ newest_iat: number | string }>(
      `SELECT newest_iat FROM ks_token_order WHERE subject = ?`,
      [subject],
    );
    return !!order && issuedAt < Number(order.newest_iat);
  }

  /**
   * Binds a sign-in (each of its names) to a device. Bindings older than 90 days (beyond any
   * refresh token) go, the user's own and anyone's, so the table does not grow with leavers.
   */
  async bindDevice(subject: string, signIns: string[], device: string, now: number): Promise<void> {
    await this.db.tx(async (sql) => {
      await sql.run(`DELETE FROM ks_devices WHERE bound_at < ?`, [now - 90 * 86_400_000]);
      for (const signIn of signIns)
        await sql.run(
          `INSERT INTO ks_devices (subject, sign_in, device, bound_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (subject, sign_in) DO UPDATE SET device = excluded.device, bound_at = excluded.bound_at`,
          [subject, signIn, device, now],
        );
    }, `subject:${subject}`);
  }

  /** The devices the given names of a sign-in are bound to. */
  async boundDevices(subject: string, signIns: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const signIn of signIns) {
      const [row] = await this.db.all<{ device: string }>(
        `SELECT device FROM ks_devices WHERE subject = ? AND sign_in = ?`,
        [subject, signIn],
      );
      if (row) out.push(row.device);
    }
    return out;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

async function insert(sql: Sql, k: GroupKeyRow): Promise<void> {
  try {
    await sql.run(`INSERT INTO ks_keys (id, grp, status, label, created_at, wrapped) VALUES (?, ?, ?, ?, ?, ?)`, [
      k.id,
      k.group,
      k.status,
      k.label,
      k.createdAt,
      Buffer.from(k.wrapped),
    ]);
  } catch (e) {
    if (/unique|duplicate/i.test(String((e as Error).message))) throw new ConflictError((e as Error).message);
    throw e;
  }
}
