/**
 * Where the policy in force comes from: enterprise managed storage (Chrome/Edge policy, Firefox
 * 3rdparty policy or managed-storage manifest), read defensively like uBlock Origin's adminStorage,
 * and re-read whenever the browser reports a change. Chrome delivers policy 2-5 s after start-up,
 * so a first empty read is not the final word: `storage.onChanged` (area "managed") brings it.
 * Holds the policy's key secrets in memory only; they reach the keyring through listeners.
 */
import browser from 'webextension-polyfill';
import type { KeyRecord } from '../keys/model';
import { failClosed, parseManagedPolicy } from '../policy/parse';
import { DEFAULT_POLICY, type Policy } from '../policy/policy';

let current: Policy = DEFAULT_POLICY;
let currentKeys: KeyRecord[] = [];
let ready: Promise<void> = Promise.resolve();
let generation = 0;
const listeners = new Set<(p: Policy, keys: KeyRecord[]) => void>();

export function policy(): Policy {
  return current;
}

/** Resolves once the first read of managed storage is done (requests wait for it after a restart). */
export function policyReady(): Promise<void> {
  return ready;
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

async function load(): Promise<void> {
  const mine = ++generation;
  let parsed;
  try {
    parsed = parseManagedPolicy(await readManaged());
  } catch (e) {
    parsed = failClosed(undefined, [{ path: '', message: (e as Error).message }]);
  }
  if (mine !== generation) return; // a newer read started meanwhile; it decides
  if (parsed.policy.errors.length)
    console.warn('Veil: the enterprise policy is invalid; protected sites fail closed', parsed.policy.errors);
  setPolicy(parsed.policy, parsed.keys);
}

export function startPolicySource(): Promise<void> {
  browser.storage.onChanged.addListener((_changes, area) => {
    if (area === 'managed') ready = load();
  });
  ready = load();
  return ready;
}
