/**
 * Intercepts every way a protected chat sends (Enter, the send button, form submit), has the
 * background encrypt, swaps the compose text for the envelope, and only then lets the chat's own
 * send run. Fail closed: if any step fails, nothing is sent, the plaintext stays in the compose
 * box and the reason is shown next to it.
 *
 * Only the user's own input starts an encryption (lib/page/send-trigger.ts has the rules): a
 * scripted Enter, click or submit is swallowed, so the page can neither get an envelope signed for
 * text the user never sent nor make the chat send the box's plaintext. Not interceptable, and
 * documented in docs/security.md: `form.submit()` (no event at all) and the page's own network
 * calls; in inline mode the page can read the box anyway, so these leak nothing new, and Veil never
 * encrypts for them.
 *
 * Listeners are registered on window in the capture phase at document_start, so they run before
 * any listener the page can register on its elements.
 */
import { queryFirst, type SiteAdapter } from '../adapters/types';
import { request } from '../messaging/client';
import { composerHolds, readComposer, replaceComposerText } from './composer';
import { t } from '../i18n';
import { fixFor, keptTextActions, type FixContext } from './composer-fix';
import type { ComposerStatus } from './composer-status';
import { GUARDED_EVENTS, mayTrigger, verdict, type Place, type Trigger } from './send-trigger';

const SEND_CONFIRM_TIMEOUT_MS = 5_000;

type GuardMode =
  | { kind: 'starting' }
  | { kind: 'armed'; adapter: SiteAdapter }
  | { kind: 'isolated'; adapter: SiteAdapter }
  | { kind: 'off' };

const TEXT_INPUT_TYPES = new Set(['text', 'search', 'password', 'email', 'url', 'tel', 'number']);

/** Anything one can type into. */
function isEditable(el: Element): el is HTMLElement {
  if (el instanceof HTMLInputElement) return TEXT_INPUT_TYPES.has(el.type);
  return el instanceof HTMLTextAreaElement || (el instanceof HTMLElement && el.isContentEditable);
}

/**
 * A box a message could be written in: multi-line. Single-line fields are the page's sign-in,
 * connect, search and settings forms, whose Enter and submit are theirs; a chat whose edit box is
 * one is covered once its adapter declares that box.
 */
function isMessageBox(el: Element): boolean {
  return el instanceof HTMLTextAreaElement || (el instanceof HTMLElement && el.isContentEditable);
}

const BUTTON_LIKE = 'button, input[type="submit"], input[type="button"], input[type="image"], [role="button"]';

const matchesAny = (el: Element, selectors: string[]) => selectors.some((s) => el.matches(s));

/** Shown to the user: laid out, not hidden, with a size. */
function isRendered(el: HTMLElement): boolean {
  if (!el.isConnected || el.getClientRects().length === 0) return false;
  const r = el.getBoundingClientRect();
  if (r.width < 2 || r.height < 2) return false;
  const style = getComputedStyle(el);
  return style.visibility !== 'hidden' && style.opacity !== '0';
}

/** The event's elements from its real target outwards, through open shadow roots. */
function pathOf(e: Event): Element[] {
  return e.composedPath().filter((n): n is Element => n instanceof Element);
}

function factsOf(e: Event): Omit<Trigger, 'place'> {
  const k = e instanceof KeyboardEvent ? e : undefined;
  return {
    type: e.type,
    trusted: e.isTrusted,
    enter:
      !!k &&
      (k.key === 'Enter' || k.code === 'Enter' || k.code === 'NumpadEnter' || k.keyCode === 13 || k.which === 13),
    space: !!k && (k.key === ' ' || k.code === 'Space'),
    shift: !!k?.shiftKey,
    composing: !!k && (k.isComposing || k.keyCode === 229),
    inputType: e instanceof InputEvent ? e.inputType : undefined,
  };
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
    for (const type of GUARDED_EVENTS) this.win.addEventListener(type, this.onEvent, true);
  }

  /**
   * `allowPlaintext`: enterprise policy set requireEncryption to false, so a message no key covers
   * goes out as typed, and the user is told so. Every other failure still blocks.
   */
  arm(adapter: SiteAdapter, opts: { allowPlaintext?: boolean; managed?: boolean } = {}): void {
    this.mode = { kind: 'armed', adapter };
    this.allowPlaintext = opts.allowPlaintext === true;
    this.managed = opts.managed === true;
  }

  /**
   * Isolated mode: the user types in Veil's secure composer frame, so every send from
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
    const facts = factsOf(e);
    if (!mayTrigger(facts)) return;
    const adapter = this.mode.kind === 'starting' ? undefined : this.mode.adapter;
    const path = pathOf(e);
    const v = verdict({ ...facts, place: this.placeOf(e, path, adapter) });
    if (v === 'pass') return;
    if (v === 'hide') {
      e.stopImmediatePropagation(); // the default (a click, an IME commit) still happens
      return;
    }
    this.stop(e);
    if (v === 'swallow') return;
    const box = path.find(isEditable);
    if (this.mode.kind === 'starting') {
      // Until Veil knows this page's composer (or for good, when its adapter is broken): nothing sends.
      if (box) this.status.attach(box);
      this.status.show('error', this.blockedReason);
      return;
    }
    if (v === 'untrusted') return this.tell(t('composerUntrusted'));
    if (v === 'undeclared') return this.tell(t('composerUndeclaredBox'), e.isTrusted ? box : undefined);
    if (this.mode.kind === 'isolated') return this.tell(this.blockedReason);
    const composer = this.composerFor(this.mode.adapter, path);
    if (composer === 'ambiguous') return this.tell(t('composerAmbiguous'));
    if (composer) void this.encryptAndSend(this.mode.adapter, composer);
  };

  /**
   * The compose box this send is for. Never simply the first match in the document: a page can put
   * a hidden decoy box holding text of its own choosing first. Enter in a box means that box; a
   * press on Send or a submit means the one rendered composer (inside the form, if there is one);
   * several rendered candidates is ambiguous and nothing is sent.
   */
  private composerFor(adapter: SiteAdapter, path: Element[]): HTMLElement | 'ambiguous' | undefined {
    const inside = path.find((el) => matchesAny(el, adapter.selectors.composer));
    if (inside instanceof HTMLElement) return inside;
    const scope = path.find((el) => el instanceof HTMLFormElement) ?? document;
    const candidates = new Set<HTMLElement>();
    for (const s of adapter.selectors.composer) {
      for (const el of scope.querySelectorAll<HTMLElement>(s)) if (isRendered(el)) candidates.add(el);
    }
    if (candidates.size > 1) return 'ambiguous';
    return candidates.values().next().value;
  }

  /**
   * Where an event happened, as the adapter describes the page. Before Veil knows the adapter,
   * every box counts as undeclared and anything button-like as a send button.
   */
  private placeOf(e: Event, path: Element[], adapter: SiteAdapter | undefined): Place {
    if (e.type === 'submit') {
      const form = path[0];
      if (!form) return 'elsewhere';
      if (adapter && queryFirst(form, adapter.selectors.composer)) return 'composer-form';
      const boxes = form.querySelectorAll('textarea, [contenteditable]');
      return [...boxes].some(isMessageBox) || !adapter ? 'undeclared-form' : 'elsewhere';
    }
    if (!adapter) {
      if (path.some((el) => el.matches(BUTTON_LIKE))) return 'send-button';
      return path.some(isEditable) ? 'undeclared-editable' : 'elsewhere';
    }
    if (path.some((el) => matchesAny(el, adapter.selectors.sendButton))) return 'send-button';
    if (path.some((el) => matchesAny(el, adapter.selectors.composer))) return 'composer';
    const box = path.find(isEditable);
    return box && isMessageBox(box) ? 'undeclared-editable' : 'elsewhere';
  }

  /**
   * Says why nothing was sent, under the box the user sent from (or the composer). While Veil is
   * sending, its own progress line stays: a scripted event must not hide it.
   */
  private tell(text: string, box?: HTMLElement): void {
    if (this.busy && !box) return;
    const adapter = this.mode.kind === 'armed' || this.mode.kind === 'isolated' ? this.mode.adapter : undefined;
    const anchor = box ?? (adapter && queryFirst<HTMLElement>(document, adapter.selectors.composer));
    if (anchor) this.status.attach(anchor);
    this.status.show('error', text);
  }

  private stop(e: Event): void {
    e.preventDefault();
    e.stopImmediatePropagation();
  }

  private async encryptAndSend(adapter: SiteAdapter, composer: HTMLElement): Promise<void> {
    if (this.busy) return; // a second Enter while encrypting must not send twice
    const plaintext = readComposer(composer);
    if (!plaintext.trim()) return;
    this.busy = true;
    try {
      await this.send(adapter, composer, plaintext);
    } catch (e) {
      // Whatever broke, and wherever the composer was left: the user's text must not be lost.
      await this.giveBack(adapter, composer, plaintext, undefined, t('composerNotSent', String(e)), '');
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
      const put = await replaceComposerText(composer, envelope, adapter.composerStrategy);
      // Some editors (Draft.js) re-create their editable root when its whole text is replaced: the
      // send goes to the box now on the page, and only if that one verifiably holds the envelope.
      const box = composer.isConnected ? composer : queryFirst<HTMLElement>(document, adapter.selectors.composer);
      if (!put || !box || !composerHolds(box, envelope)) {
        return this.giveBack(
          adapter,
          box ?? composer,
          plaintext,
          envelope,
          t('composerNotSentPutRestored', part),
          part,
        );
      }
      composer = box;
      this.triggerSend(adapter, composer);
      if (!(await this.waitUntilSent(composer, envelope))) {
        return this.giveBack(adapter, composer, plaintext, envelope, t('composerNotSentRejectedRestored', part), part);
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
        // keyCode too: Draft.js and other older editors know Enter only by it (Chrome honours it
        // in the init; Firefox ignores it there).
        const init = {
          key: 'Enter',
          code: 'Enter',
          keyCode: 13,
          which: 13,
          bubbles: true,
          cancelable: true,
          composed: true,
        };
        const fresh = (type: string) => new KeyboardEvent(type, init);
        // A real Enter nobody cancelled goes on to the browser's default action, the
        // beforeinput "insertParagraph" that beforeinput-driven editors (CKEditor 5) take as Enter.
        if (
          composer.dispatchEvent(fresh('keydown')) &&
          composer.dispatchEvent(fresh('keypress')) &&
          composer.isContentEditable
        ) {
          composer.dispatchEvent(
            new InputEvent('beforeinput', {
              inputType: 'insertParagraph',
              bubbles: true,
              cancelable: true,
              composed: true,
            }),
          );
        }
        composer.dispatchEvent(fresh('keyup'));
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
   * A send failed at some stage: the compose box gets the user's text back and the line says
   * `said`. If the box will not take it, Veil keeps the text (in this closure, never in the page's
   * DOM) and offers it on the line under the composer: copy it, or put it back, on the user's click.
   */
  private async giveBack(
    adapter: SiteAdapter,
    composer: HTMLElement,
    plaintext: string,
    envelope: string | undefined,
    said: string,
    part: string,
  ): Promise<void> {
    if (await this.restore(composer, plaintext, adapter, envelope, 'replace')) {
      this.status.show('error', said);
      return;
    }
    const putBack = async () => {
      const box = queryFirst<HTMLElement>(document, adapter.selectors.composer) ?? composer;
      return this.restore(box, plaintext, adapter, envelope, 'append');
    };
    const back = () => this.status.show('ready', t('composerPutBackDone'));
    this.status.show('error', t('composerNotSentKept', part), keptTextActions(plaintext, putBack, back));
  }

  /**
   * Puts the user's text back; true once the box verifiably holds it. Whatever they typed around
   * the envelope meanwhile is kept around their text (typing while Veil was sending used to be
   * overwritten, and lost). Anything else in the box is Veil's own leftover right after a failure
   * (`replace`), or the user's new typing when they click "Put it back" later (`append`).
   */
  private async restore(
    composer: HTMLElement,
    plaintext: string,
    adapter: SiteAdapter,
    envelope: string | undefined,
    other: 'replace' | 'append',
  ): Promise<boolean> {
    // A chat that re-rendered its compose box meanwhile: the text goes to the one now on the page.
    const box = composer.isConnected ? composer : queryFirst<HTMLElement>(document, adapter.selectors.composer);
    if (!box) return false;
    const now = readComposer(box);
    const at = envelope ? now.indexOf(envelope) : -1;
    let text = plaintext;
    if (at >= 0) text = now.slice(0, at) + plaintext + now.slice(at + envelope!.length);
    else if (other === 'append' && now.trim() && !composerHolds(box, plaintext)) text = `${now}\n${plaintext}`;
    if (composerHolds(box, text)) return true;
    return replaceComposerText(box, text, adapter.composerStrategy);
  }
}
