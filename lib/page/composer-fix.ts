/**
 * What a blocked send offers as its fix, by the reason it was blocked: unlock Veil,
 * import a key, look at the policy problem, or, where only IT can help, a ready-made request for
 * IT naming the conversation and the site. Content scripts cannot open extension pages, so the
 * background opens the options page (protocol 'ui/open-options').
 */
import browser from 'webextension-polyfill';
import { t } from '../i18n';
import { request } from '../messaging/client';
import type { OptionsSection, VeilError } from '../messaging/protocol';
import type { ComposerAction } from './composer-status';

export interface FixContext {
  /** The conversation the send was for. */
  conversationId?: string;
  /** The chat's name, e.g. "Fixture chat". */
  siteName: string;
  /** An enterprise policy is in force (then only IT can add keys). */
  managed: boolean;
}

function open(label: string, section: OptionsSection): ComposerAction {
  return { label, run: () => void request('ui/open-options', { section }) };
}

/** A request for IT on the clipboard: what is missing, where, and which Veil. */
function askIt(ctx: FixContext): ComposerAction {
  return {
    label: t('composerActionCopyRequest'),
    async run(button) {
      const text = t(
        'composerItRequest',
        ctx.conversationId ?? '?',
        ctx.siteName,
        browser.runtime.getManifest().version,
      );
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = t('composerActionCopied');
      } catch {
        button.title = text; // no clipboard access: the request is at least readable on hover
      }
    },
  };
}

/**
 * "Sign in to Veil": the background opens the identity provider's window (only on the user's own
 * click: ComposerStatus drops synthetic ones). The keys that arrive re-describe the composer.
 */
function signIn(): ComposerAction {
  return {
    label: t('composerActionSignIn'),
    async run(button) {
      button.disabled = true;
      try {
        await request('keyservice/sign-in', {});
      } finally {
        button.disabled = false;
      }
    },
  };
}

export function fixFor(code: VeilError['code'] | 'no-key' | 'locked', ctx: FixContext): ComposerAction | undefined {
  switch (code) {
    case 'locked':
      return open(t('composerActionUnlock'), 'lock');
    case 'no-key':
      return ctx.managed ? askIt(ctx) : open(t('composerActionOptions'), 'import');
    case 'policy':
      return open(t('composerActionPolicy'), 'policy-section');
    case 'sign-in':
      return signIn();
    default:
      return undefined;
  }
}

/** Text on the clipboard from the user's click: the async API, else the copy command. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission in this page: a copy event the user's click allows carries it.
    const onCopy = (e: ClipboardEvent) => {
      e.clipboardData?.setData('text/plain', text);
      e.preventDefault();
      e.stopImmediatePropagation();
    };
    document.addEventListener('copy', onCopy, true);
    try {
      return document.execCommand('copy');
    } finally {
      document.removeEventListener('copy', onCopy, true);
    }
  }
}

/** What "Put it back" did: the text is in the box, the box refused it, or this is not its conversation. */
export type PutBack = 'back' | 'refused' | 'other-conversation';

/**
 * A send that failed, and a compose box that would not take the user's text back: Veil keeps the
 * text (in this closure only) and offers it, "Copy text" and "Put it back".
 */
export function keptTextActions(text: string, putBack: () => Promise<PutBack>, onBack: () => void): ComposerAction[] {
  return [
    {
      label: t('composerActionCopyText'),
      keepsText: true,
      async run(button) {
        if (await copyText(text)) button.textContent = t('composerTextCopied');
      },
    },
    {
      label: t('composerActionPutBack'),
      keepsText: true,
      async run(button) {
        const result = await putBack();
        if (result === 'back') onBack();
        else
          button.textContent = t(
            result === 'other-conversation' ? 'composerPutBackOtherConversation' : 'composerPutBackFailed',
          );
      },
    },
  ];
}
