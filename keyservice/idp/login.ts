/**
 * Signs a user in to the local IdP without a browser (tests, bench): authorization code + PKCE,
 * the login form filled over HTTP, redirects followed by hand with a cookie jar. Returns the ID
 * token the extension would send to the key service.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Tokens {
  idToken: string;
  refreshToken?: string;
}

const b64u = (b: Buffer) => b.toString('base64url');

export async function headlessLogin(opts: {
  issuer: string;
  clientId: string;
  redirectUri: string;
  username: string;
  password: string;
  /** The sign-in's nonce (default random); the key service's device binding wants `deviceNonce(...)`. */
  nonce?: string;
}): Promise<Tokens> {
  const meta = (await (await fetch(`${opts.issuer}/.well-known/openid-configuration`)).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const verifier = b64u(randomBytes(32));
  const auth = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: opts.clientId,
    redirect_uri: opts.redirectUri,
    response_type: 'code',
    scope: 'openid profile groups offline_access',
    code_challenge: b64u(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state: b64u(randomBytes(12)),
    nonce: opts.nonce ?? b64u(randomBytes(12)),
    prompt: 'consent',
  }))
    auth.searchParams.set(k, v);

  const jar = new Map<string, string>();
  const go = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return res;
  };

  let res = await go(auth.href);
  let url = auth.href;
  for (let hops = 0; hops < 20; hops++) {
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      if (url.startsWith(opts.redirectUri)) break;
      res = await go(url);
      continue;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action || html.includes('id="error"'))
      throw new Error(`sign-in failed at ${url}: ${/id="error">([^<]*)/.exec(html)?.[1] ?? res.status}`);
    url = new URL(action, url).href;
    res = await go(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: opts.username, password: opts.password }).toString(),
    });
  }
  const code = new URL(url).searchParams.get('code');
  if (!code) throw new Error(`no authorization code: ${url}`);
  const tok = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: opts.redirectUri,
      client_id: opts.clientId,
      code_verifier: verifier,
    }).toString(),
  });
  const json = (await tok.json()) as { id_token?: string; refresh_token?: string; error?: string };
  if (!json.id_token) throw new Error(`token endpoint: ${json.error ?? tok.status}`);
  return { idToken: json.id_token, refreshToken: json.refresh_token };
}
