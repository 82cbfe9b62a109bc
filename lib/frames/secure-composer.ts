/**
 * The secure composer frame (isolated mode): where the user types on a protected chat.
 * Extension origin: the page gets no key, input, composition, clipboard or selection event from
 * here, and cannot read the text. On Enter the text goes to the background, which encrypts it
 * and has the content script put only the envelope into the chat's own composer and send it.
 *
 * Keys: Enter sends; Shift+Enter is a new line; Enter while an IME composes (Chinese, Japanese…)
 * confirms the composition as usual; Tab leaves the composer (the content script moves focus).
 * Files (main composer): the 📎 picker here, a drop on this frame or a paste into it. Each is
 * streamed to the background, which seals it and has the chat upload only the sealed file; it then
 * goes with the next message sent from here.
 */
import { base64 } from '@scure/base';
import { localizePage, t } from '../i18n';
import { request } from '../messaging/client';
import {
  type AttachedFile,
  FILE_PIECE_BYTES,
  type HeldTyping,
  MAX_FILES_PER_MESSAGE,
  type SecureFrameEvent,
} from '../messaging/protocol';
import { TypingLog } from './typing-log';
import { applyTheme, indicatorElement, waitForGrant } from './secure-frame';

export async function startSecureComposer(doc: Document): Promise<void> {
  localizePage(doc);
  const win = doc.defaultView!;
  const box = doc.getElementById('composer')!;
  const input = doc.getElementById('input') as HTMLTextAreaElement;
  const side = doc.getElementById('side')!;
  const notice = doc.getElementById('notice')!;
  // Typing is possible before the grant arrives (Veil may move focus here a moment earlier, and
  // no key may be lost); nothing is sent without it. A frame the page made shows only the orphan note.
  // A key pressed while the frame document, not the box, has focus still types into the box.
  let granted = false;
  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  // When and where each key typed here landed, so text the page's document got first (held by
  // Veil) goes before the keys typed here after it. Recorded from the start, before the grant.
  const typedHere = new TypingLog(win);
  input.addEventListener('beforeinput', (e) => typedHere.record(e, input.selectionStart ?? input.value.length));
  doc.addEventListener(
    'keydown',
    (e) => {
      if (!granted && e.key === 'Enter' && !e.shiftKey) e.preventDefault(); // no send yet, and no stray line
      if (e.target !== input && !e.ctrlKey && !e.metaKey) input.focus();
    },
    true,
  );
  const { token, grant } = await waitForGrant(win, (text) => {
    box.replaceChildren(Object.assign(doc.createElement('div'), { className: 'veil-orphan', textContent: text }));
  });
  granted = true;
  applyTheme(box, grant.theme, true);
  side.append(indicatorElement(doc, grant.indicator, true));
  const c = grant.composer;
  const placeholderKey =
    c?.kind === 'edit'
      ? 'isoComposerPlaceholderEdit'
      : c?.kind === 'thread'
        ? 'isoComposerPlaceholderThread'
        : 'isoComposerPlaceholderKey';
  input.placeholder = c?.keyLabel ? t(placeholderKey, c.keyLabel, c.fingerprint ?? '') : t('isoComposerPlaceholder');
  box.dataset.kind = c?.kind ?? 'main';
  // An edit starts from the message's text (decrypted for this frame only), ahead of anything typed already.
  if (c?.text) {
    input.value = input.value ? `${c.text}${input.value}` : c.text;
    input.setSelectionRange(input.value.length, input.value.length);
  }
  if (c?.error) say('error', c.error, c.kind === 'edit' ? 60_000 : undefined);
  // What the user typed into the composer this one replaces (the page re-rendered or removed its
  // box): back in front of anything typed here already, and said so.
  if (c?.draft && !c.error) {
    input.value = input.value ? `${c.draft}\n${input.value}` : c.draft;
    input.setSelectionRange(input.value.length, input.value.length);
    say('ok', t('isoComposerDraftRestored'), 4_000);
  }

  // Files attached here and not sent yet (their references; the chat already holds the sealed
  // uploads). Kept with the draft, so a composer the page replaces keeps them.
  let attached: AttachedFile[] = c?.draftFiles ?? [];

  // The unsent text is kept in the background as the user types, so no box the page replaces
  // takes it along (lib/background/isolated/drafts.ts). Edits keep none (they belong to one message).
  let draftTimer: ReturnType<typeof setTimeout> | undefined;
  const keepDraft = () => {
    clearTimeout(draftTimer);
    draftTimer = undefined;
    if (c?.kind !== 'edit')
      void request('secure/draft', { token, text: input.value, files: attached }).catch(() => undefined);
  };
  input.addEventListener('input', () => {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(keepDraft, 300);
  });
  if (c?.draft || c?.draftFiles) keepDraft();

  // A press anywhere in the composer (its indicator, the notice over the first line) means "type here".
  box.addEventListener('mousedown', (e) => {
    if (e.target === input) return;
    e.preventDefault();
    input.focus();
  });
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

  /**
   * Text the user typed into the page before this frame could take it (the chat's box focused at
   * load, the chat refocusing its box): each key goes where the box's caret was when the first key
   * typed here after it was pressed, so the whole reads in the order it was typed.
   */
  const insertTyped = (typed: HeldTyping[]) => {
    const { box, caret } = typedHere.place(input.value, typed, input.selectionStart ?? input.value.length);
    input.value = box;
    input.setSelectionRange(caret, caret);
  };

  // Throttled per kind: a page that keeps stealing focus must not mute the press checks. A focus
  // report inside the window is sent at its end instead: it also fetches typing held for this box.
  const lastEvent = new Map<SecureFrameEvent, number>();
  const trailing = new Map<SecureFrameEvent, ReturnType<typeof setTimeout>>();
  let inFlight: Promise<void> = Promise.resolve();
  const report = async (event: SecureFrameEvent, throttle = true) => {
    const now = Date.now();
    const wait = 500 - (now - (lastEvent.get(event) ?? 0));
    if (throttle && wait > 0) {
      if (event === 'focus' && !trailing.has(event))
        trailing.set(
          event,
          setTimeout(() => {
            trailing.delete(event);
            void report(event, false);
          }, wait),
        );
      return;
    }
    lastEvent.set(event, now);
    // One at a time: each answer's text is placed against the box as the previous one left it.
    const run = inFlight.then(async () => {
      const res = await request('secure/event', { token, event });
      if (res.ok && res.typed) {
        insertTyped(res.typed);
        keepDraft();
      }
      if (res.ok && res.warning) say('error', res.warning, 15_000);
    });
    inFlight = run.catch(() => undefined);
    await run;
  };

  let sealing = 0;
  const attachButton = doc.getElementById('attach') as HTMLButtonElement;
  const picker = doc.getElementById('files') as HTMLInputElement;
  const showAttached = () => {
    attachButton.textContent = attached.length ? `📎${attached.length}` : '📎';
    attachButton.title = [t('isoAttachLabel'), ...attached.map((f) => f.ref.name)].join('\n');
  };
  const sealOne = async (file: File): Promise<string | undefined> => {
    const name = file.name || 'pasted';
    const start = await request('secure/file-seal-start', { token, name, type: file.type, size: file.size });
    if (!start.ok) return start.error.message;
    try {
      for (let at = 0; at < file.size; at += FILE_PIECE_BYTES) {
        const bytes = new Uint8Array(await file.slice(at, at + FILE_PIECE_BYTES).arrayBuffer());
        const r = await request('secure/file-seal-push', { token, sid: start.sid, data: base64.encode(bytes) });
        if (!r.ok) return r.error.message;
      }
      const end = await request('secure/file-seal-finish', { token, sid: start.sid }, 120_000);
      if (!end.ok) return end.error.message;
      attached = [...attached, { ref: end.ref, conversationId: end.conversationId }];
      showAttached();
      keepDraft();
      return undefined;
    } catch (e) {
      void request('secure/file-abort', { token, sid: start.sid }).catch(() => undefined);
      return String((e as Error)?.message ?? e);
    }
  };
  let queue: Promise<void> = Promise.resolve();
  /** Files the user attached here (picker, drop, paste): only while this composer is in plain view. */
  const attach = async (files: File[]) => {
    if (!files.length) return;
    const seen = await request('secure/event', { token, event: 'attach' });
    if (!seen.ok || seen.warning) return say('error', seen.ok ? seen.warning! : seen.error.message, 15_000);
    if (attached.length + files.length > MAX_FILES_PER_MESSAGE)
      return say('error', t('isoFileTooMany', MAX_FILES_PER_MESSAGE), 15_000);
    sealing++;
    queue = queue
      .then(async () => {
        for (const file of files) {
          say('ok', t('isoFileEncrypting', file.name || 'pasted'), 120_000);
          const error = await sealOne(file);
          // One failed: the rest of this pick waits for the user (who attaches again), as in inline mode.
          if (error) return say('error', t('isoFileNotAttached', file.name || 'pasted', error), 20_000);
        }
        say('ok', t('isoFileAttached', attached.length), 8_000);
      })
      .finally(() => {
        sealing--;
        input.focus();
      });
  };
  if ((c?.kind ?? 'main') === 'main' && !c?.error) {
    attachButton.hidden = false;
    showAttached();
    attachButton.addEventListener('click', (e) => {
      if (!e.isTrusted) return;
      // The picker opens within the click's activation, once the host side saw the composer in view.
      void request('secure/event', { token, event: 'attach' }).then((seen) => {
        if (seen.ok && !seen.warning) picker.click();
        else say('error', seen.ok ? seen.warning! : seen.error.message, 15_000);
      });
    });
    picker.addEventListener('change', () => {
      const files = [...(picker.files ?? [])];
      picker.value = '';
      void attach(files);
    });
    doc.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
    doc.addEventListener('drop', (e) => {
      const files = [...(e.dataTransfer?.files ?? [])];
      if (!files.length) return;
      e.preventDefault();
      if (e.isTrusted) void attach(files);
    });
    input.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (!files.length) return; // text pastes as usual
      e.preventDefault();
      if (e.isTrusted) void attach(files);
    });
  }

  let sending = false;
  const send = async () => {
    const text = input.value;
    if (sealing > 0) return say('error', t('fileStillEncrypting'), 6_000);
    if (sending || (!text.trim() && !attached.length)) return;
    sending = true;
    // The box empties at once, so the next message can be typed while this one goes out (a chat
    // refocusing its own box after a send hands those keys back here); on failure the text
    // comes back in front of whatever was typed meanwhile. Nothing is lost either way.
    input.value = '';
    let sent = false;
    say('ok', t('isoComposerSending'), 30_000);
    try {
      const files = attached;
      const res = await request('secure/send', { token, text, files }, 60_000);
      if (!res.ok) {
        say('error', t('composerNotSent', res.error.message), 15_000);
        return;
      }
      sent = true;
      attached = attached.filter((f) => !files.includes(f));
      showAttached();
      say('ok', res.parts > 1 ? t('isoComposerSentParts', res.parts) : t('isoComposerSent'), 2_500);
    } finally {
      sending = false;
      if (!sent) {
        const later = input.value;
        input.value = later ? `${text}\n${later}` : text;
      }
      keepDraft();
      input.focus();
    }
  };

  // On the document, not the box: a key pressed while the frame's document has focus but the box
  // does not (a press beside it) goes to the box, and an Enter then sends as it would from there.
  doc.addEventListener('keydown', (e) => {
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
  void report('focus', false); // collects what was typed into the page before this frame was ready
}
