/**
 * Putting text into a chat's compose box so that the *editor's own model* takes it (docs/adapters.md,
 * "Composer strategies"), and reading it back.
 *
 * Rich editors (Quill, ProseMirror, Lexical, Slate, CKEditor) keep a document model and render the
 * DOM from it; the chat sends the model, not the DOM. Editing the DOM behind the model's back makes
 * the screen show the envelope while the model still holds the plaintext, which the chat then
 * sends: a leak. So every strategy goes through an input path the editor handles itself
 * (execCommand, a beforeinput it claims, a paste it claims), waits for the editor to settle and
 * re-render, and verifies that the composer shows exactly the new text. Callers fail closed when
 * this returns false.
 *
 * Text is only ever inserted as text: execCommand('insertText'), InputEvent.data or a clipboard
 * holding nothing but text/plain. Never HTML.
 */
import type { ComposerStrategy } from '../adapters/types';

type Concrete = Exclude<ComposerStrategy, 'auto'>;

const CKEDITOR = '.ck-editor__editable';
const DRAFT = '.public-DraftEditor-content';

/** Editors with a model that execCommand does not reach (measured on each library). */
const EXEC_COMMAND_UNSAFE = [
  '[data-slate-editor]', // Slate: the DOM changes, the model does not
  CKEDITOR, // CKEditor 5: reverts execCommand edits
];

const ZERO_WIDTH = /\u200B|\u200C|\u200D|\u2060|\uFEFF/g;
const BLOCK_TAGS = new Set([
  'P',
  'DIV',
  'LI',
  'UL',
  'OL',
  'PRE',
  'BLOCKQUOTE',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'TABLE',
  'TR',
]);

function isTextField(el: Element): el is HTMLTextAreaElement | HTMLInputElement {
  return el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement;
}

/**
 * The text the composer holds, one `\n` per line break. Rich editors render one block per
 * paragraph and decorate with placeholders and zero-width characters; `innerText` would count a
 * paragraph break as two newlines and include placeholders, so walk the tree instead.
 */
export function readComposer(el: HTMLElement): string {
  if (isTextField(el)) return el.value;
  let out = '';
  const walk = (n: Node): void => {
    if (n.nodeType === Node.TEXT_NODE) {
      out += n.nodeValue ?? '';
      return;
    }
    if (!(n instanceof HTMLElement)) return;
    if (
      n !== el &&
      (n.getAttribute('contenteditable') === 'false' ||
        n.hasAttribute('data-slate-placeholder') ||
        n.getAttribute('aria-hidden') === 'true' ||
        n.classList.contains('ql-clipboard'))
    )
      return;
    if (n.tagName === 'BR') {
      // CKEditor 5 keeps an empty block open with a "filler" <br>: it is not a line break.
      if (!n.hasAttribute('data-cke-filler')) out += '\n';
      return;
    }
    const block = n !== el && BLOCK_TAGS.has(n.tagName);
    if (block && out && !out.endsWith('\n')) out += '\n';
    for (const c of n.childNodes) walk(c);
    if (block && !out.endsWith('\n')) out += '\n';
  };
  walk(el);
  return out
    .replace(ZERO_WIDTH, '')
    .replace(/\u00A0/g, ' ')
    .replace(/\n$/, '');
}

const normalize = (s: string) => s.replace(ZERO_WIDTH, '').replace(/\r\n?/g, '\n').trim();

/** Whether `shown` (a composer's text) is `text`, up to zero-width characters and outer whitespace. */
export function composerHoldsText(shown: string, text: string): boolean {
  return normalize(shown) === normalize(text);
}

/** Whether the composer now shows exactly `text`. */
export function composerHolds(el: HTMLElement, text: string): boolean {
  return composerHoldsText(readComposer(el), text);
}

const tick = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Editors re-render from their model asynchronously (React batches, CKEditor settles after
 * ~150 ms). Wait until the DOM shows `text` and stays so for one more task, bounded.
 */
async function settled(el: HTMLElement, text: string, maxMs: number, holdMs = 20): Promise<boolean> {
  const end = Date.now() + maxMs;
  for (;;) {
    await tick();
    if (composerHolds(el, text)) {
      await tick(holdMs); // a model that reverts the DOM does so within a task or two
      if (composerHolds(el, text)) return true;
    }
    if (Date.now() >= end) return false;
    await tick(15);
  }
}

/**
 * Selects everything in the box. A box that was not focused (the user clicked Send) gets the focus
 * first and a task to settle: editors put their own selection back when they regain focus (Draft.js
 * re-renders its caret at the end), and a selection made before that would be overridden, so the
 * text would land at the caret, next to what it should replace.
 */
async function selectAll(el: HTMLElement): Promise<void> {
  if (el.ownerDocument.activeElement !== el) {
    el.focus();
    await tick();
  }
  if (isTextField(el)) {
    el.select();
    return;
  }
  const range = el.ownerDocument.createRange();
  range.selectNodeContents(el);
  const sel = el.ownerDocument.getSelection()!;
  sel.removeAllRanges();
  sel.addRange(range);
  // Editors (Slate, Lexical, ProseMirror) sync their model selection on selectionchange.
  el.ownerDocument.dispatchEvent(new Event('selectionchange'));
}

function setNativeValue(el: HTMLTextAreaElement | HTMLInputElement, text: string): void {
  // The prototype's setter bypasses framework value trackers (React), so the input event counts.
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, text);
  el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertReplacementText', data: text }));
}

/**
 * How one attempt ended: `verified`; `passed` (the editor left this input path to the browser: the
 * next one may go); `refused` (the editor claimed the input, yet does not show the text: it refused
 * it, took it somewhere else, or took it and threw it away).
 */
type Outcome = 'verified' | 'passed' | 'refused';

/** After an input the editor claimed (cancelled, to apply it itself). */
async function claimed(el: HTMLElement, text: string, maxMs: number): Promise<Outcome> {
  return (await settled(el, text, maxMs)) ? 'verified' : 'refused';
}

type Waivable<T> = T & { wrappedJSObject?: T };

/**
 * A paste event carrying `text` only. Firefox gives a script-made paste event an empty
 * clipboardData whatever the init says (measured: no types, no data), so there the event gets the
 * filled one as its own property, set on the page's view of it (content scripts see the page's
 * objects through wrappers their property writes do not pass). The text is set through the page's
 * view too: Firefox hands a DataTransfer entry only to callers whose principal covers the one that
 * set it, so text the content script set reads as "" in the page (measured: the type is listed,
 * getData is empty, and CKEditor 5 and Draft.js pasted nothing). The page could only spoil its own
 * paste that way, which the read-back then refuses.
 */
function pasteEvent(text: string): ClipboardEvent {
  const data = new DataTransfer();
  const pageData = (data as Waivable<DataTransfer>).wrappedJSObject ?? data; // Chromium: no wrappers
  pageData.setData('text/plain', text); // text only: an HTML flavour could inject markup
  const ev = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true, composed: true });
  const target = (ev as Waivable<ClipboardEvent>).wrappedJSObject;
  if (!target) return ev; // Chromium: the init's clipboardData is the event's
  Object.defineProperty(target, 'clipboardData', { value: pageData, configurable: true });
  return ev;
}

/** One attempt. */
const attempts: Record<Concrete, (el: HTMLElement, text: string) => Promise<Outcome>> = {
  async textarea(el, text) {
    if (!isTextField(el)) return 'passed';
    await selectAll(el);
    // execCommand keeps the browser's undo stack and fires trusted beforeinput/input events.
    if (!el.ownerDocument.execCommand('insertText', false, text) || el.value !== text) setNativeValue(el, text);
    // A controlled input (React) re-renders from its state: a value its state did not take reverts,
    // within the input event's own task (React flushes discrete events synchronously), so one more
    // task is enough here; rich editors keep the longer hold. Measured: bench/results.md, Send.
    return el.value === text && (await settled(el, text, 100, 0)) ? 'verified' : 'passed';
  },

  async contenteditable(el, text) {
    if (!el.isContentEditable || EXEC_COMMAND_UNSAFE.some((s) => el.closest(s))) return 'passed';
    await selectAll(el);
    if (!el.ownerDocument.execCommand('insertText', false, text)) return 'passed';
    return (await settled(el, text, 150)) ? 'verified' : 'passed';
  },

  async beforeinput(el, text) {
    if (!el.isContentEditable) return 'passed';
    await selectAll(el);
    await tick(); // let throttled selection sync run (Slate, Lexical)
    const ev = new InputEvent('beforeinput', {
      inputType: 'insertText',
      data: text,
      bubbles: true,
      cancelable: true,
      composed: true,
    });
    // A synthetic event has no default action: an editor that claims it (preventDefault) changes
    // its model now. One that leaves it unclaimed did nothing, except an editor that execCommand
    // cannot reach: CKEditor 5 queues unclaimed text and applies it ~50 ms later (measured), so
    // wait for it there, or the next strategy would run first and the text land twice.
    if (el.dispatchEvent(ev) && !EXEC_COMMAND_UNSAFE.some((s) => el.closest(s))) return 'passed';
    return claimed(el, text, 300);
  },

  async paste(el, text) {
    if (!el.isContentEditable) return 'passed';
    await selectAll(el);
    await tick();
    if (el.dispatchEvent(pasteEvent(text))) return 'passed';
    return claimed(el, text, 300);
  },
};

/** The order `auto` tries for this element; the first verified one wins. */
export function autoOrder(el: HTMLElement): Concrete[] {
  if (isTextField(el)) return ['textarea'];
  if (!el.isContentEditable) return [];
  // CKEditor 5 applies a pasted text at once and a synthetic beforeinput only later: paste first.
  if (el.closest(CKEDITOR)) return ['paste', 'beforeinput'];
  // Draft.js takes execCommand within one block, but an edit across blocks changes DOM nodes React
  // renders and React then crashes, taking the whole editor down (measured). Its paste handler
  // edits only its model: paste first; execCommand stays the fallback for an unclaimed paste.
  if (el.closest(DRAFT)) return ['paste', 'contenteditable'];
  if (EXEC_COMMAND_UNSAFE.some((s) => el.closest(s))) return ['beforeinput', 'paste'];
  // An editor that claims beforeinput updates its model directly; others (Quill, ProseMirror,
  // plain contenteditable) leave it unclaimed and take execCommand through their DOM observers.
  return ['beforeinput', 'contenteditable', 'paste'];
}

/**
 * Replaces the composer's whole content with `text`; true only if verified. An editor that claimed
 * an attempt, yet does not show the text, refused it or took it its own way: forcing the text in
 * through another path behind its back is what put it into the box twice (the first insertion
 * landing late, or at a caret the editor had kept), what crashed React editors (an execCommand
 * edit across the nodes they render) and what let an editor show text its model never took (the
 * chat then sends the model), so it stops there. Before each further path, the box may already hold the
 * text (an earlier one landed late): then nothing is inserted again.
 */
export async function replaceComposerText(el: HTMLElement, text: string, strategy: ComposerStrategy): Promise<boolean> {
  const order = strategy === 'auto' ? autoOrder(el) : [strategy];
  for (const [i, s] of order.entries()) {
    if (i > 0 && composerHolds(el, text)) return true;
    const result = await attempts[s](el, text);
    if (result === 'verified') return true;
    if (result === 'refused') return false;
  }
  return false;
}
