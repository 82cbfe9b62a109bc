/**
 * Keeps an unlocked passphrase lock open across MV3 service-worker restarts, and closes it after
 * a period of no use. The lock key lives in `storage.session` (memory only, never on disk, not
 * readable by content scripts) and the idle timer is one alarm re-armed on user actions only
 * (unlock, a send, Veil's own pages): decrypts do not count, since the chat's page triggers them
 * and an open chat would otherwise keep the keyring unlocked for ever. No polling.
 */
import browser from 'webextension-polyfill';
import { base64 } from '@scure/base';
import type { Keyring, LockCache } from './keyring';

const SESSION_KEY = 'veil.lockKey';
const ALARM = 'veil-autolock';
export const AUTO_LOCK_MINUTES = 15;
/** Re-arming the alarm on every keystroke-driven request would be wasteful; once a minute is precise enough. */
const REARM_EVERY_MS = 60_000;

export const sessionLockCache: LockCache = {
  async get() {
    const v = (await browser.storage.session.get(SESSION_KEY))[SESSION_KEY];
    return typeof v === 'string' ? base64.decode(v) : undefined;
  },
  async set(key) {
    if (key) await browser.storage.session.set({ [SESSION_KEY]: base64.encode(key) });
    else await browser.storage.session.remove(SESSION_KEY);
  },
};

let lastArmed = 0;

export function noteKeyringUse(): void {
  const now = Date.now();
  if (now - lastArmed < REARM_EVERY_MS) return;
  lastArmed = now;
  void browser.alarms.create(ALARM, { delayInMinutes: AUTO_LOCK_MINUTES });
}

/** `onLocked`: after an automatic lock (open tabs are told). */
export function installAutoLock(keyring: Keyring, onLocked: () => void = () => undefined): void {
  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === ALARM) void keyring.lock().then(onLocked);
  });
}
