/** Background start-up: wire the router, the keyring and content-script registration. */
import browser, { type Runtime } from 'webextension-polyfill';
import { KeyStore } from './keys/store';
import { installAutoLock, noteKeyringUse, sessionLockCache } from './autolock';
import { Keyring } from './keyring';
import { installOnboarding } from './onboarding';
import { installKeyService } from './keyservice';
import { afterRequest, keyringLocked, notifyOnPolicyChange, notifyProtectedTabs } from './notify';
import { onPolicyChange, policy, policyReady, policyRestored, startPolicySource } from './policy-source';
import { protectOpenTabs, syncContentScripts } from './registration';
import { route } from './router';
import { installSearch, reconcileSearch, wipeSearch } from './search/service';
import { isEnvelope, type MessageType, type Res } from '../messaging/protocol';
import { REQUEST_PORT } from '../messaging/client';

export function startBackground(): void {
  const keyring = new Keyring(new KeyStore(), sessionLockCache, noteKeyringUse);
  installSearch(keyring);
  // Local search: erased on lock; checked after every keyring change (a revoked or removed key's messages go).
  installAutoLock(keyring, () => {
    keyringLocked();
    void wipeSearch();
  });
  const afterSearch = (message: unknown) => {
    if (!isEnvelope(message) || !message.type.startsWith('keys/')) return;
    void (message.type === 'keys/lock' ? wipeSearch() : reconcileSearch(keyring));
  };
  // Returning a promise from onMessage is how the polyfill answers asynchronously.
  // Open protected tabs hear about keyring changes, so they recover without a reload.
  // Every request gets an answer, a failure too: a silent port would leave the page waiting.
  const answer = (message: unknown, sender: Runtime.MessageSender): Promise<Res<MessageType>> =>
    route(message, sender, keyring)
      .catch((e: unknown): Res<MessageType> => internalError(e))
      .then((res) => {
        try {
          afterRequest(message, res);
          if (res.ok) afterSearch(message);
        } catch (e) {
          console.error('Veil: after a request', e); // the request itself is done
        }
        return res;
      });
  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => answer(message, sender));
  // The same requests over a content script's long-lived port (lib/messaging/client.ts): the same
  // router, so the same caller checks, with the port's sender standing for the message's.
  browser.runtime.onConnect.addListener((port) => {
    if (port.name !== REQUEST_PORT || !port.sender) return;
    const sender = port.sender;
    port.onMessage.addListener((m: unknown) => {
      const { rid, message } = (m ?? {}) as { rid?: unknown; message?: unknown };
      if (typeof rid !== 'number') return;
      // Received: the page now waits for the answer instead of asking again on a fresh port.
      try {
        port.postMessage({ rid, ack: 1 });
      } catch {
        return; // the page went away
      }
      void answer(message, sender).then((res) => {
        try {
          port.postMessage({ rid, res });
        } catch {
          /* the page went away: nobody waits for the answer */
        }
      });
    });
  });
  // Never from the defaults a fresh worker starts with: only once the policy in force is known
  // (the one remembered from the last start, at the latest), so a restart never unprotects a chat.
  const sync = () =>
    policyReady()
      .then(() => syncContentScripts(policy()))
      .catch((e) => console.error('Veil: content script registration failed', e));
  // Policy keys first, in the same tick as the policy switch (listeners run in order).
  onPolicyChange((p, keys) => keyring.syncPolicyKeys(keys, p.allowKeyExport));
  onPolicyChange(() => void reconcileSearch(keyring));
  onPolicyChange((p) => {
    syncContentScripts(p).catch((e) => console.error('Veil: registration failed', e));
    void protectOpenTabs(p).catch(() => undefined);
  });
  // A protected page that loads while the browser has not applied the registration yet (start-up).
  browser.tabs.onUpdated.addListener((tabId, change) => {
    if (change.status === 'loading' || change.status === 'complete')
      void policyRestored().then(() => protectOpenTabs(policy(), tabId).catch(() => undefined));
  });
  notifyOnPolicyChange();
  // Keys from Veil's key service (policy `keyService`): open chats re-ask when they arrive or go.
  installKeyService(keyring, () => {
    void reconcileSearch(keyring);
    void notifyProtectedTabs({ veilNotice: 1, type: 'keyring/changed', reason: 'import' });
  });
  void startPolicySource(); // the remembered policy is in force from the start
  browser.runtime.onInstalled.addListener(sync);
  installOnboarding(); // first run: a short welcome for unmanaged installs
  browser.runtime.onStartup.addListener(sync);
  // Every start: tabs the browser restored (or that loaded while no worker ran) get Veil now.
  void policyRestored().then(() => protectOpenTabs(policy()).catch(() => undefined));
}

function internalError(e: unknown): Res<MessageType> {
  return { ok: false, error: { code: 'internal', message: (e as Error)?.message ?? String(e) } };
}
