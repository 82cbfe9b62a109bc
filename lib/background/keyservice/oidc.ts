/**
 * Signs the employee in at the enterprise identity provider (OpenID Connect authorization code
 * flow with PKCE, a public client: no secret anywhere) through the browser's
 * `identity.launchWebAuthFlow` (Chrome and Firefox), with `oauth4webapi` doing the protocol
 * work: discovery, state, nonce, code exchange, ID token claim checks. Veil only presents the
 * ID token to its key service, which validates it (signature, issuer, audience, expiry).
 * Tokens rest in IndexedDB sealed under the keyring's device key. Background only.
 */
import * as oauth from 'oauth4webapi';
import { deviceNonce } from '../../crypto/device-nonce';
import browser from 'webextension-polyfill';
import type { KeyServiceConfig } from '../../policy/policy';
import type { KeyStore } from '../keys/store';
import type { WrappedSecret } from '../keys/wrapping';
import { type TokenSource, UnreachableError } from './session';

/** `offline_access` asks for a refresh token, so refreshes need no window; `groups` for the groups claim. */
const SCOPE = 'openid profile groups offline_access';
/** An ID token this close to its expiry is renewed first: the service must still accept it. */
const EXPIRY_MARGIN_S = 60;
const TOKENS = 'keyservice/tokens';

interface Saved {
  issuer: string;
  clientId: string;
  idToken: string;
  exp: number;
  refreshToken?: string;
  /** The salt of the sign-in's device nonce (the key service checks the nonce against it). */
  deviceSalt?: string;
}

/** The identity window: `browser.identity.launchWebAuthFlow`, or a stand-in in tests. */
export type AuthWindow = (url: string, interactive: boolean) => Promise<string>;

const launch: AuthWindow = (url, interactive) => browser.identity.launchWebAuthFlow({ url, interactive });

function isLoopbackHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

/** A fetch failure (no answer at all) is "unreachable"; an answer is a protocol outcome. */
async function reach<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof TypeError) throw new UnreachableError(`${what} cannot be reached`);
    throw e;
  }
}

/** The identity provider's own error code and description, when it sent them. */
function describeOAuthError(e: unknown): string {
  if (e instanceof oauth.ResponseBodyError || e instanceof oauth.AuthorizationResponseError)
    return `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  return (e as Error)?.message ?? String(e);
}

export class OidcTokens implements TokenSource {
  private servers = new Map<string, Promise<oauth.AuthorizationServer>>();

  constructor(
    private readonly store: KeyStore,
    private readonly authWindow: AuthWindow = launch,
    private readonly redirectUri: () => string = () => browser.identity.getRedirectURL(),
    private readonly fetchImpl?: typeof fetch,
  ) {}

  private options(cfg: KeyServiceConfig) {
    // Plain http only to this machine (the policy check allows nothing else).
    return {
      [oauth.allowInsecureRequests]: isLoopbackHttp(cfg.issuer),
      ...(this.fetchImpl ? { [oauth.customFetch]: this.fetchImpl } : {}),
    };
  }

  private server(cfg: KeyServiceConfig): Promise<oauth.AuthorizationServer> {
    let as = this.servers.get(cfg.issuer);
    if (!as) {
      const issuer = new URL(cfg.issuer);
      as = reach('the identity provider', () => oauth.discoveryRequest(issuer, this.options(cfg))).then((r) =>
        oauth.processDiscoveryResponse(issuer, r),
      );
      as.catch(() => this.servers.delete(cfg.issuer));
      this.servers.set(cfg.issuer, as);
    }
    return as;
  }

  private async load(cfg: KeyServiceConfig): Promise<Saved | undefined> {
    const rec = await this.store.getMeta<{ id: typeof TOKENS; wrapped: WrappedSecret }>(TOKENS);
    if (!rec) return undefined;
    try {
      const saved = JSON.parse(new TextDecoder().decode(await this.store.openWithDevice(TOKENS, rec.wrapped))) as Saved;
      return saved.issuer === cfg.issuer && saved.clientId === cfg.clientId ? saved : undefined;
    } catch {
      return undefined;
    }
  }

  private async save(
    cfg: KeyServiceConfig,
    r: oauth.TokenEndpointResponse,
    previous?: Saved,
    deviceSalt = previous?.deviceSalt,
  ): Promise<string> {
    const claims = oauth.getValidatedIdTokenClaims(r);
    if (!r.id_token || !claims) throw new Error('the identity provider sent no ID token');
    const saved: Saved = {
      issuer: cfg.issuer,
      clientId: cfg.clientId,
      idToken: r.id_token,
      exp: claims.exp,
      ...((r.refresh_token ?? previous?.refreshToken)
        ? { refreshToken: r.refresh_token ?? previous?.refreshToken }
        : {}),
      ...(deviceSalt ? { deviceSalt } : {}),
    };
    const wrapped = await this.store.sealWithDevice(TOKENS, new TextEncoder().encode(JSON.stringify(saved)));
    await this.store.putMeta({ id: TOKENS, wrapped });
    return saved.idToken;
  }

  async forget(): Promise<void> {
    await this.store.deleteMeta(TOKENS);
  }

  /**
   * A fresh ID token for a key fetch. The service reads the groups from the token and accepts only
   * young ones (minutes), so silently a refresh token is redeemed, or else the identity provider's
   * silent sign-in runs, even while the saved ID token is valid: an hour-old token would let a
   * leaver fetch their old group's keys for that hour. Only when the identity provider cannot be
   * reached does a still-valid saved token stand in (the service may refuse it as too old).
   */
  /** The salt to send with the device key, for the key service to check the sign-in's nonce. */
  async deviceSalt(cfg: KeyServiceConfig): Promise<string | undefined> {
    return (await this.load(cfg))?.deviceSalt;
  }

  async idToken(
    cfg: KeyServiceConfig,
    interactive: boolean,
    device?: string,
    signInAgain = false,
  ): Promise<string | undefined> {
    const saved = await this.load(cfg);
    const valid = !!saved && saved.exp - EXPIRY_MARGIN_S > Date.now() / 1000;
    const standIn = (e: UnreachableError) => {
      if (valid) return saved.idToken;
      throw e;
    };
    // signInAgain: the service wants a sign-in made for this device (the device key changed), so
    // the identity provider's silent sign-in runs, with a nonce for the current key.
    if (!interactive && saved?.refreshToken && !signInAgain) {
      let unreachable: UnreachableError | undefined;
      const token = await this.refresh(cfg, saved).catch((e) => {
        if (e instanceof UnreachableError) unreachable = e;
        return undefined; // refused (expired, revoked): try the silent flow, then ask the user
      });
      if (token) return token;
      if (unreachable) return standIn(unreachable);
    }
    try {
      return await this.authorize(cfg, interactive, device);
    } catch (e) {
      if (e instanceof UnreachableError) return interactive ? Promise.reject(e) : standIn(e);
      if (interactive) throw new Error(describeOAuthError(e), { cause: e });
      return undefined; // the identity provider wants the user: "Sign in to Veil"
    }
  }

  private async refresh(cfg: KeyServiceConfig, saved: Saved): Promise<string> {
    const as = await this.server(cfg);
    const client = { client_id: cfg.clientId };
    const res = await reach('the identity provider', () =>
      oauth.refreshTokenGrantRequest(as, client, oauth.None(), saved.refreshToken!, this.options(cfg)),
    );
    return this.save(cfg, await oauth.processRefreshTokenResponse(as, client, res), saved);
  }

  /** The authorization code flow in the browser's identity window; `interactive: false` never shows it. */
  private async authorize(cfg: KeyServiceConfig, interactive: boolean, device?: string): Promise<string> {
    const as = await this.server(cfg);
    if (!as.authorization_endpoint) throw new Error('the identity provider has no authorization endpoint');
    const client = { client_id: cfg.clientId };
    const redirectUri = this.redirectUri();
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    // The nonce commits to this browser's device key: the key service releases to that key only.
    const salt = oauth.generateRandomNonce();
    const nonce = device ? deviceNonce(device, salt) : oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: cfg.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: SCOPE,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(interactive ? { prompt: 'consent' } : { prompt: 'none' }),
    }).toString();
    const back = await this.authWindow(url.href, interactive);
    const params = oauth.validateAuthResponse(as, client, new URL(back), state);
    const res = await reach('the identity provider', () =>
      oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, this.options(cfg)),
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, res, {
      expectedNonce: nonce,
      requireIdToken: true,
    });
    return this.save(cfg, result, undefined, device ? salt : undefined);
  }
}
