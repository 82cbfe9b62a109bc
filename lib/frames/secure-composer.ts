/**
 * The secure composer frame (isolated mode, issue #6): where the user types on a protected chat.
 * Extension origin: the page gets no key, input, composition, clipboard or selection event from
 * here, and cannot read the text. On Enter the text goes to the background, which encrypts it
 * and has the content script put only the envelope into the chat's own composer and send it.
 *
 * Keys: Enter sends; Shift+Enter is a new line; Enter while an IME composes (Chinese, Japanese…)
 * confirms the composition as usual; Tab leaves the composer (the content script moves focus).
 */
import { localizePage, t } from '../i18n';
import { request } from '../messaging/client';
import type { SecureFrameEvent } from '../messaging/protocol';
import { applyTheme, indicatorElement, waitForGrant } from './secure-frame';

export async function startSecureComposer(doc: Document): Promise<void> {
  localizePage(doc);
  const win = doc.defaultView!;
  const box = doc.getElementById('composer')!;
  const input = doc.getElementById('input') as HTMLTextAreaElement;
  const side = doc.getElementById('side')!;
  const notice = doc.getElementById('notice')!;
  input.disabled = true; // nothing can be typed before Veil granted this frame
  const { token, grant } = await waitForGrant(win, (text) => {
    box.replaceChildren(Object.assign(doc.createElement('div'), { className: 'veil-orphan', textContent: text }));
  });
  applyTheme(box, grant.theme, true);
  side.append(indicatorElement(doc, grant.indicator, true));
  input.disabled = false;
  const c = grant.composer;
  input.placeholder = c?.keyLabel
    ? t('isoComposerPlaceholderKey', c.keyLabel, c.fingerprint ?? '')
    : t('isoComposerPlaceholder');
  if (c?.error) say('error', c.error);

  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  function say(tone: 'ok' | 'error', text: string, ms = 8_000): void {
    notice.hidden = false;
    notice.dataset.tone = tone;
    notice.textContent = text;
    notice.title = text;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      notice.hidden = true;
    }, ms);
  }

  // Throttled per kind: a page that keeps stealing focus must not mute the press checks.
  const lastEvent = new Map<SecureFrameEvent, number>();
  const report = async (event: SecureFrameEvent, throttle = true) => {
    const now = Date.now();
    if (throttle && now - (lastEvent.get(event) ?? 0) < 500) return;
    lastEvent.set(event, now);
    const res = await request('secure/event', { token, event });
    if (res.ok && res.warning) say('error', res.warning, 15_000);
  };

  let sending = false;
  const send = async () => {
    const text = input.value;
    if (sending || !text.trim()) return;
    sending = true;
    input.readOnly = true;
    say('ok', t('isoComposerSending'), 30_000);
    try {
      const res = await request('secure/send', { token, text }, 60_000);
      if (!res.ok) {
        say('error', t('composerNotSent', res.error.message), 15_000);
        return;
      }
      // Cleared only if unchanged (it is read-only meanwhile, but be exact).
      if (input.value === text) input.value = '';
      say('ok', res.parts > 1 ? t('isoComposerSentParts', res.parts) : t('isoComposerSent'), 2_500);
    } finally {
      sending = false;
      input.readOnly = false;
      input.focus();
    }
  };

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      void report(e.shiftKey ? 'shift-tab' : 'tab', false);
      return;
    }
    // keyCode 229: some IMEs report the confirming Enter that way, without isComposing.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    void send();
  });
  // Focusing the frame (Veil does so when the page's compose box would get focus) types here.
  win.addEventListener('focus', () => {
    input.focus();
    void report('focus');
  });
  doc.addEventListener('pointerdown', () => void report('pointerdown'), true);
  if (doc.hasFocus()) input.focus();
}
