/**
 * Wires the key service session into the background: follows the policy (a `keyService` setting
 * starts it, another service or none forgets the user and their keys), refreshes on an alarm
 * every `refreshMinutes` (MV3 workers sleep; timers would not fire), deletes keys when their
 * grace period ends, and answers "may this send go out?" and "sign me in". Background only.
 */
import browser from 'webextension-polyfill';
import type { KeyInfo } from '../../keys/model';
import type { KeyServiceView } from '../../messaging/protocol';
import type { Policy } from '../../policy/policy';
import type { Keyring } from '../keyring';
import { onPolicyChange, policy, policyReady } from '../policy-source';
import { OidcTokens } from './oidc';
import { type Block, KeyServiceSession } from './session';

const REFRESH_ALARM = 'veil-keyservice-refresh';
const EXPIRY_ALARM = 'veil-keyservice-expiry';

let session: KeyServiceSession | undefined;
let ring: Keyring | undefined;
let signingIn: Promise<Block | undefined> | undefined;

async function armExpiry(): Promise<void> {
  const cfg = policy().keyService;
  if (!session || !cfg) return;
  const { expiresAt } = await session.stateFor(cfg);
  if (expiresAt !== undefined)
    await browser.alarms.create(EXPIRY_ALARM, { when: Math.max(expiresAt, Date.now() + 1000) });
}

/** Brings the session in line with the policy in force; refreshes when the last release is due. */
async function follow(p: Policy): Promise<void> {
  if (!session) return;
  const cfg = p.keyService;
  if (!cfg) {
    await browser.alarms.clear(REFRESH_ALARM);
    await session.forgetIfAny();
    return;
  }
  const have = await browser.alarms.get(REFRESH_ALARM);
  if (have?.periodInMinutes !== cfg.refreshMinutes)
    await browser.alarms.create(REFRESH_ALARM, { periodInMinutes: cfg.refreshMinutes });
  await session.expire();
  const s = await session.stateFor(cfg);
  // A worker restart (frequent in MV3) is no reason to ask again: only a due refresh is, or keys
  // past their grace period that nobody tried to renew since. The alarm retries failures.
  const now = Date.now();
  const due = now - Math.max(s.releasedAt ?? 0, s.triedAt ?? 0) >= cfg.refreshMinutes * 60_000;
  const expiredUntried = s.expiresAt !== undefined && s.expiresAt <= now && (s.triedAt ?? 0) < s.expiresAt;
  if (due || expiredUntried) await session.refresh(cfg);
}

export function installKeyService(keyring: Keyring, onKeysChanged: () => void): void {
  ring = keyring;
  session = new KeyServiceSession({
    keyring,
    tokens: new OidcTokens(keyring.store),
    onKeysChanged: () => {
      onKeysChanged();
      void armExpiry().catch(() => undefined);
    },
  });
  const s = session;
  browser.alarms.onAlarm.addListener((alarm) => {
    const cfg = policy().keyService;
    // At the end of the grace period, one last try before the keys go.
    if (alarm.name === EXPIRY_ALARM) void (cfg ? s.refresh(cfg) : Promise.resolve()).then(() => s.expire());
    if (alarm.name === REFRESH_ALARM && cfg) void s.refresh(cfg).then(() => s.expire());
  });
  onPolicyChange((p) => void follow(p).catch((e) => console.warn('Veil: key service', e)));
  void policyReady()
    .then(() => follow(policy()))
    .catch((e) => console.warn('Veil: key service', e));
}

/**
 * Why a send that would use `key` cannot go out because of the key service: only while the policy
 * names one, it has no valid release, and no other key (policy, the user's own) covers the chat.
 */
export async function keyServiceBlock(key: KeyInfo | undefined): Promise<Block | undefined> {
  if (!session || (key && key.source !== 'keyservice')) return undefined;
  return session.block(policy().keyService);
}

/** The user clicked "Sign in to Veil": the identity window, then a release. One at a time. */
export function signIn(): Promise<Block | undefined> {
  const cfg = policy().keyService;
  if (!session || !cfg) return Promise.resolve(undefined);
  const s = session;
  signingIn ??= s
    .refresh(cfg, true)
    .then(() => s.block(cfg))
    .finally(() => (signingIn = undefined));
  return signingIn;
}

/** What the options page shows: who is signed in, how fresh the keys are, what blocks sends. */
export async function keyServiceView(): Promise<KeyServiceView> {
  const cfg = policy().keyService;
  if (!session || !ring || !cfg) return { keys: 0 };
  const s = await session.stateFor(cfg);
  const keys = (await ring.list()).filter((k) => k.source === 'keyservice').length;
  const blocked = await session.block(cfg);
  return {
    service: cfg.url,
    keys,
    ...(s.subject ? { subject: s.subject } : {}),
    ...(s.releasedAt !== undefined ? { releasedAt: s.releasedAt } : {}),
    ...(s.expiresAt !== undefined ? { expiresAt: s.expiresAt } : {}),
    ...(blocked ? { blocked: blocked.message } : {}),
    ...(blocked && s.detail ? { detail: s.detail.slice(0, 500) } : {}),
  };
}

/** "Refresh keys now" in the options page: a silent fetch, as the alarm would do, but now. */
export async function refreshNow(): Promise<void> {
  const cfg = policy().keyService;
  if (!session || !cfg) return;
  await session.refresh(cfg);
  await session.expire();
}
