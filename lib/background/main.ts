/** Background start-up: wire the router, the keyring and content-script registration. */
import browser, { type Runtime } from 'webextension-polyfill';
import { KeyStore } from './keys/store';
import { installAutoLock, noteKeyringUse, sessionLockCache } from './autolock';
import { Keyring } from './keyring';
import { installOnboarding } from './onboarding';
import { afterRequest, keyringLocked, notifyOnPolicyChange } from './notify';
import { onPolicyChange, policy, startPolicySource } from './policy-source';
import { syncContentScripts } from './registration';
import { route } from './router';

export function startBackground(): void {
  const keyring = new Keyring(new KeyStore(), sessionLockCache, noteKeyringUse);
  installAutoLock(keyring, keyringLocked);
  // Returning a promise from onMessage is how the polyfill answers asynchronously.
  // Open protected tabs hear about keyring changes, so they recover without a reload (issue #8).
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) =>
    route(message, sender, keyring).then((res) => {
      afterRequest(message, res);
      return res;
    }),
  );
  const sync = () =>
    syncContentScripts(policy()).catch((e) => console.error('Veil: content script registration failed', e));
  // Policy keys first, in the same tick as the policy switch (listeners run in order).
  onPolicyChange((p, keys) => keyring.syncPolicyKeys(keys, p.allowKeyExport));
  onPolicyChange(sync);
  notifyOnPolicyChange();
  void startPolicySource();
  browser.runtime.onInstalled.addListener(sync);
  installOnboarding(); // first run: a short welcome for unmanaged installs (issue #9)
  browser.runtime.onStartup.addListener(sync);
  void sync();
}
