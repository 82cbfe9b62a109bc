/**
 * An open protected page follows keyring and policy changes without a reload.
 *
 * The background notifies (lib/background/notify.ts); this side accepts a notice only from the
 * background itself (Veil's own id, no tab: no page and no other tab can send one) and never
 * trusts its contents beyond "ask again": the keyring answers through the usual checked requests.
 *
 * - keyring changed (unlock, import, rotate, revoke, policy keys): the renderer decrypts again
 *   what was locked, under an unknown key or a revoked key, and the composer line is refreshed.
 * - policy changed: the site's status is asked again. An invalid policy blocks sending at once,
 *   with its reason. Any other change to how this page is protected (adapter, mode, no longer
 *   protected) also blocks sending and asks for a reload: the page was set up for the old policy,
 *   and a security product does not guess. A change that keeps adapter and mode re-arms the guard
 *   with the new requireEncryption.
 */
import browser from 'webextension-polyfill';
import { isShowMessageNotice, isVeilNotice, type SiteStatus, type VeilNotice } from '../messaging/protocol';
import { request } from '../messaging/client';
import { t } from '../i18n';
import type { SiteAdapter } from '../adapters/types';
import type { SendGuard } from './send-guard';
import type { AttachmentGuard } from './attachments';

/** Listens for the background's notices; `fn` runs for each valid one. */
export function onVeilNotice(fn: (n: VeilNotice) => void): void {
  browser.runtime.onMessage.addListener((message: unknown, sender: { id?: string; tab?: unknown }) => {
    if (sender.id !== browser.runtime.id || sender.tab || !isVeilNotice(message)) return undefined;
    fn(message);
    return undefined;
  });
}

/**
 * The background asks this page to show a message the user opened from search; `fn` answers
 * whether this page takes it (it then brings the message into view, or says it is not loaded).
 */
export function onShowMessage(fn: (messageId: string) => boolean): void {
  browser.runtime.onMessage.addListener((message: unknown, sender: { id?: string; tab?: unknown }) => {
    if (sender.id !== browser.runtime.id || sender.tab || !isShowMessageNotice(message)) return undefined;
    return Promise.resolve({ taken: fn(message.messageId) });
  });
}

export interface PageChangeHooks {
  /** Shows an error under the composer (sending is blocked). */
  showError(text: string): void;
  /** Re-render what may decrypt now and re-describe the composer's key. */
  keyringChanged?(notice: VeilNotice): void;
}

export class PageChanges {
  /** The adapter the guard is armed with (inline mode only); unset while the page is blocked for good. */
  adapter?: SiteAdapter;
  /** Attachments follow the policy too (lib/page/attachments.ts). */
  files?: AttachmentGuard;
  /** True while this object blocked sending because of the policy. */
  private blockedByPolicy = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly started: SiteStatus,
    private readonly guard: SendGuard,
    readonly hooks: PageChangeHooks,
  ) {}

  /** Notices are handled one at a time, in order: a policy flip-flop ends in the last state. */
  handle(notice: VeilNotice): Promise<void> {
    this.queue = this.queue
      .then(() => this.apply(notice))
      .catch((e) => console.warn('Veil: could not apply a change', e));
    return this.queue;
  }

  private async apply(notice: VeilNotice): Promise<void> {
    if (notice.reason === 'policy' && !(await this.policyChanged())) return;
    this.hooks.keyringChanged?.(notice);
  }

  /** Returns false when the page is blocked now (nothing to re-render). */
  private async policyChanged(): Promise<boolean> {
    const now = await request('site/status', {});
    // Background unreachable: every send fails closed there anyway; the next notice retries.
    if (!now.ok) return false;
    if (now.protected && now.policyError) return this.block(now.policyError);
    const same =
      now.protected &&
      !this.started.policyError &&
      now.adapterId === this.started.adapterId &&
      now.mode === this.started.mode &&
      JSON.stringify(now.customAdapter) === JSON.stringify(this.started.customAdapter);
    if (!same) return this.block(t('pageReloadAfterPolicyChange'));
    if (this.adapter && now.mode === 'inline') {
      this.guard.arm(this.adapter, { allowPlaintext: !now.requireEncryption });
      this.files?.arm(this.adapter, now); // attachments: encrypt, block or allow, as the policy says now
      this.blockedByPolicy = false;
      return true;
    }
    // Isolated mode is set up once per page load; a page blocked here cannot re-isolate itself.
    if (this.blockedByPolicy) return this.block(t('pageReloadAfterPolicyChange'));
    return true;
  }

  private block(reason: string): false {
    this.guard.block(reason);
    this.files?.block(reason);
    this.blockedByPolicy = true;
    this.hooks.showError(reason);
    return false;
  }

  get blocked(): boolean {
    return this.blockedByPolicy;
  }
}
