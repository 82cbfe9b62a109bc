/**
 * A local OpenID Connect identity provider for tests and the demo (not product code): the certified
 * `oidc-provider` library on 127.0.0.1, users alice, bob and carol in groups sales and board, a
 * `groups` claim in the ID token, a plain login form (username + password, checked) and
 * authorization code + PKCE for a browser extension's redirect URI. Membership can change at run
 * time (joiners, movers, leavers) and accounts can be disabled.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

export interface IdpUser {
  password: string;
  name: string;
  groups: string[];
  disabled?: boolean;
}

export const DEMO_USERS: Record<string, IdpUser> = {
  alice: { password: 'alice-password', name: 'Alice', groups: ['sales', 'board'] },
  bob: { password: 'bob-password', name: 'Bob', groups: ['sales'] },
  carol: { password: 'carol-password', name: 'Carol', groups: ['sales'] },
};

/** The extension's redirect URIs (identity.getRedirectURL()) for the development ids. */
export const EXTENSION_REDIRECTS = [
  'https://fcjbldehbajbacgobpolccjedandhgne.chromiumapp.org/',
  'https://c50379bc1c4022e91991b354c5b5abe14bbf58dd.extensions.allizom.org/',
];

export interface IdpOptions {
  port?: number; // 0: any free port
  clientId?: string;
  redirectUris?: string[];
  users?: Record<string, IdpUser>;
  idTokenTtlSeconds?: number;
}

export interface Idp {
  issuer: string;
  clientId: string;
  users: Record<string, IdpUser>;
  setGroups(user: string, groups: string[]): void;
  setDisabled(user: string, disabled: boolean): void;
  /** Signs arbitrary claims with the IdP's own key: tests forge wrong issuers, audiences, expiry. */
  /** A token signed by this IdP (tests): `issuedAt` in seconds, `typ` for the JOSE header. */
  sign(
    claims: Record<string, unknown>,
    opts?: { expiresIn?: string | number; issuedAt?: number; typ?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startIdp(opts: IdpOptions = {}): Promise<Idp> {
  const users = structuredClone(opts.users ?? DEMO_USERS);
  const clientId = opts.clientId ?? 'veil-extension';
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' } as JWK;

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const account = (id: string) => {
    const u = users[id];
    if (!u || u.disabled) return undefined;
    return { accountId: id, claims: () => ({ sub: id, name: u.name, groups: [...u.groups] }) };
  };

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: opts.redirectUris ?? EXTENSION_REDIRECTS,
        // auth_time in every ID token, refreshed ones too: the key service binds a sign-in to a device by it.
        require_auth_time: true,
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomUUID()] },
    claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'groups'],
    // The groups claim goes into the ID token itself: that is what the key service reads.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // The extension's background calls the token endpoint with its own Origin (Chrome: its fixed id;
    // Firefox: a per-profile moz-extension UUID); oidc-provider refuses unlisted origins for public clients.
    clientBasedCORS: (_ctx, origin) =>
      origin === 'chrome-extension://fcjbldehbajbacgobpolccjedandhgne' || origin.startsWith('moz-extension://'),
    features: { devInteractions: { enabled: false } },
    ttl: {
      IdToken: opts.idTokenTtlSeconds ?? 3600,
      AccessToken: 3600,
      RefreshToken: 86_400 * 14,
      Interaction: 600,
      Session: 86_400,
      Grant: 86_400 * 14,
    },
    findAccount: (_ctx, id) => account(id),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Sign-in error</title><p id="error">${escape(String(out.error))}: ${escape(String(out.error_description ?? ''))}</p>`;
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec((req.url ?? '').split('?')[0]!);
    if (!m) return void callback(req, res);
    interaction(req, res, m[1]!, !!m[2]).catch((e) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${(e as Error).message}`);
    });
  });

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, submit: boolean) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (details.prompt.name === 'login') {
      if (!submit) return loginForm(res, uid);
      const form = new URLSearchParams(await body(req));
      const user = form.get('username') ?? '';
      const u = users[user];
      if (!u || u.disabled || form.get('password') !== u.password)
        return loginForm(res, uid, 'Wrong username or password.');
      return provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false });
    }
    // Consent: the extension is the enterprise's own first-party client, so it is granted at once.
    const accountId = details.session?.accountId;
    if (!accountId || !account(accountId)) throw new Error('no session');
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope('openid profile groups offline_access');
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  return {
    issuer,
    clientId,
    users,
    setGroups: (user, groups) => void (users[user]!.groups = [...groups]),
    setDisabled: (user, disabled) => void (users[user]!.disabled = disabled),
    sign: (claims, o = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'idp-1', ...(o.typ ? { typ: o.typ } : {}) })
        .setIssuedAt(o.issuedAt)
        .setExpirationTime(o.expiresIn ?? '1h')
        .sign(privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function loginForm(res: ServerResponse, uid: string, error = ''): void {
  res.writeHead(error ? 401 : 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>Sign in — Example Corp</title>
<h1>Example Corp sign-in</h1>${error ? `<p id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Username <input id="username" name="username" autocomplete="username" autofocus></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="submit" type="submit">Sign in</button></form>`);
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (c: Buffer) => {
      s += c.toString('utf8');
      if (s.length > 8192) req.destroy();
    });
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}
