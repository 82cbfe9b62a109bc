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
import { composersOf, matchesAny, queryFirst, type ComposerSpec, type SiteAdapter } from '../adapters/types';
import { withFileRefs, type FileRef } from '../crypto/file-ref';
import { request } from '../messaging/client';
import type { EditTarget } from '../messaging/protocol';
import { composerHolds, composerHoldsText, readComposer, replaceComposerText } from './composer';
import { t } from '../i18n';
import { fixFor, keptTextActions, type FixContext, type PutBack } from './composer-fix';
import type { ComposerStatus } from './composer-status';
import { GUARDED_EVENTS, mayTrigger, verdict, type Place, type Trigger } from './send-trigger';

const SEND_CONFIRM_TIMEOUT_MS = 5_000;
/** "Encrypting…" only for a send the user would otherwise wait on without a word (a key being fetched). */
const BUSY_SHOWN_AFTER_MS = 150;

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

/** A compose box and how to use it. */
interface Found {
  box: HTMLElement;
  spec: ComposerSpec;
}

/**
 * The one rendered element matching `selectors` nearest to `from`: the first ancestor holding any
 * decides (an edit box's Save button belongs to that edit box, not to another message's).
 */
function nearest(from: Element, selectors: string[]): HTMLElement | 'ambiguous' | undefined {
  for (let at: Element | null = from; at; at = at.parentElement) {
    const hits = new Set<HTMLElement>();
    for (const s of selectors) {
      if (at.matches(s) && at instanceof HTMLElement && isRendered(at)) hits.add(at);
      for (const el of at.querySelectorAll<HTMLElement>(s)) if (isRendered(el)) hits.add(el);
    }
    if (hits.size > 1) return 'ambiguous';
    if (hits.size === 1) return hits.values().next().value;
  }
  return undefined;
}

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

/**
 * Whether an event puts text into the box it is aimed at: `refuse` (it can be refused: a paste, a
 * drop, a cancelable insert), `uncancelable` (an IME's commit), `got-in` (the input event after
 * text went in).
 */
function typedInto(e: Event): 'refuse' | 'uncancelable' | 'got-in' | undefined {
  if (e.type === 'paste' || e.type === 'drop') return 'refuse';
  if (!(e instanceof InputEvent) || (e.type !== 'beforeinput' && e.type !== 'input')) return undefined;
  const type = e.inputType;
  if (!type.startsWith('insert') || type === 'insertParagraph' || type === 'insertLineBreak') return undefined;
  if (e.type === 'input') return 'got-in';
  return e.cancelable ? 'refuse' : 'uncancelable';
}

export class SendGuard {
  private mode: GuardMode = { kind: 'starting' };
  /** True only while Veil itself dispatches the chat's send, synchronously. */
  private bypass = false;
  private busy = false;
  /** The message an edit box edits, when Veil showed it decrypted (lib/page/edit-box.ts). */
  editTarget?: (box: HTMLElement) => EditTarget | 'moved' | undefined;
  /** The files of the message an edit box edits: its save keeps them (lib/page/edit-box.ts). */
  editFiles?: (box: HTMLElement) => FileRef[];
  /** Files Veil encrypted for the next message (lib/page/attachments.ts): their references go with it. */
  attachments?: { readonly busy: boolean; pendingRefs(): FileRef[]; sent(refs: FileRef[]): void };

  constructor(
    private readonly win: Window,
    private readonly status: ComposerStatus,
  ) {}

  install(): void {
    for (const type of GUARDED_EVENTS) this.win.addEventListener(type, this.onEvent, true);
    // Ways text gets into a box besides typing: kept out of boxes Veil cannot encrypt from (keptOut).
    for (const type of ['paste', 'drop']) this.win.addEventListener(type, this.onEvent, true);
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
   * Isolated mode: puts each envelope into the chat's box `box` (the main composer unless given)
   * and triggers that box's send. Returns why it failed, or undefined once every part was sent.
   * On failure the box is emptied: it never held plaintext, so there is nothing to give back.
   */
  async sendEnvelopes(
    adapter: SiteAdapter,
    envelopes: string[],
    spec = composersOf(adapter)[0]!,
    box?: HTMLElement,
  ): Promise<string | undefined> {
    if (this.busy) return t('composerStillSending');
    const composer = box?.isConnected ? box : queryFirst<HTMLElement>(document, spec.composer);
    if (!composer) return t('composerNoComposer');
    this.busy = true;
    try {
      for (const [i, envelope] of envelopes.entries()) {
        const part = envelopes.length > 1 ? t('composerPart', i + 1, envelopes.length) : '';
        if (!(await this.put(composer, envelope, spec.composerStrategy))) {
          await this.put(composer, '', spec.composerStrategy);
          return t('composerNotSentPut', part);
        }
        this.triggerSend(spec, composer);
        if (!(await this.waitUntilSent(composer, envelope))) {
          await this.put(composer, '', spec.composerStrategy);
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
    this.noteTyping(e);
    if (this.bypass || this.mode.kind === 'off') return;
    if (this.status.owns(e.target)) return; // Veil's own line and its fix button are never a send
    if (this.keptOut(e)) return;
    const facts = factsOf(e);
    if (!mayTrigger(facts)) return;
    const adapter = this.mode.kind === 'starting' ? undefined : this.mode.adapter;
    const path = pathOf(e);
    let v = verdict({ ...facts, place: this.placeOf(e, path, adapter) });
    if (v === 'pass' && e.isTrusted && this.pressWhileTainted(e, path)) v = 'undeclared';
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
    if (v === 'undeclared')
      return this.tell(t('composerUndeclaredBox'), e.isTrusted ? (box ?? this.taintedBox()) : undefined);
    if (this.mode.kind === 'isolated') return this.tell(this.blockedReason);
    const found = this.composerFor(this.mode.adapter, path);
    if (found === 'ambiguous') return this.tell(t('composerAmbiguous'));
    if (found) void this.encryptAndSend(this.mode.adapter, found.box, found.spec);
  };

  /** The extra compose box (edit, thread reply) the user last typed into. */
  private typedIn?: WeakRef<HTMLElement>;

  /**
   * Remembers the extra compose box the user's own keys and text went into. The page can forge
   * neither, so a press on an extra composer's button sends only from the box the user wrote in,
   * never from one the page planted next to it.
   */
  private noteTyping(e: Event): void {
    if (!e.isTrusted || this.mode.kind !== 'armed') return;
    if (e.type !== 'keydown' && e.type !== 'beforeinput' && e.type !== 'paste') return;
    const path = pathOf(e);
    for (const spec of composersOf(this.mode.adapter).slice(1)) {
      const box = path.find((el) => matchesAny(el, spec.composer));
      if (box instanceof HTMLElement) {
        this.typedIn = new WeakRef(box);
        return;
      }
    }
  }

  /** Veil's own writes in progress: its execCommand inserts are trusted events, never refused. */
  private writes = 0;

  private async put(box: HTMLElement, text: string, strategy: ComposerSpec['composerStrategy']): Promise<boolean> {
    this.writes++;
    try {
      return await replaceComposerText(box, text, strategy);
    } finally {
      this.writes--;
    }
  }

  /** Boxes Veil cannot encrypt from that got the user's text anyway (an IME's commit). */
  private tainted = new Set<HTMLElement>();

  /**
   * A message box Veil cannot encrypt from keeps the user's typing out: text that is never in it
   * cannot be sent by whatever the page does with the box (a Save button, a click outside, a
   * timer). Deleting stays possible. An IME's text cannot be refused (that beforeinput is not
   * cancelable): such a box is remembered, and no button press or submit goes through while it
   * holds text (pressWhileTainted). True when the event was refused.
   */
  private keptOut(e: Event): boolean {
    if (!e.isTrusted || this.writes > 0) return false;
    const typed = typedInto(e);
    if (!typed) return false;
    const box = this.undeclaredBox(pathOf(e));
    if (!box) return false;
    if (typed === 'got-in') this.tainted.add(box);
    if (typed !== 'refuse') return false;
    e.preventDefault();
    // Nor may the page see a paste or a drop: an editor that inserts one itself would take it.
    if (e.type === 'paste' || e.type === 'drop') e.stopImmediatePropagation();
    this.tell(t('composerUndeclaredTyping'), box);
    return true;
  }

  /**
   * The message box (not a single-line field) the event is in, when Veil cannot encrypt from it:
   * no adapter declares it. (In isolated mode a secure composer covers each declared box, and the
   * typing shield guards them.)
   */
  private undeclaredBox(path: Element[]): HTMLElement | undefined {
    if (this.mode.kind !== 'armed' && this.mode.kind !== 'isolated') return undefined;
    const box = path.find(isEditable);
    if (!box || !isMessageBox(box)) return undefined;
    const declared = composersOf(this.mode.adapter);
    if (path.some((el) => declared.some((s) => matchesAny(el, s.composer)))) return undefined;
    return box;
  }

  /** A rendered box of `tainted` that holds text. */
  private taintedBox(): HTMLElement | undefined {
    for (const box of this.tainted) {
      if (!box.isConnected) this.tainted.delete(box);
      else if (readComposer(box).trim() && isRendered(box)) return box;
    }
    return undefined;
  }

  /** A press on a button, or a submit, while a box Veil cannot encrypt from holds the user's text. */
  private pressWhileTainted(e: Event, path: Element[]): boolean {
    if (!this.tainted.size) return false;
    if (e.type !== 'submit' && !(e.type === 'click' && path.some((el) => el.matches(BUTTON_LIKE)))) return false;
    return !!this.taintedBox();
  }

  /**
   * The compose box this send is for. Never simply the first match in the document: a page can put
   * a hidden decoy box holding text of its own choosing first. Enter in a box means that box; a
   * press on Send or a submit means the one rendered composer (inside the form, if there is one);
   * several rendered candidates is ambiguous and nothing is sent.
   */
  private composerFor(adapter: SiteAdapter, path: Element[]): Found | 'ambiguous' | undefined {
    const [main, ...extras] = composersOf(adapter);
    for (const spec of [main!, ...extras]) {
      const inside = path.find((el) => matchesAny(el, spec.composer));
      if (inside instanceof HTMLElement) return { box: inside, spec };
    }
    // An extra composer's button or form: the box nearest to it (an edit box's Save button, a thread's
    // Reply), and only the box the user typed into: the page may plant one beside any button. The
    // main composer's Send and form always mean the main composer.
    const form = path.find((el) => el instanceof HTMLFormElement);
    const mainPress =
      path.some((el) => matchesAny(el, main!.sendButton)) || (!!form && !!queryFirst(form, main!.composer));
    for (const spec of mainPress ? [] : extras) {
      const from = path.find((el) => matchesAny(el, spec.sendButton)) ?? (form && queryFirst(form, spec.composer));
      if (!from) continue;
      const box = nearest(from, spec.composer);
      if (!(box instanceof HTMLElement)) return box;
      return box === this.typedIn?.deref() ? { box, spec } : 'ambiguous';
    }
    const scope = form ?? document;
    const candidates = new Set<HTMLElement>();
    for (const s of main!.composer) {
      for (const el of scope.querySelectorAll<HTMLElement>(s)) if (isRendered(el)) candidates.add(el);
    }
    if (candidates.size > 1) return 'ambiguous';
    const box = candidates.values().next().value;
    return box && { box, spec: main! };
  }

  /**
   * Where an event happened, as the adapter describes the page. Before Veil knows the adapter,
   * every box counts as undeclared and anything button-like as a send button.
   */
  private placeOf(e: Event, path: Element[], adapter: SiteAdapter | undefined): Place {
    if (e.type === 'submit') {
      const form = path[0];
      if (!form) return 'elsewhere';
      if (adapter && composersOf(adapter).some((c) => queryFirst(form, c.composer))) return 'composer-form';
      const boxes = form.querySelectorAll('textarea, [contenteditable]');
      return [...boxes].some(isMessageBox) || !adapter ? 'undeclared-form' : 'elsewhere';
    }
    if (!adapter) {
      if (path.some((el) => el.matches(BUTTON_LIKE))) return 'send-button';
      return path.some(isEditable) ? 'undeclared-editable' : 'elsewhere';
    }
    const specs = composersOf(adapter);
    if (path.some((el) => specs.some((c) => matchesAny(el, c.sendButton)))) return 'send-button';
    if (path.some((el) => specs.some((c) => matchesAny(el, c.composer)))) return 'composer';
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

  private async encryptAndSend(adapter: SiteAdapter, composer: HTMLElement, spec: ComposerSpec): Promise<void> {
    if (this.busy) return; // a second Enter while encrypting must not send twice
    const plaintext = readComposer(composer);
    // Attached files go with the main composer's next message, never with an edit or a thread reply.
    const refs = spec.kind === 'main' ? (this.attachments?.pendingRefs() ?? []) : [];
    if (this.attachments?.busy) return this.tell(t('fileStillEncrypting'), composer);
    if (!plaintext.trim() && !refs.length) return;
    this.busy = true;
    try {
      await this.send(adapter, spec, composer, plaintext, refs);
    } catch (e) {
      // Whatever broke, and wherever the composer was left: the user's text must not be lost.
      await this.giveBack(spec, composer, plaintext, undefined, t('composerNotSent', String(e)), '');
    } finally {
      this.status.cancel();
      this.busy = false;
    }
  }

  private async send(
    adapter: SiteAdapter,
    spec: ComposerSpec,
    composer: HTMLElement,
    plaintext: string,
    refs: FileRef[],
  ): Promise<void> {
    this.status.attach(composer);
    const conversationId = adapter.conversationId(document);
    const senderId = adapter.currentUser(document);
    if (!conversationId || !senderId) {
      this.status.show('error', t('composerNoContext'));
      return;
    }
    // A failed send's line (and its offers) must not stand for this one: replaced at once.
    if (this.status.state === 'error') this.status.show('busy', t('composerEncrypting'));
    else this.status.showAfter(BUSY_SHOWN_AFTER_MS, 'busy', t('composerEncrypting'));
    // An edit of an encrypted message names it inside the new envelope; one edit is one message.
    const editOf = spec.kind === 'edit' ? this.editTarget?.(composer) : undefined;
    if (editOf === 'moved') {
      this.status.show('error', t('composerEditMoved'));
      return;
    }
    // An edit changes the words; the message's files stay with it (the box never showed them).
    const kept = editOf ? (this.editFiles?.(composer) ?? []) : [];
    const res = await request('encrypt', {
      conversationId,
      senderId,
      text: withFileRefs(plaintext, [...refs, ...kept]),
      maxChars: adapter.pageMaxMessageChars?.(document) ?? adapter.maxMessageChars,
      allowChunks: adapter.allowChunks && spec.kind !== 'edit',
      ...(editOf ? { editOf } : {}),
    });
    if (
      !res.ok &&
      res.error.code === 'no-key' &&
      this.allowPlaintext &&
      !refs.length &&
      !kept.length &&
      readComposer(composer) === plaintext
    ) {
      this.status.show('busy', t('composerSendingPlain'));
      this.triggerSend(spec, composer);
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
      // In the same rendering update as the envelope: the line says what is going on.
      this.status.show('busy', t('composerSendingEncrypted'));
      const put = await this.put(composer, envelope, spec.composerStrategy);
      // Some editors (Draft.js) re-create their editable root when its whole text is replaced: the
      // send goes to the box now on the page, and only if that one verifiably holds the envelope.
      const box = composer.isConnected ? composer : queryFirst<HTMLElement>(document, spec.composer);
      if (!put || !box || !composerHolds(box, envelope)) {
        return this.giveBack(spec, box ?? composer, plaintext, envelope, t('composerNotSentPutRestored', part), part);
      }
      composer = box;
      this.triggerSend(spec, composer);
      if (!(await this.waitUntilSent(composer, envelope))) {
        return this.giveBack(spec, composer, plaintext, envelope, t('composerNotSentRejectedRestored', part), part);
      }
    }
    this.attachments?.sent(refs);
    this.status.release();
    this.status.show('ready', t('composerSentEncrypted', res.fingerprint));
  }

  private triggerSend(spec: ComposerSpec, composer: HTMLElement): void {
    // The main composer's Send is the page's; an extra composer's is the one nearest its box.
    const button =
      spec.sendTrigger !== 'click'
        ? undefined
        : spec.kind === 'main'
          ? queryFirst<HTMLElement>(document, spec.sendButton)
          : nearest(composer, spec.sendButton);
    this.bypass = true;
    try {
      if (spec.sendTrigger === 'click') {
        if (button instanceof HTMLElement) button.click();
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
    spec: ComposerSpec,
    composer: HTMLElement,
    plaintext: string,
    envelope: string | undefined,
    said: string,
    part: string,
  ): Promise<void> {
    if (await this.restore(composer, plaintext, spec, envelope, 'replace')) {
      this.status.show('error', said);
      return;
    }
    // Only where it was written: another conversation's box would send it to other readers.
    const conversation = () => ('adapter' in this.mode ? this.mode.adapter.conversationId(document) : undefined);
    const writtenIn = conversation();
    const putBack = async (): Promise<PutBack> => {
      if (conversation() !== writtenIn) return 'other-conversation';
      if (this.busy) return 'refused';
      const box = queryFirst<HTMLElement>(document, spec.composer) ?? composer;
      return (await this.restore(box, plaintext, spec, envelope, 'append')) ? 'back' : 'refused';
    };
    const back = () => {
      this.status.release();
      this.status.show('ready', t('composerPutBackDone'));
    };
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
    spec: ComposerSpec,
    envelope: string | undefined,
    other: 'replace' | 'append',
  ): Promise<boolean> {
    // A chat that re-rendered its compose box meanwhile: the text goes to the one now on the page.
    const box = composer.isConnected ? composer : queryFirst<HTMLElement>(document, spec.composer);
    if (!box) return false;
    const now = readComposer(box);
    const at = envelope ? now.indexOf(envelope) : -1;
    const around = at >= 0 ? [now.slice(0, at), now.slice(at + envelope!.length)] : [];
    let text = plaintext;
    // Around the envelope is what the user typed meanwhile, unless it is their own text still: an
    // editor that put the envelope next to it instead of over it (a caret it kept). Taking that
    // for new typing is what left the text in the box twice.
    if (at >= 0 && !composerHoldsText(around.join(''), plaintext)) text = around[0] + plaintext + around[1];
    else if (other === 'append' && now.trim() && !composerHolds(box, plaintext)) text = `${now}\n${plaintext}`;
    if (composerHolds(box, text)) return true;
    return this.put(box, text, spec.composerStrategy);
  }
}
