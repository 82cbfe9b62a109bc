/**
 * The extension's side of Veil's key service, against a fake service (fetch) that wraps keys with
 * the real HPKE libraries' public API, as the service does: releases land in the keyring, a key a
 * later release leaves out is deleted, the grace period ends with keys gone and sends blocked, and
 * a malformed or tampered release is refused with nothing stored.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { bytesToHex, randomBytes } from '@noble/ciphers/utils.js';
import { base64urlnopad } from '@scure/base';
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { XWing } from '@hpke/hybridkem-x-wing';
import { Keyring } from '../../lib/background/keyring';
import { KeyStore } from '../../lib/background/keys/store';
import { KeyServiceSession, type TokenSource, UnreachableError } from '../../lib/background/keyservice/session';
import { openRelease, RELEASE_INFO } from '../../lib/background/keyservice/release';
import { deviceKey, SUITE_NAMES, type Kem } from '../../lib/background/keyservice/device-key';
import type { KeyServiceConfig } from '../../lib/policy/policy';
import { parseManagedPolicy } from '../../lib/policy/parse';

let n = 0;
const cfg = (kem: Kem = 'x-wing', extra: Partial<KeyServiceConfig> = {}): KeyServiceConfig => ({
  url: 'http://127.0.0.1:9',
  issuer: 'http://127.0.0.1:8',
  clientId: 'veil',
  groupsClaim: 'groups',
  refreshMinutes: 15,
  offlineGraceHours: 24,
  kem,
  ...extra,
});

interface GroupKey {
  id: string;
  group: string;
  secret: Uint8Array;
  status?: 'active' | 'retired';
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** What the service does: seal each key's secret to the device public key, bound to subject, id and group. */
async function wrap(kem: Kem, devicePublicKey: Uint8Array, subject: string, k: GroupKey) {
  const suite = new CipherSuite({
    kem: kem === 'x-wing' ? new XWing() : new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
  const pk = await suite.kem.deserializePublicKey(devicePublicKey);
  const sender = await suite.createSenderContext({ recipientPublicKey: pk, info: utf8(RELEASE_INFO) });
  const ct = await sender.seal(k.secret, utf8(`${subject}\n${k.id}\n${k.group}`));
  return {
    id: k.id,
    group: k.group,
    status: k.status ?? 'active',
    label: `${k.group} key`,
    scope: { site: '*', conversations: [`${k.group}*`] },
    createdAt: 1_700_000_000_000,
    wrapped: {
      suite: SUITE_NAMES[kem],
      enc: base64urlnopad.encode(new Uint8Array(sender.enc)),
      ct: base64urlnopad.encode(new Uint8Array(ct)),
    },
  };
}

const groupKey = (group: string): GroupKey => ({ id: bytesToHex(randomBytes(4)), group, secret: randomBytes(32) });

/** A fake key service: answers a release with `keys()` wrapped to the device key in the request. */
function fakeService(
  kem: Kem,
  subject: string,
  keys: () => GroupKey[],
  opts: { tamper?: (body: any) => void; refuse?: () => { status: number; error: string } | undefined } = {},
) {
  const calls: { auth: string | null; body: any }[] = [];
  let down = false;
  const fetch = (async (url: string, init: RequestInit) => {
    if (down) throw new TypeError('fetch failed');
    const refusal = opts.refuse?.();
    if (refusal) {
      calls.push({ auth: new Headers(init.headers).get('authorization'), body: undefined });
      return new Response(JSON.stringify({ error: refusal.error, message: 'no' }), { status: refusal.status });
    }
    expect(url).toBe('http://127.0.0.1:9/v1/keys/release');
    const body = JSON.parse(String(init.body));
    calls.push({ auth: new Headers(init.headers).get('authorization'), body });
    const pk = base64urlnopad.decode(body.device.publicKey);
    const out = {
      subject,
      groups: [...new Set(keys().map((k) => k.group))],
      releasedAt: Date.now(),
      refreshAfter: Date.now() + 900_000,
      offlineGraceHours: 24,
      keys: await Promise.all(keys().map((k) => wrap(body.device.kem, pk, subject, k))),
    };
    opts.tamper?.(out);
    return new Response(JSON.stringify(out), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof globalThis.fetch;
  return {
    fetch,
    calls,
    setDown: (d: boolean) => (down = d),
    kem,
  };
}

const tokens: TokenSource = { idToken: async () => 'id-token-of-alice', forget: async () => undefined };

function setup(
  kem: Kem,
  keys: () => GroupKey[],
  opts: {
    tamper?: (body: any) => void;
    tokens?: TokenSource;
    refuse?: () => { status: number; error: string } | undefined;
  } = {},
) {
  const keyring = new Keyring(new KeyStore(`veil-ks-${n++}-${Date.now()}`));
  const service = fakeService(kem, 'alice', keys, opts);
  let now = Date.now();
  let changes = 0;
  const session = new KeyServiceSession({
    keyring,
    tokens: opts.tokens ?? tokens,
    fetch: service.fetch,
    now: () => now,
    onKeysChanged: () => changes++,
  });
  return {
    keyring,
    service,
    session,
    advance: (ms: number) => (now += ms),
    at: () => now,
    changes: () => changes,
  };
}

const HOUR = 3_600_000;

describe('key service: stale tokens', () => {
  it('"stale_token" (another browser of the user showed a newer one): a fresh token, once, and the tokens kept', async () => {
    let issued = 0;
    let forgotten = 0;
    const fresh: TokenSource = { idToken: async () => `token-${++issued}`, forget: async () => void forgotten++ };
    let refusals = 1;
    const { keyring, session, service } = setup('x25519', () => [groupKey('sales')], {
      tokens: fresh,
      refuse: () => (refusals-- > 0 ? { status: 401, error: 'stale_token' } : undefined),
    });
    await session.refresh(cfg('x25519'));
    expect(service.calls.map((c) => c.auth)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(await keyring.list()).toHaveLength(1);
    expect(forgotten).toBe(0);
  });

  it('"device_unbound" (the device key changed): one silent sign-in for this key, then the keys', async () => {
    const asked: (boolean | undefined)[] = [];
    const tokens: TokenSource = {
      idToken: async (_cfg, _interactive, _device, signInAgain) => (asked.push(signInAgain), 'token'),
      forget: async () => undefined,
    };
    let refusals = 1;
    const { keyring, session } = setup('x25519', () => [groupKey('sales')], {
      tokens,
      refuse: () => (refusals-- > 0 ? { status: 401, error: 'device_unbound' } : undefined),
    });
    await session.refresh(cfg('x25519'));
    expect(asked).toEqual([false, true]);
    expect(await keyring.list()).toHaveLength(1);
  });

  it('stale again after the retry: blocked with "sign in", nothing deleted, no loop', async () => {
    const { session, service } = setup('x25519', () => [groupKey('sales')], {
      refuse: () => ({ status: 401, error: 'stale_token' }),
    });
    await session.refresh(cfg('x25519'));
    expect(service.calls).toHaveLength(2);
    expect((await session.block(cfg('x25519')))?.code).toBe('sign-in');
  });
});

describe('key service releases', () => {
  for (const kem of ['x-wing', 'x25519'] as const) {
    it(`${kem}: a release puts the user's group keys into the keyring, wrapped at rest`, async () => {
      const sales = groupKey('sales');
      const board = groupKey('board');
      const { keyring, session, service, changes } = setup(kem, () => [sales, board]);
      expect(await session.block(cfg(kem))).toMatchObject({ code: 'sign-in' }); // never signed in: blocked
      await session.refresh(cfg(kem));
      expect(service.calls[0]!.auth).toBe('Bearer id-token-of-alice');
      expect(service.calls[0]!.body.device.kem).toBe(kem);
      const list = await keyring.list();
      expect(list.map((k) => k.id).sort()).toEqual([sales.id, board.id].sort());
      expect(list.every((k) => k.source === 'keyservice' && k.expiresAt! > Date.now())).toBe(true);
      const key = await keyring.encryptionKey('fixture-chat', 'sales-team');
      expect(key?.id).toBe(sales.id);
      expect(await keyring.derivedFor(sales.id)).toBeDefined();
      expect(await session.block(cfg(kem))).toBeUndefined();
      expect(changes()).toBe(1);
      // At rest only wrapped: the raw record holds no secret and no copy of it.
      const raw = await (keyring.store as any).open().then((db: any) => db.get('keys', sales.id));
      expect(raw.secret).toBeUndefined();
      expect(JSON.stringify(Object.values(raw.wrapped.ct))).not.toContain(JSON.stringify([...sales.secret]));
      // The service is told which keys the browser already holds.
      await session.refresh(cfg(kem));
      expect(service.calls[1]!.body.known.sort()).toEqual([sales.id, board.id].sort());
    });
  }

  it("the device key stays the same across releases, and the X25519 one's private key is non-extractable", async () => {
    const store = new KeyStore(`veil-ks-${n++}`);
    const a = await deviceKey(store, 'x25519');
    const b = await deviceKey(store, 'x25519');
    expect(bytesToHex(a.publicKey)).toBe(bytesToHex(b.publicKey));
    const { key } = await a.recipient();
    expect((key as CryptoKeyPair).privateKey.extractable).toBe(false);
    const xw = await deviceKey(store, 'x-wing');
    expect(xw.publicKey.length).toBe(1216);
    const meta = await store.getMeta<any>('hpke/x-wing');
    expect(meta.pair).toBeUndefined();
    expect(meta.wrapped.ct).toBeInstanceOf(Uint8Array); // the X-Wing private key only sealed under the device key
  });

  it('a key missing from the next release is deleted (leaver, mover)', async () => {
    const sales = groupKey('sales');
    const board = groupKey('board');
    let mine = [sales, board];
    const { keyring, session } = setup('x-wing', () => mine);
    await session.refresh(cfg());
    expect((await keyring.list()).length).toBe(2);
    mine = [sales]; // removed from board in the IdP
    await session.refresh(cfg());
    expect((await keyring.list()).map((k) => k.id)).toEqual([sales.id]);
    expect(await keyring.derivedFor(board.id)).toBeUndefined();
    expect(await keyring.store.unwrap(board.id)).toBeUndefined(); // gone from IndexedDB, not only hidden
  });

  it('no_groups (403) is an answer: every key service key goes', async () => {
    const sales = groupKey('sales');
    const { keyring, session, service } = setup('x-wing', () => [sales]);
    await session.refresh(cfg());
    expect((await keyring.list()).length).toBe(1);
    const session2 = new KeyServiceSession({
      keyring,
      tokens,
      fetch: (async () =>
        new Response(JSON.stringify({ error: 'no_groups' }), { status: 403 })) as unknown as typeof fetch,
    });
    await session2.refresh(cfg());
    expect(await keyring.list()).toEqual([]);
    expect(service.calls.length).toBe(1);
  });

  it('service unreachable: keys work through the grace period, then are gone and sends blocked with the time', async () => {
    const sales = groupKey('sales');
    const { keyring, session, service, advance } = setup('x-wing', () => [sales]);
    await session.refresh(cfg());
    service.setDown(true);
    advance(HOUR);
    await session.refresh(cfg());
    expect(await session.block(cfg())).toBeUndefined(); // within the grace period: still fine
    expect(await keyring.encryptionKey('fixture-chat', 'sales')).toBeDefined();
    advance(24 * HOUR);
    await session.refresh(cfg());
    const block = await session.block(cfg());
    expect(block?.code).toBe('key-service');
    expect(block?.message).toMatch(/unreachable since \d{1,2}:\d{2}/);
    // Gone for sends and reads at once (by the real clock the keyring uses), and deleted by the alarm.
    const realNow = Date.now;
    Date.now = () => realNow() + 26 * HOUR;
    try {
      expect(await keyring.encryptionKey('fixture-chat', 'sales')).toBeUndefined();
      expect(await keyring.derivedFor(sales.id)).toBeUndefined();
      await session.expire();
    } finally {
      Date.now = realNow;
    }
    expect(await keyring.store.unwrap(sales.id)).toBeUndefined();
  });

  it('an identity provider that cannot be reached counts as unreachable; no token means sign in', async () => {
    const down: TokenSource = {
      idToken: async () => {
        throw new UnreachableError('idp down');
      },
      forget: async () => undefined,
    };
    const a = setup('x-wing', () => [], { tokens: down });
    await a.session.refresh(cfg());
    expect((await a.session.block(cfg()))?.code).toBe('key-service');
    const none: TokenSource = { idToken: async () => undefined, forget: async () => undefined };
    const b = setup('x-wing', () => [], { tokens: none });
    await b.session.refresh(cfg());
    expect((await b.session.block(cfg()))?.code).toBe('sign-in');
    expect(b.service.calls.length).toBe(0); // no token, no request
  });

  it('the policy naming another service forgets the user and their keys', async () => {
    const sales = groupKey('sales');
    const { keyring, session } = setup('x-wing', () => [sales]);
    await session.refresh(cfg());
    expect(await session.block(cfg('x-wing', { url: 'https://other.example' }))).toMatchObject({ code: 'sign-in' });
    expect(await keyring.list()).toEqual([]);
  });
});

describe('key service releases refused', () => {
  const cases: [string, (body: any) => void][] = [
    ['a flipped ciphertext byte', (b) => flip(b.keys[1].wrapped, 'ct')],
    ['a flipped encapsulated key byte', (b) => flip(b.keys[0].wrapped, 'enc')],
    ['a key moved to another group', (b) => (b.keys[0].group = 'board')],
    ['a key id changed', (b) => (b.keys[0].id = 'deadbeef')],
    ['a release for another subject', (b) => (b.subject = 'mallory')],
    ['another suite', (b) => (b.keys[0].wrapped.suite = 'x25519/hkdf-sha256/aes128gcm')],
    ['not base64url', (b) => (b.keys[0].wrapped.ct = 'not base64!')],
    ['a bad key id', (b) => (b.keys[0].id = 'XYZ')],
    ['a missing scope', (b) => delete b.keys[0].scope],
    ['a duplicated key', (b) => b.keys.push(b.keys[0])],
    ['keys not a list', (b) => (b.keys = {})],
  ];
  for (const [what, tamper] of cases) {
    it(`${what}: refused with a clear error, nothing stored, sends stay blocked`, async () => {
      const { keyring, session } = setup('x-wing', () => [groupKey('sales'), groupKey('board')], { tamper });
      await session.refresh(cfg());
      expect(await keyring.list()).toEqual([]);
      const block = await session.block(cfg());
      expect(block?.code).toBe('key-service');
      expect(block?.message).toMatch(/refused what its key service sent/);
      // The service's words (and any name they carry) stay out of the line shown in the chat page.
      expect(block?.message).not.toMatch(/mallory|board|deadbeef|XYZ/);
    });
  }

  it("a release for another subject than the signed-in user's, properly wrapped, is refused", async () => {
    const jwt = (sub: string) => ['e30', Buffer.from(JSON.stringify({ sub })).toString('base64url'), 'sig'].join('.');
    const keyring = new Keyring(new KeyStore(`veil-ks-sub-${n++}`));
    const service = fakeService('x25519', 'mallory', () => [groupKey('sales')]);
    const session = new KeyServiceSession({
      keyring,
      tokens: { idToken: async () => jwt('alice'), forget: async () => undefined },
      fetch: service.fetch,
      now: () => Date.now(),
      onKeysChanged: () => undefined,
    });
    await session.refresh(cfg('x25519'));
    expect(await keyring.list()).toEqual([]);
    expect((await session.block(cfg('x25519')))?.message).toMatch(/refused what its key service sent/);
  });

  it('a release wrapped to another browser does not open', async () => {
    const sales = groupKey('sales');
    const other = new KeyStore(`veil-ks-other-${n++}`);
    const otherDevice = await deviceKey(other, 'x25519');
    const body = {
      subject: 'alice',
      groups: ['sales'],
      releasedAt: Date.now(),
      keys: [await wrap('x25519', otherDevice.publicKey, 'alice', sales)],
    };
    const mine = await deviceKey(new KeyStore(`veil-ks-mine-${n++}`), 'x25519');
    await expect(openRelease(body, mine)).rejects.toThrow(/does not open with this browser's device key/);
    await expect(openRelease(body, otherDevice)).resolves.toMatchObject({ keys: [{ id: sales.id }] });
  });

  it('a tampered refresh leaves the last good keys until their grace ends', async () => {
    const sales = groupKey('sales');
    let tamper = false;
    const { keyring, session } = setup('x-wing', () => [sales], {
      tamper: (b) => {
        if (tamper) flip(b.keys[0].wrapped, 'ct');
      },
    });
    await session.refresh(cfg());
    tamper = true;
    await session.refresh(cfg());
    expect((await keyring.list()).map((k) => k.id)).toEqual([sales.id]);
    expect(await session.block(cfg())).toBeUndefined();
  });
});

function flip(w: { enc: string; ct: string }, field: 'enc' | 'ct'): void {
  const bytes = base64urlnopad.decode(w[field]);
  bytes[5]! ^= 1;
  w[field] = base64urlnopad.encode(bytes);
}

describe('policy keyService', () => {
  const sites = [{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] }];
  const ks = { url: 'https://keys.corp.example/', issuer: 'https://idp.corp.example', clientId: 'veil' };

  it('is read with its defaults, and holds no secret', () => {
    const { policy, keys } = parseManagedPolicy({ protectedSites: sites, keyService: ks });
    expect(policy.errors).toEqual([]);
    expect(keys).toEqual([]);
    expect(policy.keyService).toEqual({
      url: 'https://keys.corp.example',
      issuer: 'https://idp.corp.example',
      clientId: 'veil',
      groupsClaim: 'groups',
      refreshMinutes: 15,
      offlineGraceHours: 24,
      kem: 'x-wing',
    });
  });

  it('works next to policy keys', () => {
    const key = {
      id: '0a0b0c0d',
      secret: 'A'.repeat(43) + '=',
      label: 'Pilot',
      scope: { site: '*', conversations: ['*'] },
      status: 'active',
      createdAt: 1,
    };
    const { policy, keys } = parseManagedPolicy({
      protectedSites: sites,
      keys: [key],
      keyService: { ...ks, kem: 'x25519' },
    });
    expect(policy.errors).toEqual([]);
    expect(keys.map((k) => k.id)).toEqual(['0a0b0c0d']);
    expect(policy.keyService?.kem).toBe('x25519');
  });

  it.each([
    [{ ...ks, url: 'http://keys.corp.example' }, 'keyService.url', /https/],
    [{ ...ks, issuer: 'http://idp.corp.example' }, 'keyService.issuer', /https/],
    [{ ...ks, kem: 'rsa' }, 'keyService.kem', /x-wing/],
    [{ ...ks, refreshMinutes: 0 }, 'keyService.refreshMinutes', /1/],
    [{ ...ks, secret: 'x' }, 'keyService.secret', /not a Veil policy setting/],
    [{ url: ks.url, issuer: ks.issuer }, 'keyService.clientId', /required/],
  ])('refuses %o (fail closed)', (keyService, path, message) => {
    const { policy } = parseManagedPolicy({ protectedSites: sites, keyService });
    expect(policy.errors.find((e) => e.path === path)?.message).toMatch(message);
    expect(policy.keyService).toBeUndefined();
  });

  it('allows plain http only to this machine', () => {
    const local = { url: 'http://127.0.0.1:8443', issuer: 'http://localhost:3000', clientId: 'veil' };
    expect(parseManagedPolicy({ protectedSites: sites, keyService: local }).policy.errors).toEqual([]);
  });
});
