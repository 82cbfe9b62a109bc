/**
 * The key service's admin CLI (`npm run admin -- keyservice …`) on the embedded default (SQLite +
 * a fresh SoftHSM2 token in a temp VEIL_KS_HOME): map, create, rotate, revoke, list and export, each
 * audited; the database holds only HSM-wrapped keys; a changed ciphertext does not unwrap; the
 * export is a key bundle only the passphrase opens.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { runAdmin } from '../../scripts/admin-cli';
import { openBundle } from '../../lib/crypto/bundle';
import { openService } from '../../keyservice/app';
import { configFromEnv } from '../../keyservice/config';
import { embeddedDefaults } from '../../keyservice/embedded';

const home = mkdtempSync(join(tmpdir(), 'veil-ks-admin-'));
const env = { VEIL_KS_HOME: home, VEIL_ADMIN_ACTOR: 'admin-ann', VEIL_ADMIN_PASSPHRASE: 'archive passphrase' };
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function admin(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(['keyservice', ...argv], { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const audit = () =>
  readFileSync(join(home, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('npm run admin -- keyservice', () => {
  it('maps, creates, rotates, revokes and exports, each audited, with keys at rest only HSM-wrapped', async () => {
    expect((await admin('create-group-key', '--group', 'sales', '--label', 'Sales')).code).toBe(1); // not mapped yet
    expect((await admin('map', '--group', 'sales', '--site', '*', '--conversations', 'sales*,deals')).code).toBe(0);
    const created = await admin('create-group-key', '--group', 'sales', '--label', 'Sales');
    expect(created.code).toBe(0);
    const first = /created ([0-9a-f]{8})/.exec(created.out)![1]!;
    expect((await admin('create-group-key', '--group', 'sales', '--label', 'Again')).err).toMatch(/rotate it instead/);
    const rotated = await admin('rotate', '--group', 'sales');
    const second = /rotated sales: ([0-9a-f]{8})/.exec(rotated.out)![1]!;
    const list = (await admin('list')).out;
    expect(list).toMatch(new RegExp(`${first}  retired`));
    expect(list).toMatch(new RegExp(`${second}  active`));
    expect((await admin('revoke', '--id', first)).code).toBe(0);
    expect((await admin('revoke', '--id', 'ffffffff')).code).toBe(1);

    const out = join(home, 'archive.json');
    expect((await admin('export', '--out', out)).code).toBe(0);
    const bundle = await openBundle(readFileSync(out, 'utf8'), env.VEIL_ADMIN_PASSPHRASE);
    expect(bundle.keys.map((k) => k.id).sort()).toEqual([first, second].sort());
    expect(bundle.keys.every((k) => k.status !== 'active')).toBe(true);

    expect(audit().map((a) => [a.event, a.subject])).toEqual([
      ['map', 'admin-ann'],
      ['create', 'admin-ann'],
      ['rotation', 'admin-ann'],
      ['revoke', 'admin-ann'],
      ['export', 'admin-ann'],
    ]);

    // At rest: 12-byte IV + 32-byte ciphertext + 16-byte tag, none of it the secret.
    const db = new Database(join(home, 'keyservice.db'), { readonly: true });
    const rows = db.prepare('SELECT id, wrapped FROM ks_keys').all() as { id: string; wrapped: Buffer }[];
    db.close();
    for (const r of rows) {
      const secret = Buffer.from(bundle.keys.find((k) => k.id === r.id)!.secret);
      expect(r.wrapped.length).toBe(60);
      expect(r.wrapped.includes(secret.subarray(0, 8))).toBe(false);
    }
  }, 60_000);

  it('keeps the KEK non-extractable in the HSM, and a changed wrapped key or a swapped id does not unwrap', async () => {
    const inst = await openService(configFromEnv(env, await embeddedDefaults(env)));
    try {
      const hsm = inst.service.hsm;
      expect(hsm.kekAttributes()).toEqual({ sensitive: true, extractable: false });
      const [k] = await inst.service.store.allKeys();
      const aad = (id: string) => new TextEncoder().encode(`veil/group-key/v1\n${id}\n${k!.group}`);
      expect(hsm.unwrap(k!.wrapped, aad(k!.id))).toHaveLength(32);
      const changed = k!.wrapped.slice();
      changed[20]! ^= 1;
      expect(() => hsm.unwrap(changed, aad(k!.id))).toThrow(/refused/);
      expect(() => hsm.unwrap(k!.wrapped, aad('00000000'))).toThrow(/refused/);
    } finally {
      await inst.close();
    }
  });
});
