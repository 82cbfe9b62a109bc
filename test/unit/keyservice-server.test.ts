/**
 * The key service end to end over HTTP, against the real local IdP (oidc-provider), a fresh
 * SoftHSM2 token and each database: SQLite with one instance, PostgreSQL with two instances sharing
 * it. Attacks first: forged, foreign, expired or misaddressed tokens get nothing; a caller gets only
 * their own groups' keys; a leaver's next release lacks the group's keys; rotation retires the old
 * key; every release opens with the device's private key (X-Wing and X25519) and only with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { base64urlnopad } from '@scure/base';
import { startInstance, type Instance } from '../../keyservice/app';
import { configFromEnv } from '../../keyservice/config';
import { initSoftHsmToken } from '../../keyservice/hsm';
import { RELEASE_INFO, suiteFor, type Kem } from '../../keyservice/hpke';
import { deviceId, type Release } from '../../keyservice/service';
import { startIdp, EXTENSION_REDIRECTS, type Idp } from '../../keyservice/idp/idp';
import { headlessLogin } from '../../keyservice/idp/login';
import { deviceNonce } from '../../lib/crypto/device-nonce';
import { startPostgres } from '../../keyservice/testing/postgres';
import { startStack } from '../../keyservice/testing/stack';

// X-Wing in pure JS, two databases and a shared 2-core machine: allow slow runs.
vi.setConfig({ testTimeout: 30_000 });

const dir = mkdtempSync(join(tmpdir(), 'veil-ks-test-'));
const PIN = `pin-${process.pid}`;
let idp: Idp;

beforeAll(async () => {
  await initSoftHsmToken(join(dir, 'hsm'), 'veil-test', PIN);
  idp = await startIdp();
}, 30_000);
afterAll(async () => {
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

const utf8 = (s: string) => new TextEncoder().encode(s);
const ab = (u: Uint8Array) => u.slice().buffer as ArrayBuffer;

async function device(kem: Kem) {
  const suite = suiteFor(kem);
  const pair = await suite.kem.generateKeyPair();
  const pub = new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey));
  return { kem, pair, publicKey: base64urlnopad.encode(pub) };
}
type Device = Awaited<ReturnType<typeof device>>;

/** What the extension does with a release: open every key with the device's private key. */
async function openAll(dev: Device, r: Release): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const k of r.keys) {
    const ctx = await suiteFor(dev.kem).createRecipientContext({
      recipientKey: dev.pair,
      enc: ab(base64urlnopad.decode(k.wrapped.enc)),
      info: ab(utf8(RELEASE_INFO)),
    });
    out.set(
      k.id,
      new Uint8Array(
        await ctx.open(ab(base64urlnopad.decode(k.wrapped.ct)), ab(utf8(`${r.subject}\n${k.id}\n${k.group}`))),
      ),
    );
  }
  return out;
}

const backends = [
  { name: 'sqlite', instances: 1 },
  { name: 'postgres', instances: 2 },
] as const;

describe.each(backends)('key service on $name', ({ name, instances }) => {
  const audit: Record<string, unknown>[] = [];
  let nodes: (Instance & { url: string })[] = [];
  let stopPg: (() => void) | undefined;
  let x: Device;
  let x25519: Device;

  beforeAll(async () => {
    let database = `sqlite:${join(dir, `${name}.db`)}`;
    if (name === 'postgres') {
      const pg = await startPostgres();
      stopPg = pg.stop;
      database = pg.url;
    }
    const env = {
      VEIL_KS_ISSUER: idp.issuer,
      VEIL_KS_AUDIENCE: idp.clientId,
      VEIL_KS_DATABASE: database,
      VEIL_KS_TOKEN_LABEL: 'veil-test',
      VEIL_KS_PIN: PIN,
      VEIL_KS_KEK_LABEL: `kek-${name}`,
      VEIL_KS_PORT: '0',
      // These cases mint tokens for any device; device binding has its own cases below.
      VEIL_KS_DEVICE_BINDING: 'off',
    };
    for (let i = 0; i < instances; i++)
      nodes.push(
        await startInstance(configFromEnv({ ...env, VEIL_KS_INSTANCE: `${name}-${i}` }), {
          createKek: i === 0,
          sink: (line) => audit.push(JSON.parse(line)),
        }),
      );
    const svc = nodes[0]!.service;
    await svc.map('sales', { site: '*', conversations: ['sales*'] }, 'admin');
    await svc.map('board', { site: '*', conversations: ['board*'] }, 'admin');
    await svc.createGroupKey('sales', 'Sales 2026', 'admin');
    await svc.createGroupKey('board', 'Board 2026', 'admin');
    [x, x25519] = await Promise.all([device('x-wing'), device('x25519')]);
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) await n.close();
    nodes = [];
    stopPg?.();
  });

  /** Round-robin over the instances, as a load balancer would. */
  let turn = 0;
  const release = async (token: string | undefined, dev: { kem: string; publicKey: string }, headers = {}) => {
    const node = nodes[turn++ % nodes.length]!;
    const res = await fetch(`${node.url}/v1/keys/release`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ device: { kem: dev.kem, publicKey: dev.publicKey }, known: [] }),
    });
    return { status: res.status, body: (await res.json()) as Release & { error?: string } };
  };
  const token = (sub: string, groups: string[], extra: Record<string, unknown> = {}, issuedAt?: number) =>
    idp.sign({ iss: idp.issuer, aud: idp.clientId, sub, groups, ...extra }, { issuedAt });

  it('serves its config and health', async () => {
    const cfg = await (await fetch(`${nodes[0]!.url}/v1/config`)).json();
    expect(cfg).toEqual({ issuer: idp.issuer, kems: ['x-wing', 'x25519'], defaultKem: 'x-wing', refreshMinutes: 15 });
    expect(await (await fetch(`${nodes[0]!.url}/healthz`)).text()).toBe('ok');
  });

  it('refuses forged, foreign, expired and misaddressed tokens with 401 and an audit line', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ iss: idp.issuer, aud: idp.clientId, sub: 'alice', groups: ['board'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const good = await token('bob', ['sales']);
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64urlnopad.decode(p!)));
    const tampered = `${h}.${base64urlnopad.encode(utf8(JSON.stringify({ ...claims, groups: ['sales', 'board'] })))}.${s}`;
    const unsigned = `${base64urlnopad.encode(utf8('{"alg":"none"}'))}.${p}.`;
    const bad = {
      forged,
      tampered,
      unsigned,
      wrongIssuer: await token('alice', ['board'], { iss: 'http://127.0.0.1:1' }),
      wrongAudience: await token('alice', ['board'], { aud: 'another-app' }),
      expired: await idp.sign(
        { iss: idp.issuer, aud: idp.clientId, sub: 'alice', groups: ['board'] },
        { expiresIn: Math.floor(Date.now() / 1000) - 120 },
      ),
      garbage: 'not-a-jwt',
      none: undefined,
    };
    for (const [what, t] of Object.entries(bad)) {
      const before = audit.length;
      const r = await release(t, x);
      expect(r.status, what).toBe(401);
      expect(r.body.error, what).toBe('invalid_token');
      expect(r.body.keys, what).toBeUndefined();
      expect(
        audit.slice(before).map((a) => a.event),
        what,
      ).toEqual(['refusal']);
    }
  });

  it("signs in through the real IdP login form and releases only the caller's groups, openable by both KEMs", async () => {
    const login = (username: string) =>
      headlessLogin({
        issuer: idp.issuer,
        clientId: idp.clientId,
        redirectUri: EXTENSION_REDIRECTS[0]!,
        username,
        password: `${username}-password`,
      });
    const [alice, bob] = [await login('alice'), await login('bob')];
    const exported = new Map((await nodes[0]!.service.exportKeys(undefined, 'test')).map((k) => [k.id, k]));

    const a = await release(alice.idToken, x);
    expect(a.status).toBe(200);
    expect(a.body.subject).toBe('alice');
    expect(a.body.groups).toEqual(['board', 'sales']);
    expect(a.body.keys.map((k) => k.group).sort()).toEqual(['board', 'sales']);
    expect(a.body.keys.every((k) => k.wrapped.suite === 'x-wing/hkdf-sha256/chacha20poly1305')).toBe(true);
    for (const [id, secret] of await openAll(x, a.body)) expect(secret).toEqual(exported.get(id)!.secret);

    const b = await release(bob.idToken, x25519);
    expect(b.status).toBe(200);
    expect(b.body.keys.map((k) => k.group)).toEqual(['sales']);
    expect(b.body.keys[0]!.scope).toEqual({ site: '*', conversations: ['sales*'] });
    expect(b.body.keys[0]!.wrapped.suite).toBe('x25519/hkdf-sha256/chacha20poly1305');
    for (const [id, secret] of await openAll(x25519, b.body)) expect(secret).toEqual(exported.get(id)!.secret);

    // Another device cannot open what was wrapped to bob's; and the AAD binds subject and key id.
    const other = await device('x25519');
    await expect(openAll(other, b.body)).rejects.toThrow();
    await expect(openAll(x25519, { ...b.body, subject: 'alice' })).rejects.toThrow();
    const line = audit.findLast((e) => e.event === 'release' && e.subject === 'bob')!;
    expect(line.keyIds).toEqual(b.body.keys.map((k) => k.id));
    expect(line.device).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(audit)).not.toContain(base64urlnopad.encode(exported.get(b.body.keys[0]!.id)!.secret));
  }, 30_000);

  it('a leaver gets nothing of the group at the next release; a group the service does not map gives nothing', async () => {
    // A second apart each, as an IdP issues them (two tokens of one second must agree: below).
    const t0 = Math.floor(Date.now() / 1000) - 30;
    const first = await release(await token('carol', ['sales'], {}, t0), x);
    expect(first.body.keys.map((k) => k.group)).toEqual(['sales']);
    const moved = await release(await token('carol', ['board'], {}, t0 + 1), x);
    expect(moved.body.keys.map((k) => k.group)).toEqual(['board']);
    const gone = await release(await token('carol', ['marketing'], {}, t0 + 2), x);
    expect(gone.status).toBe(403);
    expect(gone.body.error).toBe('no_groups');
    const changes = audit.filter((e) => e.event === 'membership' && e.subject === 'carol');
    expect(changes.map((e) => [e.added, e.removed])).toEqual([
      [['board'], ['sales']],
      [['marketing'], ['board']],
    ]);
  });

  it('an old token is refused once a newer one of the same user was seen, and past the age limit', async () => {
    const now = Math.floor(Date.now() / 1000);
    // Two tokens of erin: one from before IT removed her from sales, one from after.
    const before = await token('erin', ['sales'], {}, now - 60);
    const after = await token('erin', [], {}, now - 10);
    expect((await release(before, x)).body.keys.map((k) => k.group)).toEqual(['sales']);
    expect((await release(after, x)).body.error).toBe('no_groups');
    // Her pre-removal token still verifies, but it is older than one she presented since.
    const stale = await release(before, x);
    expect([stale.status, stale.body.error, stale.body.keys]).toEqual([401, 'stale_token', undefined]);
    // Nor did it flip her recorded groups back (no membership change from it).
    const changes = audit.filter((e) => e.event === 'membership' && e.subject === 'erin');
    expect(changes.map((e) => [e.added, e.removed])).toEqual([[[], ['sales']]]);
    // A token older than the age limit (5 minutes) is refused whoever presents it.
    const old = await release(await token('frank', ['sales'], {}, now - 600), x);
    expect([old.status, old.body.error]).toEqual([401, 'stale_token']);
  });

  it('refuses an access token, a token issued to another client, and one without the groups claim', async () => {
    const at = await idp.sign(
      { iss: idp.issuer, aud: idp.clientId, sub: 'gina', groups: ['sales'] },
      { typ: 'at+jwt' },
    );
    expect((await release(at, x)).body.error).toBe('invalid_token');
    const other = await token('gina', ['sales'], { aud: [idp.clientId, 'other-app'], azp: 'other-app' });
    expect((await release(other, x)).body.error).toBe('invalid_token');
    // Several audiences and no azp: which client it was issued to is unknown.
    const shared = await token('gina', ['sales'], { aud: [idp.clientId, 'other-app'] });
    expect((await release(shared, x)).body.error).toBe('invalid_token');
    const mine = await token('gina', ['sales'], { aud: [idp.clientId, 'other-app'], azp: idp.clientId });
    expect((await release(mine, x)).status).toBe(200);
    const noClaim = await idp.sign({ iss: idp.issuer, aud: idp.clientId, sub: 'gina' });
    const r = await release(noClaim, x);
    expect([r.status, r.body.error, r.body.keys]).toEqual([400, 'no_groups_claim', undefined]);
  });

  it('rotation makes a new active key and retires the old one, seen by every instance; a revoked key is never released', async () => {
    const before = (await release(await token('dave', ['sales']), x)).body.keys;
    const old = before.find((k) => k.status === 'active')!;
    const next = await nodes[nodes.length - 1]!.service.rotate('sales', 'admin');
    for (let i = 0; i < nodes.length; i++) {
      const keys = (await release(await token('dave', ['sales']), x)).body.keys;
      expect(keys.find((k) => k.id === next.id)?.status).toBe('active');
      expect(keys.find((k) => k.id === old.id)?.status).toBe('retired');
      expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
    }
    expect(audit.findLast((e) => e.event === 'rotation')).toMatchObject({
      group: 'sales',
      keyIds: [next.id],
      retired: [old.id],
    });
    await nodes[0]!.service.revoke(old.id, 'admin');
    const after = (await release(await token('dave', ['sales']), x)).body.keys;
    expect(after.map((k) => k.id)).toEqual([next.id]);
  });

  it('refuses a malformed device key with 400', async () => {
    const t = await token('alice', ['sales']);
    // Not even hashed for the audit line: a long run of '=' used to cost a quadratic regex pass.
    const padding = '='.repeat(16_300) + 'a';
    expect(deviceId(padding)).toBeUndefined();
    expect(deviceId(x.publicKey)).toMatch(/^[0-9a-f]{16}$/);
    expect((await release(t, { kem: 'x25519', publicKey: padding })).body.error).toBe('bad_request');
    expect((await release(undefined, { kem: 'x25519', publicKey: padding })).body.error).toBe('invalid_token');
    expect(audit.at(-1)!.event).toBe('refusal');
    expect(audit.at(-1)).not.toHaveProperty('device');
    expect((await release(t, { kem: 'x-wing', publicKey: x25519.publicKey })).status).toBe(400);
    expect((await release(t, { kem: 'rsa', publicKey: x.publicKey })).status).toBe(400);
    expect((await release(t, { kem: 'x25519', publicKey: '!!!' })).status).toBe(400);
  });

  if (name === 'postgres')
    it('two instances rotating the same group at once leave exactly one active key', async () => {
      await Promise.all(nodes.map((n) => n.service.rotate('board', 'admin')));
      const keys = await nodes[0]!.service.store.keysOfGroups(['board']);
      expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
      expect(keys.filter((k) => k.status === 'retired')).toHaveLength(2);
    });
});

describe('rotation on removal (VEIL_KS_ROTATE_ON_REMOVAL=true)', () => {
  interface Leaver {
    stack: Awaited<ReturnType<typeof startStack>>;
    events: Record<string, unknown>[];
    /** A release for `groups` with the leaver's token issued at `iat` (seconds). */
    ask(groups: string[], iat: number): Promise<{ status: number; body: Release & { error?: string } }>;
    activeOf(group: string): Promise<string>;
    /** A minute before now: tokens issued from it on are still young. */
    t0: number;
  }

  /** One stack with rotation on removal and the leaver's device, closed after `run`. */
  async function withLeaver(run: (l: Leaver) => Promise<void>, sub = 'mallory'): Promise<void> {
    const events: Record<string, unknown>[] = [];
    const stack = await startStack({
      env: { VEIL_KS_ROTATE_ON_REMOVAL: 'true', VEIL_KS_DEVICE_BINDING: 'off' },
      sink: (l) => events.push(JSON.parse(l)),
    });
    try {
      const dev = await device('x25519');
      const ask: Leaver['ask'] = async (groups, iat) => {
        const t = await stack.idp.sign(
          { iss: stack.idp.issuer, aud: stack.idp.clientId, sub, groups },
          { issuedAt: iat },
        );
        const res = await fetch(`${stack.url}/v1/keys/release`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
          body: JSON.stringify({ device: { kem: dev.kem, publicKey: dev.publicKey }, known: [] }),
        });
        return { status: res.status, body: (await res.json()) as Release & { error?: string } };
      };
      const activeOf = async (group: string) =>
        (await stack.nodes[0]!.service.store.keysOfGroups([group])).find((k) => k.status === 'active')!.id;
      await run({ stack, events, ask, activeOf, t0: Math.floor(Date.now() / 1000) - 60 });
    } finally {
      await stack.close();
    }
  }

  it('a leaver who also left a group the service does not map still loses the mapped one', () =>
    withLeaver(async ({ events, ask, activeOf, t0 }) => {
      // IdPs send many groups the key service has no keys for ("all-staff").
      expect((await ask(['all-staff', 'sales', 'board'], t0)).status).toBe(200);
      const before = await activeOf('sales');
      const left = await ask(['board'], t0 + 1);
      expect(left.status).toBe(200);
      expect(left.body.keys.map((k) => k.group)).toEqual(['board']);
      expect(await activeOf('sales')).not.toBe(before);
      expect(events.filter((e) => e.event === 'rotation').map((e) => e.group)).toEqual(['sales']);
    }));

  it('a rotation that fails is audited for the admin and does not keep the other group from rotating', () =>
    withLeaver(async ({ stack, events, ask, activeOf, t0 }) => {
      expect((await ask(['sales', 'board'], t0)).status).toBe(200);
      const [sales, board] = [await activeOf('sales'), await activeOf('board')];
      // The HSM refuses to wrap the first new key (board comes first): unreachable for a moment.
      const hsm = stack.nodes[0]!.service.hsm;
      const wrap = hsm.wrap.bind(hsm);
      let failures = 1;
      hsm.wrap = (secret, aad) => {
        if (failures-- > 0) throw new Error('HSM unreachable');
        return wrap(secret, aad);
      };
      const left = await ask([], t0 + 1);
      expect(left.status).toBe(403); // no group left: nothing released
      expect(await activeOf('board')).toBe(board);
      expect(await activeOf('sales')).not.toBe(sales);
      expect(events.find((e) => e.event === 'rotation-failed')).toMatchObject({
        group: 'board',
        reason: expect.stringContaining('HSM unreachable'),
      });
    }));

  it('two tokens of one second that disagree on the groups: the first change counts, flipping back does not', () =>
    withLeaver(async ({ events, ask, activeOf, t0 }) => {
      expect((await ask(['sales', 'board'], t0)).status).toBe(200);
      const before = await activeOf('sales');
      // A removal and the refresh right after it can share a second: that change counts, once.
      expect((await ask(['board'], t0)).status).toBe(200);
      const rotated = await activeOf('sales');
      expect(rotated).not.toBe(before);
      // Presenting the two in turn must not rotate each time.
      for (let i = 0; i < 4; i++) {
        expect((await ask(['sales', 'board'], t0)).body.error).toBe('stale_token');
        expect((await ask(['board'], t0)).status).toBe(200);
      }
      expect(await activeOf('sales')).toBe(rotated);
      expect(events.filter((e) => e.event === 'rotation')).toHaveLength(1);
    }));

  it('rotates the group the moment a release shows a member left it; the leaver never gets the new key', () =>
    withLeaver(async ({ events, ask, activeOf, t0 }) => {
      // Each token a second later than the one before, as an IdP issues them.
      const [salesKey] = (await ask(['sales', 'board'], t0)).body.keys.filter((k) => k.group === 'sales');
      const after = (await ask(['board'], t0 + 1)).body;
      expect(after.keys.map((k) => k.group)).toEqual(['board']);
      const rotation = events.find((e) => e.event === 'rotation')!;
      expect(rotation).toMatchObject({
        group: 'sales',
        retired: [salesKey!.id],
        reason: 'automatic: carol left sales',
      });
      expect(await activeOf('sales')).toBe((rotation.keyIds as string[])[0]);
    }, 'carol'));
});

describe.each(backends)(
  'device binding (the default) on $name: a sign-in releases only to its device',
  ({ name, instances }) => {
    it('binds at sign-in by the nonce; a replayed or refreshed token with another device key gets nothing', async () => {
      const events: Record<string, unknown>[] = [];
      const pg = name === 'postgres' ? await startPostgres() : undefined;
      // Requests alternate between the instances (round-robin below), as behind a load balancer.
      const stack = await startStack({ sink: (l) => events.push(JSON.parse(l)), database: pg?.url, instances });
      let turn = 0;
      try {
        const mine = await device('x25519');
        const thief = await device('x25519');
        const salt = 'c2FsdC1vZi1hbGljZQ';
        const ask = async (token: string, dev: Device, withSalt?: string) => {
          const node = stack.nodes[turn++ % stack.nodes.length]!;
          const res = await fetch(`${node.url}/v1/keys/release`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ device: { kem: dev.kem, publicKey: dev.publicKey, salt: withSalt }, known: [] }),
          });
          return { status: res.status, body: (await res.json()) as Release & { error?: string } };
        };
        // alice signs in through the real IdP, her nonce committing to her device key.
        const signedIn = await headlessLogin({
          issuer: stack.idp.issuer,
          clientId: stack.idp.clientId,
          redirectUri: EXTENSION_REDIRECTS[0]!,
          username: 'alice',
          password: 'alice-password',
          nonce: deviceNonce(mine.publicKey, salt),
        });
        // Whoever sees her request replays the token with a device key of their own: nothing.
        const replayed = await ask(signedIn.idToken, thief, salt);
        expect([replayed.status, replayed.body.error, replayed.body.keys]).toEqual([401, 'device_unbound', undefined]);
        // Her own browser, with the salt: keys, wrapped to her device.
        const first = await ask(signedIn.idToken, mine, salt);
        expect(first.status).toBe(200);
        expect(first.body.keys.length).toBeGreaterThan(0);
        // A token of the same sign-in without the nonce (as a refresh gives): her device only.
        const claims = JSON.parse(Buffer.from(signedIn.idToken.split('.')[1]!, 'base64url').toString());
        expect(typeof claims.auth_time).toBe('number');
        const refreshed = await stack.idp.sign({
          iss: stack.idp.issuer,
          aud: stack.idp.clientId,
          sub: 'alice',
          groups: claims.groups,
          auth_time: claims.auth_time,
        });
        expect((await ask(refreshed, mine)).status).toBe(200);
        const stolen = await ask(refreshed, thief);
        expect([stolen.status, stolen.body.error]).toEqual([401, 'device_unbound']);
        // A token of a sign-in never bound to any device (no nonce proof) gets nothing either.
        const unbound = await stack.idp.sign({
          iss: stack.idp.issuer,
          aud: stack.idp.clientId,
          sub: 'alice',
          groups: claims.groups,
          auth_time: claims.auth_time - 100,
        });
        expect((await ask(unbound, mine)).body.error).toBe('device_unbound');
        // A device key sent as something else than a string (an array HPKE would read as the
        // thief's key) is refused outright, bound sign-in or not.
        for (const bad of [[thief.publicKey], { k: thief.publicKey }, 42]) {
          const res = await fetch(`${stack.nodes[0]!.url}/v1/keys/release`, {
            method: 'POST',
            headers: { authorization: `Bearer ${unbound}`, 'content-type': 'application/json' },
            body: JSON.stringify({ device: { kem: 'x25519', publicKey: bad }, known: [] }),
          });
          expect([res.status, ((await res.json()) as { error?: string }).error]).toEqual([400, 'bad_request']);
        }
        // A sign-in bound under auth_time is found under sid too when the IdP's refreshed tokens
        // carry only sid (bound under both names at sign-in).
        const both = await stack.idp.sign({
          iss: stack.idp.issuer,
          aud: stack.idp.clientId,
          sub: 'alice',
          groups: claims.groups,
          auth_time: claims.auth_time + 7,
          sid: 'session-77',
          nonce: deviceNonce(mine.publicKey, salt),
        });
        expect((await ask(both, mine, salt)).status).toBe(200);
        const sidOnly = await stack.idp.sign({
          iss: stack.idp.issuer,
          aud: stack.idp.clientId,
          sub: 'alice',
          groups: claims.groups,
          sid: 'session-77',
        });
        expect((await ask(sidOnly, mine)).status).toBe(200);
        expect((await ask(sidOnly, thief)).body.error).toBe('device_unbound');
        // An old token of a sign-in cannot rebind it, even with its nonce and salt: refused as stale first.
        const old = await stack.idp.sign(
          {
            iss: stack.idp.issuer,
            aud: stack.idp.clientId,
            sub: 'alice',
            groups: claims.groups,
            auth_time: claims.auth_time + 7,
            nonce: deviceNonce(thief.publicKey, salt),
          },
          { issuedAt: Math.floor(Date.now() / 1000) - 120 },
        );
        expect((await ask(old, thief, salt)).body.error).toBe('stale_token');
        expect((await ask(sidOnly, mine)).status).toBe(200); // still bound to alice's device
        // Nor one that names no sign-in at all.
        const bare = await stack.idp.sign({
          iss: stack.idp.issuer,
          aud: stack.idp.clientId,
          sub: 'alice',
          groups: ['sales'],
        });
        expect((await ask(bare, mine)).body.error).toBe('no_sign_in_claim');
        expect(events.filter((e) => e.event === 'refusal').length).toBeGreaterThanOrEqual(4);
      } finally {
        await stack.close();
        pg?.stop();
      }
    });
  },
);
