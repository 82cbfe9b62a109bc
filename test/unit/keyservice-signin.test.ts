/**
 * Sign-in for the key service against a fake identity provider: authorization code with PKCE
 * through the identity window (a stand-in for launchWebAuthFlow), a state or nonce that does not
 * match is refused, the refresh token renews silently and rests sealed under the device key.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { base64urlnopad } from '@scure/base';
import { KeyStore } from '../../lib/background/keys/store';

vi.mock('webextension-polyfill', () => ({ default: {} }));
import { OidcTokens } from '../../lib/background/keyservice/oidc';
import { deviceNonce } from '../../lib/crypto/device-nonce';
import { UnreachableError } from '../../lib/background/keyservice/session';
import type { KeyServiceConfig } from '../../lib/policy/policy';

const ISSUER = 'http://127.0.0.1:4444';
const REDIRECT = 'https://fcjbldehbajbacgobpolccjedandhgne.chromiumapp.org/';
const cfg: KeyServiceConfig = {
  url: 'http://127.0.0.1:9',
  issuer: ISSUER,
  clientId: 'veil-extension',
  groupsClaim: 'groups',
  refreshMinutes: 15,
  offlineGraceHours: 24,
  kem: 'x-wing',
};
let n = 0;

const b64 = (o: object) => base64urlnopad.encode(new TextEncoder().encode(JSON.stringify(o)));
const jwt = (claims: object) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.${b64({ sig: 1 })}`;

/** A fake IdP: discovery, and a token endpoint that checks PKCE like a real one. */
function fakeIdp(opts: { lifetime?: number; tamper?: (p: URLSearchParams) => void } = {}) {
  const state = { challenge: '', nonce: '', authorizeCalls: [] as URLSearchParams[], grants: [] as URLSearchParams[] };
  let down = false;
  let idCount = 0;
  let groups = ['sales'];
  const idToken = (nonce?: string) =>
    jwt({
      iss: ISSUER,
      aud: 'veil-extension',
      sub: 'alice',
      groups,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + (opts.lifetime ?? 3600),
      jti: String(idCount++),
      ...(nonce ? { nonce } : {}),
    });
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    if (down) throw new TypeError('fetch failed');
    const url = new URL(input instanceof Request ? input.url : String(input));
    const json = (body: object, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (url.pathname === '/.well-known/openid-configuration')
      return json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/auth`,
        token_endpoint: `${ISSUER}/token`,
        jwks_uri: `${ISSUER}/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    if (url.pathname === '/token') {
      const body = new URLSearchParams(String(init?.body));
      state.grants.push(body);
      if (body.get('grant_type') === 'authorization_code') {
        const verifier = body.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (body.get('code') !== 'the-code' || challenge !== state.challenge || body.get('redirect_uri') !== REDIRECT)
          return json({ error: 'invalid_grant' }, 400);
        return json({
          access_token: 'at',
          token_type: 'Bearer',
          id_token: idToken(state.nonce),
          refresh_token: 'rt-1',
        });
      }
      if (body.get('grant_type') === 'refresh_token' && body.get('refresh_token') === 'rt-1')
        return json({ access_token: 'at2', token_type: 'Bearer', id_token: idToken() });
      return json({ error: 'invalid_grant' }, 400);
    }
    return json({}, 404);
  }) as typeof globalThis.fetch;
  const authWindow = async (href: string, interactive: boolean) => {
    const p = new URL(href).searchParams;
    state.authorizeCalls.push(p);
    if (!interactive) throw new Error('User interaction required.');
    state.challenge = p.get('code_challenge')!;
    state.nonce = p.get('nonce')!;
    const back = new URLSearchParams({ code: 'the-code', state: p.get('state')! });
    opts.tamper?.(back);
    return `${REDIRECT}?${back}`;
  };
  return {
    state,
    fetch,
    authWindow,
    setDown: (d: boolean) => (down = d),
    setGroups: (g: string[]) => (groups = g),
  };
}

function tokensFor(idp: ReturnType<typeof fakeIdp>, store = new KeyStore(`veil-oidc-${n++}`)) {
  return { store, tokens: new OidcTokens(store, idp.authWindow, () => REDIRECT, idp.fetch) };
}

const claims = (token: string) => JSON.parse(new TextDecoder().decode(base64urlnopad.decode(token.split('.')[1]!)));

describe('key service sign-in (OpenID Connect, code + PKCE)', () => {
  it('signs in through the identity window and presents the ID token', async () => {
    const idp = fakeIdp();
    const { tokens, store } = tokensFor(idp);
    expect(await tokens.idToken(cfg, false)).toBeUndefined(); // silent: the IdP wants the user
    const token = await tokens.idToken(cfg, true);
    expect(claims(token!)).toMatchObject({ sub: 'alice', aud: 'veil-extension' });
    const auth = idp.state.authorizeCalls.at(-1)!;
    expect(auth.get('code_challenge_method')).toBe('S256');
    expect(auth.get('response_type')).toBe('code');
    expect(auth.get('client_id')).toBe('veil-extension');
    expect(auth.get('redirect_uri')).toBe(REDIRECT);
    expect(auth.get('scope')).toContain('openid');
    // Tokens at rest are sealed under the device key: no token text in the stored record.
    const rec = await store.getMeta<any>('keyservice/tokens');
    expect(JSON.stringify(rec)).not.toContain('rt-1');
    // Next time, silently: the refresh token, no window.
    const calls = idp.state.authorizeCalls.length;
    expect(claims((await tokens.idToken(cfg, false))!)).toMatchObject({ sub: 'alice' });
    expect(idp.state.grants.at(-1)!.get('grant_type')).toBe('refresh_token');
    expect(idp.state.authorizeCalls.length).toBe(calls);
  });

  it("the sign-in's nonce commits to the device key, and the salt to check it is kept through refreshes", async () => {
    const idp = fakeIdp();
    const { tokens } = tokensFor(idp);
    await tokens.idToken(cfg, true, 'DEVICE-PUBLIC-KEY');
    const nonce = idp.state.authorizeCalls.at(-1)!.get('nonce')!;
    const salt = await tokens.deviceSalt(cfg);
    expect(salt).toBeTruthy();
    expect(nonce).toBe(deviceNonce('DEVICE-PUBLIC-KEY', salt!));
    expect(nonce).not.toBe(deviceNonce('ANOTHER-KEY', salt!));
    await tokens.idToken(cfg, false, 'DEVICE-PUBLIC-KEY'); // a refresh: same sign-in, same salt
    expect(idp.state.grants.at(-1)!.get('grant_type')).toBe('refresh_token');
    expect(await tokens.deviceSalt(cfg)).toBe(salt);
  });

  it('a silent fetch asks the identity provider again, so a leaver loses the group at the next refresh', async () => {
    const idp = fakeIdp(); // ID tokens valid for an hour
    const { tokens } = tokensFor(idp);
    expect(claims((await tokens.idToken(cfg, true))!).groups).toEqual(['sales']);
    idp.setGroups([]); // removed from sales at the identity provider
    expect(claims((await tokens.idToken(cfg, false))!).groups).toEqual([]);
  });

  it('with the identity provider unreachable, a still-valid ID token stands in; an expiring one does not', async () => {
    const idp = fakeIdp();
    const { tokens } = tokensFor(idp);
    const token = await tokens.idToken(cfg, true);
    idp.setDown(true);
    expect(await tokens.idToken(cfg, false)).toBe(token);
    const short = fakeIdp({ lifetime: 30 }); // inside the renewal margin
    const other = tokensFor(short).tokens;
    await other.idToken(cfg, true);
    short.setDown(true);
    await expect(other.idToken(cfg, false)).rejects.toBeInstanceOf(UnreachableError);
  });

  it('renews an expiring ID token with the refresh token, without a window', async () => {
    const idp = fakeIdp({ lifetime: 30 }); // inside the renewal margin
    const { tokens } = tokensFor(idp);
    const first = await tokens.idToken(cfg, true);
    const calls = idp.state.authorizeCalls.length;
    const second = await tokens.idToken(cfg, false);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(idp.state.grants.at(-1)!.get('grant_type')).toBe('refresh_token');
    expect(idp.state.authorizeCalls.length).toBe(calls);
  });

  it('refuses an answer whose state does not match (a forged redirect)', async () => {
    const idp = fakeIdp({ tamper: (p) => p.set('state', 'forged') });
    const { tokens } = tokensFor(idp);
    await expect(tokens.idToken(cfg, true)).rejects.toThrow();
    expect(idp.state.grants.length).toBe(0); // the code was never redeemed
  });

  it('an identity provider that does not answer is "unreachable", not "sign in"', async () => {
    const idp = fakeIdp();
    idp.setDown(true);
    const { tokens } = tokensFor(idp);
    await expect(tokens.idToken(cfg, false)).rejects.toBeInstanceOf(UnreachableError);
  });

  it('forget() drops the tokens', async () => {
    const idp = fakeIdp();
    const { tokens } = tokensFor(idp);
    await tokens.idToken(cfg, true);
    await tokens.forget();
    expect(await tokens.idToken(cfg, false)).toBeUndefined();
  });
});
