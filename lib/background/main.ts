/** Background start-up: wire the router, the keyring and content-script registration. */
import browser, { type Runtime } from 'webextension-polyfill';
import { Keyring } from './keyring';
import { onPolicyChange, policy } from './policy-source';
import { syncContentScripts } from './registration';
import { route } from './router';

export function startBackground(): void {
  const keyring = new Keyring();
  // Returning a promise from onMessage is how the polyfill answers asynchronously.
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => route(message, sender, keyring));
  const sync = () => syncContentScripts(policy()).catch((e) => console.error('Veil: content script registration failed', e));
  onPolicyChange(sync);
  browser.runtime.onInstalled.addListener(sync);
  browser.runtime.onStartup.addListener(sync);
  void sync();
}
