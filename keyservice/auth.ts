/**
 * Who is calling: an OpenID Connect ID token from the enterprise IdP, checked with `jose` for
 * signature (the IdP's JWKS, found through discovery), issuer, audience (the extension's client
 * id) and expiry. Groups come from a configurable claim.
 */
import { createRemoteJWKSet, jwtVerify, errors, type JWTVerifyGetKey } from 'jose';

export class AuthError extends Error {}

export interface Caller {
  subject: string;
  groups: string[];
}

export interface Verifier {
  verify(token: string): Promise<Caller>;
}

export function oidcVerifier(opts: {
  issuer: string;
  audience: string[];
  groupsClaim: string;
  jwks?: JWTVerifyGetKey; // tests may pass a local key set
}): Verifier {
  let jwks = opts.jwks;
  const keys = async (): Promise<JWTVerifyGetKey> => {
    if (jwks) return jwks;
    const res = await fetch(new URL('.well-known/openid-configuration', opts.issuer.replace(/\/?$/, '/')));
    if (!res.ok) throw new Error(`IdP discovery failed: HTTP ${res.status}`);
    const meta = (await res.json()) as { issuer?: string; jwks_uri?: string };
    if (meta.issuer !== opts.issuer) throw new Error(`IdP discovery names issuer "${meta.issuer}"`);
    if (!meta.jwks_uri) throw new Error('IdP discovery has no jwks_uri');
    jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
    return jwks;
  };
  return {
    async verify(token) {
      const getKey = await keys();
      let payload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
          requiredClaims: ['sub', 'exp', 'iat'],
          clockTolerance: 30,
        }));
      } catch (e) {
        if (e instanceof errors.JOSEError) throw new AuthError(`${e.code}: ${e.message}`);
        throw e;
      }
      const raw = payload[opts.groupsClaim];
      const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string' && g.length > 0) : [];
      return { subject: payload.sub!, groups: [...new Set(groups)] };
    },
  };
}
