/**
 * The two SQL back ends behind keyservice/store.ts: SQLite (better-sqlite3, the embedded default,
 * one instance) and PostgreSQL (`pg`, several instances). `VEIL_KS_DATABASE` picks one:
 * `sqlite:/path/to/file.db` or `postgres://user@host:port/db`.
 */
import { createHash } from 'node:crypto';
import type { Db, Sql } from './store';

export async function openDb(url: string): Promise<Db> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  throw new Error(`unsupported database "${url}": use sqlite:FILE or postgres://…`);
}

async function openSqlite(file: string): Promise<Db> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const sql: Sql = {
    all: async <T>(q: string, p: unknown[] = []) => db.prepare(q).all(...p) as T[],
    run: async (q, p = []) => db.prepare(q).run(...p).changes,
  };
  // One connection: transactions take turns so statements of two never interleave.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    dialect: 'sqlite',
    ...sql,
    tx<T>(fn: (s: Sql) => Promise<T>): Promise<T> {
      const result = queue.then(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const r = await fn(sql);
          db.exec('COMMIT');
          return r;
        } catch (e) {
          db.exec('ROLLBACK');
          throw e;
        }
      });
      queue = result.catch(() => undefined);
      return result;
    },
    close: async () => {
      await queue;
      db.close();
    },
  };
}

/** `?` placeholders to PostgreSQL's `$1, $2, …` (no statement here has a literal `?`). */
const numbered = (q: string) => {
  let n = 0;
  return q.replace(/\?/g, () => `$${++n}`);
};

/** A 64-bit advisory lock id from a name. */
const lockId = (name: string) => createHash('sha256').update(`veil-ks/${name}`).digest().readBigInt64BE(0).toString();

async function openPostgres(url: string): Promise<Db> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const over = (c: {
    query: (q: string, p?: unknown[]) => Promise<{ rows: unknown[]; rowCount: number | null }>;
  }): Sql => ({
    all: async <T>(q: string, p: unknown[] = []) => (await c.query(numbered(q), p)).rows as T[],
    run: async (q, p = []) => (await c.query(numbered(q), p)).rowCount ?? 0,
  });
  return {
    dialect: 'postgres',
    ...over(pool),
    async tx<T>(fn: (s: Sql) => Promise<T>, lock?: string): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if (lock) await client.query('SELECT pg_advisory_xact_lock($1)', [lockId(lock)]);
        const r = await fn(over(client));
        await client.query('COMMIT');
        return r;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
