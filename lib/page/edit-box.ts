/**
 * The chat's edit box on an encrypted message (inline mode): it opens holding the envelope, since
 * the page knows nothing else, so Veil puts the decrypted text there for the user to change; and a
 * save is bound to the message it edits (the envelope names it, lib/crypto/envelope.ts), so the
 * vendor cannot show the edit in place of another message. Only boxes an adapter declares as `edit`.
 */
import { closestAny, composersOf, type ComposerSpec, type SiteAdapter } from '../adapters/types';
import { splitFileRefs, type FileRef } from '../crypto/file-ref';
import type { EditTarget } from '../messaging/protocol';
import { composerHolds, readComposer, replaceComposerText } from './composer';
import { hostIdOf } from './message-scan';

/** What the renderer showed for a message element (see MessageRenderer.shownMessage). */
export interface ShownMessage {
  messageId: string;
  text: string;
  envelopes: string[];
  /** Who the page says wrote it; the envelope is bound to that author (else it would not show decrypted). */
  author: string;
}

type Shown = (messageEl: Element) => ShownMessage | undefined;

const editSpecs = (adapter: SiteAdapter): ComposerSpec[] => composersOf(adapter).filter((c) => c.kind === 'edit');

/**
 * Edit boxes Veil filled with a message's decrypted text, the message they opened on, and the
 * message's attached files: the box shows the user's words only, and a save keeps the files.
 */
const opened = new WeakMap<
  HTMLElement,
  { message: Element; target: EditTarget; files: FileRef[]; conversationId: string | undefined }
>();

const targetOf = (adapter: SiteAdapter, message: Element, facts: ShownMessage): EditTarget => ({
  messageId: facts.messageId,
  hostId: hostIdOf(adapter, message) ?? '',
});

/**
 * The message an edit box edits, when Veil showed it decrypted; undefined for a plaintext message.
 * 'moved' when the box opened on one message and now sits in another, or that message's id changed:
 * the page moved it, and the user's edit must not be saved as an edit of a message they never chose.
 */
export function editTargetOf(adapter: SiteAdapter, shown: Shown, box: HTMLElement): EditTarget | 'moved' | undefined {
  const message = closestAny(box, adapter.selectors.message);
  const was = opened.get(box);
  if (was) {
    const same =
      message === was.message &&
      (hostIdOf(adapter, message) ?? '') === was.target.hostId &&
      adapter.conversationId(box.ownerDocument) === was.conversationId;
    return same ? was.target : 'moved';
  }
  const facts = message ? shown(message) : undefined;
  return message && facts ? targetOf(adapter, message, facts) : undefined;
}

/** The files of the message an edit box opened on, which its save keeps (none for other boxes). */
export function editFilesOf(box: HTMLElement): FileRef[] {
  return opened.get(box)?.files ?? [];
}

/**
 * Watches for edit boxes that open holding a message's envelope and puts its decrypted text there
 * instead, through the box's own input path (the editor's model takes it, as for a send).
 */
export function watchEditBoxes(doc: Document, adapter: SiteAdapter, shown: Shown): MutationObserver | undefined {
  const specs = editSpecs(adapter);
  if (!specs.length) return undefined;
  const done = new WeakSet<Element>();
  const check = () => {
    for (const spec of specs) {
      for (const sel of spec.composer) {
        for (const box of doc.querySelectorAll<HTMLElement>(sel)) {
          if (done.has(box)) continue;
          done.add(box);
          const message = closestAny(box, adapter.selectors.message);
          const facts = message && shown(message);
          const held = readComposer(box).trim();
          const { refs, text } = facts ? splitFileRefs(facts.text) : { refs: [], text: '' };
          // Files are kept only on the user's own message: a box the page opens on someone else's
          // must not carry their files, unseen, into what the user saves.
          const files = facts?.author === adapter.currentUser(doc) ? refs : [];
          // Only the untouched envelope is swapped: anything else is the user's or the page's own text.
          if (facts && held && held === facts.envelopes.join('\n').trim() && !composerHolds(box, text)) {
            const conversationId = adapter.conversationId(doc);
            opened.set(box, { message: message!, target: targetOf(adapter, message!, facts), files, conversationId });
            void replaceComposerText(box, text, spec.composerStrategy);
          }
        }
      }
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(doc, { childList: true, subtree: true });
  check();
  return observer;
}
