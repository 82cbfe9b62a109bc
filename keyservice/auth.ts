/**
 * Who is calling: an OpenID Connect ID token from the enterprise IdP, checked with `jose` for
 * signature (the IdP's JWKS, found through discovery), issuer, audience (the extension's client
 * id), expiry and age. Groups come from a configurable claim. An ID token is a bearer token and
 * its groups are those of when it was issued: a young token (browsers fetch a fresh one for every
 * release) keeps a leaver's pre-removal token from working for the rest of its lifetime.
 */
import { createRemoteJWKSet, jwtVerify, errors, type JWTVerifyGetKey } from 'jose';

export class AuthError extends Error {}
/** Valid, but issued too long ago (or before a newer one of the same user): ask the IdP again. */
export class StaleTokenError extends AuthError {}
/** The token lacks the groups claim: a misconfigured IdP, not a user without groups. */
export class NoGroupsClaimError extends AuthError {}

export interface Caller {
  subject: string;
  groups: string[];
  /** The token's `iat`, seconds: releases refuse a token older than one already seen. */
  issuedAt: number;
  /**
   * The sign-in this token belongs to, as `auth_time:…` and/or `sid:…` (whichever the token has):
   * refreshed tokens keep them, so a device bound at sign-in stays bound for the tokens that
   * follow, even from an IdP that puts only one of the two in refreshed tokens.
   */
  signIns: string[];
  /** The sign-in's `nonce`, when the token carries it (code flow): it commits to the device key. */
  nonce?: string;
}

export interface Verifier {
  verify(token: string): Promise<Caller>;
}

export function oidcVerifier(opts: {
  issuer: string;
  audience: string[];
  groupsClaim: string;
  /** Oldest ID token (by `iat`) accepted, seconds. */
  maxTokenAgeSeconds: number;
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
      let header;
      try {
        ({ payload, protectedHeader: header } = await jwtVerify(token, getKey, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
          requiredClaims: ['sub', 'exp', 'iat'],
          maxTokenAge: opts.maxTokenAgeSeconds,
          clockTolerance: 30,
        }));
      } catch (e) {
        if (e instanceof errors.JWTExpired && e.claim === 'iat') throw new StaleTokenError(`${e.code}: ${e.message}`);
        if (e instanceof errors.JOSEError) throw new AuthError(`${e.code}: ${e.message}`);
        throw e;
      }
      // An ID token, not an access token of the same IdP that happens to name the client.
      if (typeof header.typ === 'string' && /^(application\/)?at\+jwt$/i.test(header.typ))
        throw new AuthError('an access token is not an ID token');
      if (payload.azp !== undefined && !opts.audience.includes(String(payload.azp)))
        throw new AuthError(`the token was issued to "${String(payload.azp)}", not to Veil`);
      // Several audiences: the party the token was issued to must be named, and be Veil (OIDC Core 3.1.3.7).
      if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp === undefined)
        throw new AuthError('a token for several audiences must say which one it was issued to (azp)');
      if (typeof payload.sub !== 'string' || !payload.sub || payload.sub.length > 255)
        throw new AuthError('the token has no usable subject');
      const raw = payload[opts.groupsClaim];
      if (!Array.isArray(raw))
        throw new NoGroupsClaimError(`the ID token has no "${opts.groupsClaim}" claim (configure the IdP to send it)`);
      const groups = raw.filter((g): g is string => typeof g === 'string' && g.length > 0);
      const signIns = [
        ...(typeof payload.auth_time === 'number' ? [`auth_time:${payload.auth_time}`] : []),
        ...(typeof payload.sid === 'string' && payload.sid.length <= 200 ? [`sid:${payload.sid}`] : []),
      ];
      return {
        subject: payload.sub!,
        groups: [...new Set(groups)],
        issuedAt: payload.iat!,
        signIns,
        ...(typeof payload.nonce === 'string' ? { nonce: payload.nonce } : {}),
      };
    },
  };
}
