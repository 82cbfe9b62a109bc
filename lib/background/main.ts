/** Background start-up: wire the router, the keyring and content-script registration. */
import browser, { type Runtime } from 'webextension-polyfill';
import { KeyStore } from '../keys/store';
import { installAutoLock, noteKeyringUse, sessionLockCache } from './autolock';
import { Keyring } from './keyring';
import { onPolicyChange, policy, startPolicySource } from './policy-source';
import { syncContentScripts } from './registration';
import { route } from './router';

export function startBackground(): void {
  const keyring = new Keyring(new KeyStore(), sessionLockCache, noteKeyringUse);
  installAutoLock(keyring);
  // Returning a promise from onMessage is how the polyfill answers asynchronously.
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => route(message, sender, keyring));
  const sync = () => syncContentScripts(policy()).catch((e) => console.error('Veil: content script registration failed', e));
  // Policy keys first, in the same tick as the policy switch (listeners run in order).
  onPolicyChange((p, keys) => keyring.syncPolicyKeys(keys, p.allowKeyExport));
  onPolicyChange(sync);
  void startPolicySource();
  browser.runtime.onInstalled.addListener(sync);
  browser.runtime.onStartup.addListener(sync);
  void sync();
}
