/**
 * Putting text into a chat's compose box so that the app's own state takes it (DESIGN.md,
 * "Composer strategies"). Each strategy verifies its result; callers fail closed on `false`.
 */
import type { ComposerStrategy } from '../adapters/types';

export function readComposer(el: HTMLElement): string {
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement) return el.value;
  return el.innerText.replace(/\n$/, '');
}

function setNativeValue(el: HTMLTextAreaElement | HTMLInputElement, text: string): void {
  // The prototype's setter bypasses framework value trackers (React), so the input event counts.
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, text);
  el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertReplacementText', data: text }));
}

function replaceTextarea(el: HTMLTextAreaElement | HTMLInputElement, text: string): boolean {
  el.focus();
  el.select();
  // execCommand keeps the browser's undo stack and fires trusted beforeinput/input events.
  if (!document.execCommand('insertText', false, text) || el.value !== text) setNativeValue(el, text);
  return el.value === text;
}

function replaceContentEditable(el: HTMLElement, text: string): boolean {
  el.focus();
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = getSelection()!;
  sel.removeAllRanges();
  sel.addRange(range);
  document.execCommand('insertText', false, text);
  return readComposer(el).trim() === text.trim();
}

export function replaceComposerText(el: HTMLElement, text: string, strategy: ComposerStrategy): boolean {
  if (strategy === 'textarea' && (el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement)) {
    return replaceTextarea(el, text);
  }
  if (strategy === 'contenteditable' && el.isContentEditable) return replaceContentEditable(el, text);
  return false;
}
