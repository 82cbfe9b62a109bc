/**
 * The key service session: fetches the signed-in user's keys from Veil's key service, keeps them
 * in the keyring for the offline grace period only, and says why sends are blocked when there is
 * no valid key set (never signed in, sign-in expired, service unreachable past the grace period).
 * A release is the whole truth: keys it no longer holds are deleted (leavers, movers). The service
 * validates the ID token; Veil only presents it. Background only.
 */
import { base64urlnopad } from '@scure/base';
import { t } from '../../i18n';
import type { KeyRecord } from '../../keys/model';
import type { KeyServiceConfig } from '../../policy/policy';
import type { Keyring } from '../keyring';
import { deviceKey } from './device-key';
import { openRelease, ReleaseError } from './release';

/**
 * The `sub` of an ID token this browser's own sign-in obtained and checked (oidc.ts): a release
 * must be for that subject, so a service answering with someone else's keys is refused.
 */
function subjectOf(idToken: string): string | undefined {
  try {
    const payload = JSON.parse(new TextDecoder().decode(base64urlnopad.decode(idToken.split('.')[1] ?? '')));
    return typeof payload?.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/** Where ID tokens come from (lib/background/keyservice/oidc.ts; a fake in tests). */
export interface TokenSource {
  /**
   * A current ID token from the issuer, or undefined when the user must sign in. `interactive`:
   * the user asked to sign in, so a sign-in window may open. Throws `UnreachableError` when the
   * identity provider cannot be reached.
   */
  idToken(
    cfg: KeyServiceConfig,
    interactive: boolean,
    devicePublicKey?: string,
    signInAgain?: boolean,
  ): Promise<string | undefined>;
  /** The salt of the sign-in's device nonce, sent with the device key (oidc.ts). */
  deviceSalt?(cfg: KeyServiceConfig): Promise<string | undefined>;
  /** Drops the tokens (the service refused them, or the service changed). */
  forget(): Promise<void>;
}

export class UnreachableError extends Error {}

type Failure = 'unreachable' | 'sign-in' | 'refused';

/** What is remembered between service-worker starts (no secret). */
export interface SessionState {
  /** The service (url, issuer, client) this state belongs to; another one starts afresh. */
  service: string;
  subject?: string;
  releasedAt?: number;
  /** End of the offline grace period of the last release. */
  expiresAt?: number;
  failure?: Failure;
  /** First failure since the last good release. */
  failingSince?: number;
  /** Last failed attempt (worker restarts do not retry sooner than the refresh period). */
  triedAt?: number;
  detail?: string;
}

/** Why sends are blocked now, as the protocol's error code and the line under the composer. */
export interface Block {
  code: 'sign-in' | 'key-service';
  message: string;
}

export interface SessionDeps {
  keyring: Keyring;
  tokens: TokenSource;
  fetch?: typeof fetch;
  now?: () => number;
  /** Keys arrived, changed or went away: protected tabs re-ask. */
  onKeysChanged?: () => void;
}

const serviceId = (c: KeyServiceConfig) => JSON.stringify([c.url, c.issuer, c.clientId]);

/** "10:42" in the user's locale. */
function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export class KeyServiceSession {
  private state?: SessionState;
  private running?: Promise<void>;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly deps: SessionDeps) {
    this.fetch = deps.fetch ?? ((...a) => fetch(...a));
    this.now = deps.now ?? Date.now;
  }

  private get store() {
    return this.deps.keyring.store;
  }

  /** The remembered state for `cfg` (loaded once); another service's state is dropped. */
  async stateFor(cfg: KeyServiceConfig): Promise<SessionState> {
    if (!this.state) {
      const rec = await this.store.getMeta<{ id: 'keyservice'; state: unknown }>('keyservice');
      this.state = (rec?.state as SessionState | undefined) ?? { service: serviceId(cfg) };
    }
    if (this.state.service !== serviceId(cfg)) {
      await this.reset(cfg);
    }
    return this.state;
  }

  private async save(next: SessionState): Promise<void> {
    this.state = next;
    await this.store.putMeta({ id: 'keyservice', state: next });
  }

  /** Forgets the user, their tokens and their keys (the policy changed service, or dropped it). */
  async reset(cfg?: KeyServiceConfig): Promise<void> {
    await this.deps.tokens.forget();
    const dropped = await this.deps.keyring.clearServiceKeys();
    await this.save({ service: cfg ? serviceId(cfg) : '' });
    if (dropped) this.deps.onKeysChanged?.();
  }

  /** After the policy stopped naming a key service: forgets what an earlier one left, if anything. */
  async forgetIfAny(): Promise<void> {
    const rec = await this.store.getMeta<{ id: 'keyservice'; state: unknown }>('keyservice');
    if ((rec?.state as SessionState | undefined)?.service) await this.reset();
  }

  /**
   * Why a send cannot be encrypted with key service keys now, or undefined while the last release
   * is within its grace period. Fail closed: no release yet means blocked.
   */
  async block(cfg: KeyServiceConfig | undefined): Promise<Block | undefined> {
    if (!cfg) return undefined;
    const s = await this.stateFor(cfg);
    if (s.expiresAt !== undefined && s.expiresAt > this.now()) return undefined;
    if (s.failure === 'unreachable' && s.failingSince !== undefined)
      return { code: 'key-service', message: t('errKeyServiceUnreachable', clock(s.failingSince)) };
    // The service's own words stay out of the chat page (they go to Veil's options page only).
    if (s.failure === 'refused') return { code: 'key-service', message: t('errKeyServiceRefused') };
    return { code: 'sign-in', message: t('errKeyServiceSignIn') };
  }

  /** Fetches the keys now; one fetch at a time (a second caller waits for the running one). */
  refresh(cfg: KeyServiceConfig, interactive = false): Promise<void> {
    const run = (this.running ?? Promise.resolve()).then(() => this.fetchKeys(cfg, interactive));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async fail(cfg: KeyServiceConfig, failure: Failure, detail?: string): Promise<void> {
    console.warn('Veil: key service:', failure, detail ?? '');
    const s = await this.stateFor(cfg);
    const failingSince = s.failure ? (s.failingSince ?? this.now()) : this.now();
    await this.save({ ...s, failure, failingSince, triedAt: this.now(), detail });
  }

  private async fetchKeys(
    cfg: KeyServiceConfig,
    interactive: boolean,
    retried = false,
    signInAgain = false,
  ): Promise<void> {
    const device = await deviceKey(this.store, cfg.kem);
    const publicKey = base64urlnopad.encode(device.publicKey);
    let token: string | undefined;
    try {
      token = await this.deps.tokens.idToken(cfg, interactive, publicKey, signInAgain);
    } catch (e) {
      if (e instanceof UnreachableError) return this.fail(cfg, 'unreachable');
      return this.fail(cfg, 'sign-in', (e as Error).message);
    }
    if (!token) return this.fail(cfg, 'sign-in');
    const salt = await this.deps.tokens.deviceSalt?.(cfg);
    const known = (await this.deps.keyring.list()).filter((k) => k.source === 'keyservice').map((k) => k.id);
    let res: Response;
    try {
      res = await this.fetch(`${cfg.url}/v1/keys/release`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ device: { kem: cfg.kem, publicKey, ...(salt ? { salt } : {}) }, known }),
      });
    } catch {
      return this.fail(cfg, 'unreachable');
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (res.status === 401 && (body as { error?: unknown })?.error === 'stale_token') {
      // Another browser of this user showed a newer token, or this one is too old: a fresh one, once.
      if (!retried && !interactive) return this.fetchKeys(cfg, false, true);
      return this.fail(cfg, 'sign-in');
    }
    if (res.status === 401 && (body as { error?: unknown })?.error === 'device_unbound') {
      // This sign-in was made for another device key (the key pair was replaced, e.g. another KEM):
      // one silent sign-in for this key; if the identity provider wants the user, "Sign in".
      if (!retried && !interactive) return this.fetchKeys(cfg, false, true, true);
      return this.fail(cfg, 'sign-in');
    }
    if (res.status === 401) {
      // The token is no longer good (expired, or the account was disabled): sign in again.
      await this.deps.tokens.forget();
      return this.fail(cfg, 'sign-in');
    }
    if (res.status === 403 && (body as { error?: unknown })?.error === 'no_groups') {
      // An answer, not a failure: this user may hold no keys at all now.
      return this.accept(cfg, { subject: undefined, keys: [], grace: cfg.offlineGraceHours });
    }
    if (res.status >= 500 || (res.status !== 200 && res.status !== 400)) return this.fail(cfg, 'unreachable');
    if (res.status === 400) return this.fail(cfg, 'refused', String((body as { message?: unknown })?.message ?? ''));
    let release;
    try {
      release = await openRelease(body, device, subjectOf(token));
    } catch (e) {
      // Nothing of a release that does not open fully is stored; the last good keys stay until their grace ends.
      if (e instanceof ReleaseError) {
        console.warn('Veil: refused a key release:', e.message);
        return this.fail(cfg, 'refused', e.message);
      }
      throw e;
    }
    // The service may shorten the grace period the policy allows, never lengthen it.
    const grace = Math.min(cfg.offlineGraceHours, release.offlineGraceHours ?? Infinity);
    return this.accept(cfg, { subject: release.subject, keys: release.keys, grace });
  }

  private async accept(
    cfg: KeyServiceConfig,
    r: { subject: string | undefined; keys: KeyRecord[]; grace: number },
  ): Promise<void> {
    const now = this.now();
    const expiresAt = now + r.grace * 3_600_000;
    await this.deps.keyring.syncServiceKeys(r.keys, expiresAt);
    const s = await this.stateFor(cfg);
    await this.save({ service: s.service, subject: r.subject ?? s.subject, releasedAt: now, expiresAt });
    this.deps.onKeysChanged?.();
  }

  /** Deletes keys whose grace period ended (the alarm's other half); tabs hear of it. */
  async expire(): Promise<void> {
    if (await this.deps.keyring.dropExpiredServiceKeys(this.now())) this.deps.onKeysChanged?.();
  }
}
