/**
 * The content script on a protected chat: guards sends from the first moment, asks the
 * background what this site is, then hooks the composer and the message list.
 * Sees plaintext (inline mode) and ciphertext; never keys.
 */
import { adapterFromSpec, InvalidCustomAdapterError } from '../adapters/custom';
import { builtinAdapter } from '../adapters/registry';
import { queryFirst, type SiteAdapter } from '../adapters/types';
import { t } from '../i18n';
import { scopeText } from '../i18n/scope';
import { request } from '../messaging/client';
import { CONTENT_SCRIPT_MARK, type SiteStatus, type VeilNotice } from '../messaging/protocol';
import { hostComposerBlocked, installEarlyGuards, IsolatedPage, standDownEarlyGuards } from './isolated/isolated-page';
import { fixFor } from './composer-fix';
import { type ComposerAction, ComposerStatus } from './composer-status';
import { onShowMessage, onVeilNotice, PageChanges } from './page-changes';
import { MessageRenderer } from './renderer';
import { editFilesOf, editTargetOf, watchEditBoxes } from './edit-box';
import { watchPreviews } from './previews';
import { SendGuard } from './send-guard';
import { AttachmentGuard } from './attachments';
import { ListenerKeeper } from './listener-keeper';
import { injectLayoutHints, injectStyles } from './styles';

/** Set in this content script's own world (the page cannot see or set it): one Veil per document. */
const RUNNING = Symbol.for(CONTENT_SCRIPT_MARK);

export async function runContentScript(): Promise<void> {
  // The background also injects into tabs the registration missed (lib/background/registration.ts).
  const world = globalThis as { [RUNNING]?: boolean };
  if (world[RUNNING]) return;
  world[RUNNING] = true;
  const status = new ComposerStatus(document);
  const guard = new SendGuard(window, status);
  guard.install(); // before anything async: no send slips through while Veil starts
  // Files attached by picker, drop or paste: also from the first moment (held until Veil knows the site).
  const files = new AttachmentGuard(window, status);
  files.install();
  guard.attachments = files;
  const frameGuards = installEarlyGuards(window); // isolated mode's, ahead of any page listener (inert otherwise)
  // The page's document.open() erases every listener, Veil's too: they are put back at once, and
  // the line under the composer asks for a reload (inline: it says so again whenever the composer
  // changes; isolated: no secure composer is offered until then, see IsolatedPage.halt).
  const page: { adapter?: SiteAdapter; rewritten?: boolean; isolated?: IsolatedPage } = {};
  const rewritten = () => attachStatus(status, page.adapter, 'error', t('pageDocumentRewritten'));
  const keeper = new ListenerKeeper(window, () => {
    page.rewritten = true;
    // Said only on a page Veil protects: before the background answered, it is said once it has.
    if (page.adapter) whenReady(() => (page.isolated ? page.isolated.halt(t('isoPageRewritten')) : rewritten()));
  });
  keepAcrossRewrites = (install) => keeper.keep(install);
  for (const g of [guard, files, frameGuards]) keeper.keep(() => g.install());
  keeper.start();

  // Notices from the background (keyring, policy) are kept until the page is set up to use them.
  const notices = new NoticeQueue();
  onVeilNotice((n) => notices.push(n));
  const site = await protectedStatus(guard, status, notices, files);
  if (site.mode !== 'isolated') frameGuards.standDown(); // inline: typing held while Veil asked is typed back
  // Keyring and policy changes reach this page without a reload (lib/page/page-changes.ts).
  const changes: PageChanges = new PageChanges(site, guard, {
    showError: (text) => whenReady(() => attachStatus(status, changes.adapter, 'error', text)),
  });
  notices.deliverTo((n) => void changes.handle(n));
  // Enterprise policy problems fail closed: the site stays guarded, nothing is sent.
  const refusal = site.policyError;
  if (refusal) {
    guard.block(refusal);
    files.block(refusal);
    whenReady(() =>
      attachStatus(status, undefined, 'error', refusal, fixFor('policy', { siteName: '', managed: site.managed })),
    );
    return;
  }
  let adapter: SiteAdapter | undefined;
  if (site.adapterId === 'custom') {
    // The admin's declaration from policy: validated here too, and any problem blocks sending.
    try {
      adapter = adapterFromSpec(site.customAdapter);
    } catch (e) {
      const why = e instanceof InvalidCustomAdapterError ? e.errors.join('; ') : String(e);
      const text = t('composerCustomInvalid', why);
      guard.block(text);
      files.block(text);
      whenReady(() => attachStatus(status, undefined, 'error', text));
      return;
    }
  } else {
    adapter = site.adapterId ? builtinAdapter(site.adapterId) : undefined;
  }
  if (!adapter) {
    guard.block(t('composerNoAdapter', site.adapterId ?? '?'));
    files.block(t('composerNoAdapter', site.adapterId ?? '?'));
    return;
  }
  const armed = adapter;
  page.adapter = armed;
  // Previews and the title show a label instead of envelopes, in either mode, from the start (or,
  // where policy says so in inline mode, the decrypted preview once the background answers).
  watchPreviews(
    document,
    armed,
    site.previews === 'decrypt' && site.mode !== 'isolated'
      ? async (conversationId, texts) => {
          const res = await request('decrypt/preview', { conversationId, texts });
          return res.ok ? res.texts : [];
        }
      : undefined,
  );
  if (site.mode === 'isolated') {
    // Isolated mode: typing and reading happen in Veil's own frames; this side only
    // ever handles envelopes. The chat's own composer is blocked from sending at once.
    guard.isolate(adapter, hostComposerBlocked());
    files.block(t('isoFileUseComposer')); // the page's own picker would hand it the plaintext file
    whenReady(() => {
      page.isolated = new IsolatedPage(document, armed, guard, status, {
        flagUnencrypted: site.flagUnencrypted ?? true,
        guards: frameGuards,
        keep: (install) => keeper.keep(install),
      });
      page.isolated.start();
      if (page.rewritten) page.isolated.halt(t('isoPageRewritten'));
    });
    return;
  }
  guard.arm(adapter, { allowPlaintext: !site.requireEncryption, managed: site.managed });
  files.arm(adapter, site);
  changes.files = files;
  changes.adapter = adapter;
  injectLayoutHints(document, adapter);
  // While a policy change blocks sending, the line under the composer keeps saying why.
  const describe = () =>
    void (changes.blocked
      ? undefined
      : page.rewritten
        ? rewritten()
        : describeKey(armed, status, site.managed).then(() => page.rewritten && rewritten()));
  let lineBack = 0;
  whenReady(() => {
    injectStyles(document);
    const renderer = new MessageRenderer(
      document,
      armed,
      async (conversationId, items) => {
        const res = await request('decrypt', { conversationId, items });
        return res.ok ? res.items : { error: res.error.message };
      },
      {
        flagUnencrypted: site.flagUnencrypted ?? true,
        fileRequest: request,
        // Say which key protects the conversation whenever it (or the composer) appears or changes.
        onContext: describe,
        // The line followed an edit box the chat closed (or the page removed it): back under the main
        // composer as it was, its words and offers (text Veil kept) unchanged. At most once a second:
        // a page that keeps removing it gets no loop. Veil's stylesheet, if the page removed it.
        keepVeilUi: (composer) => {
          injectStyles(document);
          if (!composer || !status.orphaned() || Date.now() - lineBack < 1_000) return;
          lineBack = Date.now();
          status.attach(composer);
        },
      },
    );
    renderer.start();
    const shown = (message: Element) => renderer.shownMessage(message);
    guard.editTarget = (box) => editTargetOf(armed, shown, box);
    guard.editFiles = editFilesOf;
    watchEditBoxes(document, armed, shown);
    // A message the user opened from search: into view once it is decrypted on the page, or a
    // line saying it is not loaded (older history the chat has not fetched).
    onShowMessage((messageId) => {
      void revealWhenShown(renderer, messageId).then((found) => {
        if (!found) attachStatus(status, armed, 'ready', t('searchNotOnPage'));
      });
      return true;
    });
    changes.hooks.keyringChanged = (n) => {
      // Locked, or a new policy (keys may be gone): everything is asked again, and plaintext whose
      // key is no longer usable leaves the screen. Otherwise only what could not be read, or whose key changed.
      renderer.refresh({ keyIds: n.keyIds, all: n.reason === 'lock' || n.reason === 'policy' });
      describe();
    };
  });
}

/** Search opened this message: a page just loaded may still be decrypting it, so a few seconds' grace. */
async function revealWhenShown(renderer: MessageRenderer, messageId: string): Promise<boolean> {
  for (let waited = 0; waited <= 5_000; waited += 250) {
    if (renderer.reveal(messageId)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/**
 * Asks the background what this page is until it says "protected". Unknown (background
 * unreachable, no answer) blocks every send, with the reason; "not protected" lets the page be,
 * but both keep listening: a policy notice (the page became protected, e.g. a policy that arrived
 * late) or, while unknown, a retry asks again, and the page is guarded from then on.
 */
async function protectedStatus(
  guard: SendGuard,
  status: ComposerStatus,
  notices: NoticeQueue,
  files: AttachmentGuard,
): Promise<SiteStatus> {
  for (;;) {
    const site = await request('site/status', {});
    if (site.ok && site.protected) return site;
    if (!site.ok) {
      guard.block(t('composerStartFailed', site.error.message));
      whenReady(() => attachStatus(status, undefined, 'error', t('composerStartFailedShort')));
    } else {
      guard.disarm();
      files.disarm();
      standDownEarlyGuards(); // not protected: typing held back while Veil asked goes where it was typed
    }
    await notices.next(site.ok ? undefined : STATUS_RETRY_MS);
    guard.block(t('composerStarting')); // while asking again, as at the start
  }
}

/** While Veil cannot tell whether this page is protected, it asks again this often. */
const STATUS_RETRY_MS = 3_000;

/** The background's notices, held until the page's change handler exists. */
class NoticeQueue {
  private held: VeilNotice[] = [];
  private sink?: (n: VeilNotice) => void;
  private waiter?: () => void;

  push(n: VeilNotice): void {
    if (this.sink) return this.sink(n);
    this.held.push(n);
    this.waiter?.();
  }

  /** Resolves at the next notice, or after `timeoutMs`; notices seen so far are used up. */
  next(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.waiter = undefined;
        this.held = [];
        clearTimeout(timer);
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      this.waiter = done;
    });
  }

  deliverTo(sink: (n: VeilNotice) => void): void {
    this.sink = sink;
    for (const n of this.held.splice(0)) sink(n);
  }
}

/** Set once the content script runs: listeners to put back if the page's document.open() erases them. */
let keepAcrossRewrites: ((install: () => void) => void) | undefined;

/** Runs `fn` once the document is parsed (once only, even if the page rewrites it meanwhile). */
function whenReady(fn: () => void): void {
  if (document.readyState !== 'loading') return fn();
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    fn();
  };
  const listen = () => void (done || document.addEventListener('DOMContentLoaded', run, { once: true }));
  listen();
  keepAcrossRewrites?.(listen);
}

function attachStatus(
  status: ComposerStatus,
  adapter: SiteAdapter | undefined,
  state: 'ready' | 'error',
  text: string,
  action?: ComposerAction,
): void {
  const composer = adapter
    ? queryFirst<HTMLElement>(document, adapter.selectors.composer)
    : document.querySelector('textarea, [contenteditable="true"]');
  if (!composer) return;
  status.attach(composer as HTMLElement);
  status.show(state, text, action);
}

/**
 * Tells the user, before they type, whether this conversation is encrypted, with which key and for
 * which scope; or why it cannot be, with the fix (unlock, import a key, ask IT for one).
 */
async function describeKey(adapter: SiteAdapter, status: ComposerStatus, managed: boolean): Promise<void> {
  const conversationId = adapter.conversationId(document);
  if (!conversationId) return;
  const res = await request('encrypt/preview', { conversationId });
  if (adapter.conversationId(document) !== conversationId) return; // switched meanwhile; a newer call answers
  const fix = { conversationId, siteName: adapter.name, managed };
  if (!res.ok)
    return attachStatus(status, adapter, 'error', t('errGeneric', res.error.message), fixFor(res.error.code, fix));
  if (!res.key) {
    return attachStatus(
      status,
      adapter,
      'error',
      t(managed ? 'composerNoKeyManaged' : 'composerNoKey', conversationId),
      fixFor('no-key', fix),
    );
  }
  if (res.locked) return attachStatus(status, adapter, 'error', t('composerLocked'), fixFor('locked', fix));
  attachStatus(
    status,
    adapter,
    'ready',
    t('composerReady', res.key.label, res.key.fingerprint, scopeText(res.key.scope)),
  );
}
