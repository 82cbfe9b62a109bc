/**
 * The content script on a protected chat: guards sends from the first moment, asks the
 * background what this site is, then hooks the composer and the message list.
 * Sees plaintext (inline mode) and ciphertext; never keys.
 */
import { adapterFromSpec, InvalidCustomAdapterError } from '../adapters/custom';
import { builtinAdapter } from '../adapters/registry';
import { queryFirst, type SiteAdapter } from '../adapters/types';
import { request } from '../messaging/client';
import { HOST_COMPOSER_BLOCKED, IsolatedPage } from '../isolated/host/isolated-page';
import { ComposerStatus } from './composer-status';
import { MessageRenderer } from './renderer';
import { SendGuard } from './send-guard';
import { injectStyles } from './styles';

export async function runContentScript(): Promise<void> {
  const status = new ComposerStatus(document);
  const guard = new SendGuard(window, status);
  guard.install(); // before anything async: no send slips through while Veil starts

  const site = await request('site/status', {});
  if (!site.ok) {
    guard.block(`Veil could not start on this protected site (${site.error.message}), so sending is blocked.`);
    whenReady(() => attachStatus(status, undefined, 'error', 'Veil could not start; sending is blocked.'));
    return;
  }
  if (!site.protected) {
    guard.disarm();
    return;
  }
  // Enterprise policy problems fail closed: the site stays guarded, nothing is sent (issue #4).
  const refusal = site.policyError;
  if (refusal) {
    guard.block(refusal);
    whenReady(() => attachStatus(status, undefined, 'error', refusal));
    return;
  }
  let adapter: SiteAdapter | undefined;
  if (site.adapterId === 'custom') {
    // The admin's declaration from policy: validated here too, and any problem blocks sending.
    try {
      adapter = adapterFromSpec(site.customAdapter);
    } catch (e) {
      const why = e instanceof InvalidCustomAdapterError ? e.errors.join('; ') : String(e);
      const text = `Veil's custom adapter for this site is invalid (${why}), so sending is blocked. Tell your IT admin.`;
      guard.block(text);
      whenReady(() => attachStatus(status, undefined, 'error', text));
      return;
    }
  } else {
    adapter = site.adapterId ? builtinAdapter(site.adapterId) : undefined;
  }
  if (!adapter) {
    guard.block(`Veil has no adapter "${site.adapterId}" for this site, so sending is blocked. Tell your IT admin.`);
    return;
  }
  const armed = adapter;
  if (site.mode === 'isolated') {
    // Isolated mode (issue #6): typing and reading happen in Veil's own frames; this side only
    // ever handles envelopes. The chat's own composer is blocked from sending at once.
    guard.isolate(adapter, HOST_COMPOSER_BLOCKED);
    whenReady(() => new IsolatedPage(document, armed, guard, status, { flagUnencrypted: site.flagUnencrypted ?? true }).start());
    return;
  }
  guard.arm(adapter, { allowPlaintext: !site.requireEncryption });
  whenReady(() => {
    injectStyles(document);
    new MessageRenderer(document, armed, async (conversationId, items) => {
      const res = await request('decrypt', { conversationId, items });
      return res.ok ? res.items : { error: res.error.message };
    }, {
      flagUnencrypted: site.flagUnencrypted ?? true,
      // Say which key protects the conversation whenever it (or the composer) appears or changes.
      onContext: () => void describeKey(armed, status),
    }).start();
  });
}

function whenReady(fn: () => void): void {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn, { once: true });
  else fn();
}

function attachStatus(status: ComposerStatus, adapter: SiteAdapter | undefined, state: 'ready' | 'error', text: string): void {
  const composer = adapter ? queryFirst<HTMLElement>(document, adapter.selectors.composer) : document.querySelector('textarea, [contenteditable="true"]');
  if (!composer) return;
  status.attach(composer as HTMLElement);
  status.show(state, text);
}

/** Tells the user, before they type, whether and with which key this conversation is encrypted. */
async function describeKey(adapter: SiteAdapter, status: ComposerStatus): Promise<void> {
  const conversationId = adapter.conversationId(document);
  if (!conversationId) return;
  const res = await request('encrypt/preview', { conversationId });
  if (adapter.conversationId(document) !== conversationId) return; // switched meanwhile; a newer call answers
  if (!res.ok) return attachStatus(status, adapter, 'error', `Veil: ${res.error.message}`);
  if (!res.key) {
    return attachStatus(status, adapter, 'error',
      'No Veil key covers this conversation: messages cannot be sent until you import a key or IT provides one.');
  }
  attachStatus(status, adapter, 'ready', `🔒 Messages here are end-to-end encrypted with “${res.key.label}” (${res.key.fingerprint}).`);
}
