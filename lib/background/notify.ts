/**
 * Tells the content scripts of protected tabs that the keyring or the policy changed,
 * so an open chat recovers without a reload: messages shown as "🔒 Veil is locked" or
 * "🔑 Unknown key" decrypt once the user unlocks or imports the key, a revoked key's messages get
 * their badge, and a page whose policy turned invalid blocks sending at once.
 *
 * The notice carries no key, no plaintext and no policy: only what kind of change happened and
 * which key ids changed status. Content scripts treat it as a hint to ask again, through the same
 * checked requests as always (lib/page/page-changes.ts).
 */
import browser from 'webextension-polyfill';
import { isEnvelope, type MessageType, type Res, type VeilNotice } from '../messaging/protocol';
import { siteForUrl, type Policy } from '../policy/policy';
import { onPolicyChange, policy } from './policy-source';

/** Requests from Veil's own pages that change what decrypts, or how. */
const KEYRING_CHANGES: Partial<Record<MessageType, VeilNotice['reason']>> = {
  'keys/unlock': 'unlock',
  'keys/lock': 'lock',
  'keys/import': 'import',
  'keys/generate': 'generate',
  'keys/rotate': 'rotate',
  'keys/set-status': 'status',
  'keys/set-passphrase': 'passphrase',
};

/** Where the last policy seen lives across service-worker restarts (memory only), to notice real changes. */
const POLICY_SEEN = 'veil.policySeen';

/** Sends `notice` to every tab the policy in force (or one of `alsoUnder`) protects. Never throws. */
export async function notifyProtectedTabs(notice: VeilNotice, alsoUnder: Policy[] = []): Promise<void> {
  try {
    const policies = [policy(), ...alsoUnder];
    const tabs = await browser.tabs.query({});
    await Promise.all(
      tabs.map(async (tab) => {
        if (tab.id === undefined || !tab.url || !policies.some((p) => siteForUrl(p, tab.url!))) return;
        // A tab without Veil's content script (still loading, or opened before install) has no receiver.
        await browser.tabs.sendMessage(tab.id, notice, { frameId: 0 }).catch(() => undefined);
      }),
    );
  } catch (e) {
    console.warn('Veil: could not notify protected tabs', e);
  }
}

/** Called with every request the router answered: a successful keyring change notifies the tabs. */
export function afterRequest(message: unknown, res: Res<MessageType>): void {
  if (!res.ok || !isEnvelope(message)) return;
  const reason = KEYRING_CHANGES[message.type];
  if (!reason) return;
  const id = (message.req as { id?: unknown }).id;
  const keyIds = (reason === 'rotate' || reason === 'status') && typeof id === 'string' ? [id] : undefined;
  void notifyProtectedTabs({ veilNotice: 1, type: 'keyring/changed', reason, ...(keyIds ? { keyIds } : {}) });
}

/** The auto-lock closed the keyring. */
export function keyringLocked(): void {
  void notifyProtectedTabs({ veilNotice: 1, type: 'keyring/changed', reason: 'lock' });
}

/**
 * Every policy change (keys arriving, the policy turning invalid or going away) notifies the tabs
 * protected before or after it. A service worker that merely restarted reads the same policy
 * again: that is no change, and idle tabs are not woken for it.
 */
export function notifyOnPolicyChange(): void {
  onPolicyChange(
    (p, keys) =>
      void policyChanged(
        p,
        keys.map((k) => k.id),
      ),
  );
}

async function policyChanged(p: Policy, keyIds: string[]): Promise<void> {
  // The keys in memory count too: a start puts the remembered policy in force without its keys,
  // and the same policy delivered seconds later brings them (open pages can then encrypt).
  const seen = JSON.stringify({ ...p, loadedKeyIds: keyIds });
  let before: string | undefined;
  try {
    before = (await browser.storage.session.get(POLICY_SEEN))[POLICY_SEEN] as string | undefined;
    if (before === seen) return;
    await browser.storage.session.set({ [POLICY_SEEN]: seen });
  } catch {
    // No session storage: notify anyway (a spare notice only makes pages ask again).
  }
  let previous: Policy | undefined;
  try {
    previous = before ? (JSON.parse(before) as Policy) : undefined;
  } catch {
    previous = undefined;
  }
  await notifyProtectedTabs({ veilNotice: 1, type: 'keyring/changed', reason: 'policy' }, previous ? [previous] : []);
}
