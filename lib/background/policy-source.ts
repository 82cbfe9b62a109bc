/**
 * Where the policy in force comes from: enterprise managed storage (Chrome/Edge policy, Firefox
 * 3rdparty policy or managed-storage manifest), read defensively like uBlock Origin's adminStorage,
 * and re-read whenever the browser reports a change; on unmanaged installs, the chats the user
 * chose to protect.
 *
 * Chrome delivers policy 2-5 s after the browser starts, and a service worker restarts at any
 * time, so "what managed storage says right now" is not safe to act on alone: the last applied
 * managed policy (its non-secret part: sites, modes, rules, problems; never keys) is kept in
 * storage.local and is in force from the first instant of every start. An empty read at start
 * does not undo it; only a change the browser reports while running, or managed storage staying
 * empty for REMOVAL_GRACE_MS of one browser session, means the policy was removed.
 * An invalid policy never loosens anything: the last valid policy stays in force (its keys only
 * while still in memory), or, with none ever seen, Veil fails closed (lib/policy/parse.ts).
 * Holds the policy's key secrets in memory only; they reach the keyring through listeners.
 */
import browser from 'webextension-polyfill';
import type { KeyRecord } from '../keys/model';
import { isValidPattern } from '../policy/match-pattern';
import { failClosed, parseManagedPolicy, type ParsedPolicy } from '../policy/parse';
import { DEFAULT_POLICY, type Policy, type ProtectedSite } from '../policy/policy';
import { validUserSites } from '../policy/user-sites';

/** How long managed storage may stay empty in one browser session before a remembered policy is dropped. */
export const REMOVAL_GRACE_MS = 30_000;

/** storage.local: the last applied and the last valid managed policy (non-secret parts). */
const REMEMBERED = 'veil.policyRemembered';
/** storage.local: the user's protected chats (unmanaged installs). */
const USER_SITES = 'veil.userSites';
/** storage.session: when this browser session first read an empty managed storage. */
const EMPTY_SINCE = 'veil.managedEmptySince';

interface Remembered {
  applied?: Policy;
  lastValid?: Policy;
}

let current: Policy = DEFAULT_POLICY;
let currentKeys: KeyRecord[] = [];
let remembered: Remembered = {};
let userSites: ProtectedSite[] = [];
let restored: Promise<void> | undefined;
let ready: Promise<void> = Promise.resolve();
let generation = 0;
let graceTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<(p: Policy, keys: KeyRecord[]) => void>();

export function policy(): Policy {
  return current;
}

/** Resolves once the policy in force is known (requests wait for it after every start). */
export function policyReady(): Promise<void> {
  return ready;
}

/**
 * Resolves once the policy remembered from the last start is in force: enough to know which open
 * tabs need Veil, without waiting for managed storage (slow while the browser starts).
 */
export function policyRestored(): Promise<void> {
  return restore();
}

/** Listeners run synchronously on every change, so no request sees a policy without its keys. */
export function onPolicyChange(fn: (p: Policy, keys: KeyRecord[]) => void): void {
  listeners.add(fn);
}

export function setPolicy(p: Policy, keys: KeyRecord[] = []): void {
  current = p;
  currentKeys = keys;
  for (const fn of listeners) {
    try {
      fn(p, keys);
    } catch (e) {
      console.error('Veil: policy listener failed', e);
    }
  }
}

export function policyKeys(): KeyRecord[] {
  return currentKeys;
}

/** The user's own protected chats (used only while no enterprise policy is in force). */
export function userSiteList(): ProtectedSite[] {
  return userSites;
}

export async function setUserSites(list: ProtectedSite[]): Promise<void> {
  await restore();
  userSites = validUserSites(list);
  await browser.storage.local.set({ [USER_SITES]: userSites });
  if (!current.managed) setPolicy(unmanaged(), currentKeys);
}

function unmanaged(): Policy {
  return { ...DEFAULT_POLICY, protectedSites: userSites };
}

/** Firefox (no managed-storage manifest) and Safari have no managed policy: that is "unmanaged". */
function isUnmanagedError(message: string): boolean {
  return /managed storage manifest not found|not supported|no managed storage/i.test(message);
}

async function readManaged(): Promise<unknown> {
  const managed = (browser.storage as { managed?: typeof browser.storage.local } | undefined)?.managed;
  if (!managed) return undefined;
  try {
    return await managed.get(null);
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    if (isUnmanagedError(message)) return undefined;
    // Something is configured but unreadable: treat it as an invalid policy (fail closed).
    throw new Error(`Veil could not read the enterprise policy (${message})`, { cause: e });
  }
}

function isEmpty(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'object' && Object.keys(raw as object).length === 0);
}

/** What storage.local remembers is checked again before use: a bad entry is ignored, not trusted. */
function rememberedPolicy(v: unknown): Policy | undefined {
  const p = v as Policy | undefined;
  if (!p || typeof p !== 'object' || p.managed !== true || !Array.isArray(p.protectedSites)) return undefined;
  const sitesOk = p.protectedSites.every(
    (s) => typeof s?.adapter === 'string' && Array.isArray(s.matches) && s.matches.every(isValidPattern),
  );
  return sitesOk && Array.isArray(p.errors) && Array.isArray(p.policyKeyIds) ? p : undefined;
}

/** Reads what the last start left behind and puts it in force at once, quietly. Runs once. */
function restore(): Promise<void> {
  restored ??= (async () => {
    const got = (await browser.storage.local.get([REMEMBERED, USER_SITES]).catch(() => ({}))) as Record<
      string,
      unknown
    >;
    const r = (got[REMEMBERED] ?? {}) as Remembered;
    remembered = { applied: rememberedPolicy(r.applied), lastValid: rememberedPolicy(r.lastValid) };
    userSites = validUserSites(got[USER_SITES]);
    // In force at once, but not announced: the worker merely restarted, nothing changed (yet).
    current = remembered.applied ?? unmanaged();
  })();
  return restored;
}

async function remember(next: Remembered): Promise<void> {
  remembered = next;
  await browser.storage.local
    .set({ [REMEMBERED]: next })
    .catch((e) => console.warn('Veil: could not remember the policy', e));
}

/** True once managed storage has been empty for REMOVAL_GRACE_MS of this browser session. */
async function emptyLongEnough(): Promise<boolean> {
  const session = browser.storage.session;
  const now = Date.now();
  try {
    const since = (await session.get(EMPTY_SINCE))[EMPTY_SINCE] as number | undefined;
    if (typeof since === 'number' && since <= now) return now - since >= REMOVAL_GRACE_MS;
    await session.set({ [EMPTY_SINCE]: now });
  } catch {
    // No session storage: only the timer below decides.
  }
  return false;
}

type Trigger = 'start' | 'change' | 'grace';

/** The policy in force when managed storage holds `raw` (or could not be read). */
async function decide(raw: unknown, readError: Error | undefined, trigger: Trigger): Promise<ParsedPolicy | 'keep'> {
  if (!readError && isEmpty(raw)) {
    if (!remembered.applied) return { policy: unmanaged(), keys: [] };
    // Empty at start is "not delivered yet" until the browser reports a change or the grace ends.
    const removed = trigger !== 'start' || (await emptyLongEnough());
    if (!removed) {
      clearTimeout(graceTimer);
      graceTimer = setTimeout(() => (ready = load('grace')), REMOVAL_GRACE_MS);
      return 'keep';
    }
    await remember({});
    return { policy: unmanaged(), keys: [] };
  }
  await browser.storage.session?.remove(EMPTY_SINCE).catch(() => undefined);
  const parsed = readError
    ? failClosed(undefined, [{ path: '', message: readError.message }])
    : parseManagedPolicy(raw);
  if (!parsed.policy.errors.length) {
    await remember({ applied: parsed.policy, lastValid: parsed.policy });
    return parsed;
  }
  console.warn('Veil: the enterprise policy is invalid; see the options page', parsed.policy.errors);
  if (remembered.lastValid) {
    // Keep enforcing the last valid policy; its keys stay only while they are still in memory.
    const p: Policy = { ...remembered.lastValid, errors: parsed.policy.errors, fallback: 'last-valid' };
    await remember({ applied: p, lastValid: remembered.lastValid });
    return { policy: p, keys: currentKeys };
  }
  await remember({ applied: parsed.policy });
  return parsed;
}

async function load(trigger: Trigger): Promise<void> {
  await restore();
  const mine = ++generation;
  let raw: unknown;
  let readError: Error | undefined;
  try {
    raw = await readManaged();
  } catch (e) {
    readError = e as Error;
  }
  if (mine !== generation) return; // a newer read started meanwhile; it decides
  const next = await decide(raw, readError, trigger);
  if (mine !== generation || next === 'keep') return;
  setPolicy(next.policy, next.keys);
}

export function startPolicySource(): Promise<void> {
  browser.storage.onChanged.addListener((_changes, area) => {
    if (area === 'managed') ready = load('change');
  });
  ready = load('start');
  return ready;
}
