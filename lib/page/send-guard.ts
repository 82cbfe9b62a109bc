/**
 * Intercepts every way a protected chat sends (Enter, the send button, form submit), has the
 * background encrypt, swaps the compose text for the envelope, and only then lets the chat's own
 * send run. Fail closed: if any step fails, nothing is sent, the plaintext stays in the compose
 * box and the reason is shown next to it.
 *
 * Listeners are registered on window in the capture phase at document_start, so they run before
 * any listener the page can register on its elements.
 */
import { closestAny, queryFirst, type SiteAdapter } from '../adapters/types';
import { request } from '../messaging/client';
import { readComposer, replaceComposerText } from './composer';
import { t } from '../i18n';
import { fixFor, type FixContext } from './composer-fix';
import type { ComposerStatus } from './composer-status';

const SEND_CONFIRM_TIMEOUT_MS = 5_000;

type GuardMode =
  | { kind: 'starting' }
  | { kind: 'armed'; adapter: SiteAdapter }
  | { kind: 'isolated'; adapter: SiteAdapter }
  | { kind: 'off' };

function isEditable(t: EventTarget | null): t is HTMLElement {
  return (
    t instanceof HTMLElement &&
    (t.isContentEditable || t instanceof HTMLTextAreaElement || t instanceof HTMLInputElement)
  );
}

export class SendGuard {
  private mode: GuardMode = { kind: 'starting' };
  /** True only while Veil itself dispatches the chat's send, synchronously. */
  private bypass = false;
  private busy = false;

  constructor(
    private readonly win: Window,
    private readonly status: ComposerStatus,
  ) {}

  install(): void {
    for (const type of ['keydown', 'keypress', 'click', 'submit'] as const) {
      this.win.addEventListener(type, this.onEvent, true);
    }
  }

  /**
   * `allowPlaintext`: enterprise policy set requireEncryption to false, so a message no key covers
   * goes out as typed, and the user is told so (issue #4). Every other failure still blocks.
   */
  arm(adapter: SiteAdapter, opts: { allowPlaintext?: boolean; managed?: boolean } = {}): void {
    this.mode = { kind: 'armed', adapter };
    this.allowPlaintext = opts.allowPlaintext === true;
    this.managed = opts.managed === true;
  }

  /**
   * Isolated mode (issue #6): the user types in Veil's secure composer frame, so every send from
   * the chat's own composer is blocked with `message`; only sendEnvelopes below sends, and only
   * envelopes.
   */
  isolate(adapter: SiteAdapter, message: string): void {
    this.mode = { kind: 'isolated', adapter };
    this.blockedReason = message;
  }

  /**
   * Isolated mode: puts each envelope into the chat's composer and triggers the chat's send.
   * Returns why it failed, or undefined once every part was sent. On failure the compose box is
   * emptied: it never held plaintext, so there is nothing to give back.
   */
  async sendEnvelopes(adapter: SiteAdapter, envelopes: string[]): Promise<string | undefined> {
    if (this.busy) return t('composerStillSending');
    const composer = queryFirst<HTMLElement>(document, adapter.selectors.composer);
    if (!composer) return t('composerNoComposer');
    this.busy = true;
    try {
      for (const [i, envelope] of envelopes.entries()) {
        const part = envelopes.length > 1 ? t('composerPart', i + 1, envelopes.length) : '';
        if (!(await replaceComposerText(composer, envelope, adapter.composerStrategy))) {
          await replaceComposerText(composer, '', adapter.composerStrategy);
          return t('composerNotSentPut', part);
        }
        this.triggerSend(adapter, composer);
        if (!(await this.waitUntilSent(composer, envelope))) {
          await replaceComposerText(composer, '', adapter.composerStrategy);
          return t('composerNotSentRejected', part);
        }
      }
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** The site turned out not to be protected: stop intercepting. */
  disarm(): void {
    this.mode = { kind: 'off' };
  }

  /** Fail closed for good (e.g. Veil could not start on a protected site). */
  block(message: string): void {
    this.mode = { kind: 'starting' };
    this.blockedReason = message;
  }

  private blockedReason = t('composerStarting');
  private allowPlaintext = false;
  private managed = false;

  private onEvent = (e: Event): void => {
    if (this.bypass || this.mode.kind === 'off') return;
    if (this.status.owns(e.target)) return; // Veil's own line and its fix button are never a send
    const isEnter = e instanceof KeyboardEvent && e.key === 'Enter' && !e.shiftKey && !e.isComposing;
    if (e instanceof KeyboardEvent && !isEnter) return;
    if (this.mode.kind === 'starting') {
      // Until Veil knows this page's composer (or for good, when its adapter is broken): no Enter in
      // an editable field, no form submit, and no click on anything button-like, since any of them
      // may be the chat's send button.
      const buttonClick =
        e.type === 'click' &&
        e.target instanceof Element &&
        !!e.target.closest('button, input[type="submit"], input[type="button"], [role="button"]');
      if ((isEnter && isEditable(e.target)) || e.type === 'submit' || buttonClick) {
        this.stop(e);
        if (isEditable(e.target)) this.status.attach(e.target);
        this.status.show('error', this.blockedReason);
      }
      return;
    }
    const { adapter } = this.mode;
    const target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    const fromComposer = !!closestAny(target, adapter.selectors.composer);
    const fromButton = e.type === 'click' && !!closestAny(target, adapter.selectors.sendButton);
    const isSubmit = e.type === 'submit' && !!queryFirst(target as HTMLElement, adapter.selectors.composer);
    if (!((isEnter && fromComposer) || fromButton || isSubmit)) return;
    this.stop(e);
    if (this.mode.kind === 'isolated') {
      this.status.show('error', this.blockedReason);
      return;
    }
    if (e.type === 'keydown' || e.type === 'click') void this.encryptAndSend(adapter);
  };

  private stop(e: Event): void {
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  private async encryptAndSend(adapter: SiteAdapter): Promise<void> {
    if (this.busy) return; // a second Enter while encrypting must not send twice
    const composer = queryFirst<HTMLElement>(document, adapter.selectors.composer);
    if (!composer) return;
    const plaintext = readComposer(composer);
    if (!plaintext.trim()) return;
    this.busy = true;
    try {
      await this.send(adapter, composer, plaintext);
    } finally {
      this.busy = false;
    }
  }

  private async send(adapter: SiteAdapter, composer: HTMLElement, plaintext: string): Promise<void> {
    this.status.attach(composer);
    const conversationId = adapter.conversationId(document);
    const senderId = adapter.currentUser(document);
    if (!conversationId || !senderId) {
      this.status.show('error', t('composerNoContext'));
      return;
    }
    this.status.show('busy', t('composerEncrypting'));
    const res = await request('encrypt', {
      conversationId,
      senderId,
      text: plaintext,
      maxChars: adapter.pageMaxMessageChars?.(document) ?? adapter.maxMessageChars,
      allowChunks: adapter.allowChunks,
    });
    if (!res.ok && res.error.code === 'no-key' && this.allowPlaintext && readComposer(composer) === plaintext) {
      this.triggerSend(adapter, composer);
      const sent = await this.waitUntilSent(composer, plaintext.trim());
      this.status.show('error', sent ? t('composerSentPlain') : t('composerNotSentPlain'));
      return;
    }
    if (!res.ok) {
      const fix: FixContext = { conversationId, siteName: adapter.name, managed: this.managed };
      this.status.show('error', t('composerNotSent', res.error.message), fixFor(res.error.code, fix));
      return;
    }
    if (readComposer(composer) !== plaintext) {
      this.status.show('error', t('composerChanged'));
      return;
    }
    for (const [i, envelope] of res.envelopes.entries()) {
      const part = res.envelopes.length > 1 ? t('composerPart', i + 1, res.envelopes.length) : '';
      if (!(await replaceComposerText(composer, envelope, adapter.composerStrategy))) {
        await this.restore(composer, plaintext, adapter, envelope);
        this.status.show('error', t('composerNotSentPut', part));
        return;
      }
      this.triggerSend(adapter, composer);
      if (!(await this.waitUntilSent(composer, envelope))) {
        await this.restore(composer, plaintext, adapter, envelope);
        this.status.show('error', t('composerNotSentRejectedRestored', part));
        return;
      }
    }
    this.status.show('ready', t('composerSentEncrypted', res.fingerprint));
  }

  private triggerSend(adapter: SiteAdapter, composer: HTMLElement): void {
    this.bypass = true;
    try {
      if (adapter.sendTrigger === 'click') {
        queryFirst<HTMLElement>(document, adapter.selectors.sendButton)?.click();
      } else {
        const init = { key: 'Enter', code: 'Enter', bubbles: true, cancelable: true, composed: true };
        composer.dispatchEvent(new KeyboardEvent('keydown', init));
        composer.dispatchEvent(new KeyboardEvent('keypress', init));
        composer.dispatchEvent(new KeyboardEvent('keyup', init));
      }
    } finally {
      this.bypass = false;
    }
  }

  /** The chat took the envelope once its compose box no longer holds it. */
  private waitUntilSent(composer: HTMLElement, envelope: string): Promise<boolean> {
    // A composer the app unmounted after sending counts as sent (it can no longer hold the envelope).
    const sent = () => !composer.isConnected || readComposer(composer).trim() !== envelope;
    if (sent()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let finished = false;
      const done = (ok: boolean) => {
        if (finished) return;
        finished = true;
        observer.disconnect();
        composer.removeEventListener('input', check);
        clearTimeout(timer);
        clearTimeout(deadline);
        resolve(ok);
      };
      const check = () => sent() && done(true);
      const observer = new MutationObserver(check);
      observer.observe(composer, { attributes: true, childList: true, subtree: true, characterData: true });
      composer.addEventListener('input', check);
      // Frameworks often clear a textarea by property without any event: poll briefly, bounded.
      const poll = () => (sent() ? done(true) : (timer = setTimeout(poll, 25)));
      let timer = setTimeout(poll, 25);
      const deadline = setTimeout(() => done(sent()), SEND_CONFIRM_TIMEOUT_MS);
    });
  }

  /**
   * Gives the user their text back after a failed send (best effort: nothing was sent either way).
   * Whatever they typed around the envelope meanwhile is kept around their text (issue #8: typing
   * while Veil was sending used to be overwritten, and lost).
   */
  private async restore(
    composer: HTMLElement,
    plaintext: string,
    adapter: SiteAdapter,
    envelope?: string,
  ): Promise<void> {
    if (!composer.isConnected) return;
    const now = readComposer(composer);
    const at = envelope ? now.indexOf(envelope) : -1;
    const text = at >= 0 ? now.slice(0, at) + plaintext + now.slice(at + envelope!.length) : plaintext;
    if (!(await replaceComposerText(composer, text, adapter.composerStrategy))) {
      console.warn('Veil: could not put the unsent text back into the compose box');
    }
  }
}
