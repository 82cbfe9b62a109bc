/**
 * The fixture chat (fixtures/chat/): the SaaS stand-in every end-to-end test talks to, in its plain
 * form (a textarea) and its editor variants (/editors/index.html?editor=quill|prosemirror|lexical|
 * slate|react-textarea: a real editor library as the composer, same message DOM).
 * Snapshots: fixtures/snapshots/fixture-chat*.html.
 */
import type { SiteAdapter } from './types';

export const fixtureChat: SiteAdapter = {
  id: 'fixture-chat',
  name: 'Fixture Chat',
  defaultMatches: ['http://127.0.0.1/*', 'http://localhost/*'],
  selectors: {
    composer: [
      'textarea#compose', // the plain page's textarea, and the React-controlled one
      '#compose[contenteditable="true"]', // an editor whose root is #compose (Lexical, Slate, Quill, ProseMirror)
    ],
    sendButton: ['button#send'], // the Send button of form#composer
    message: [
      '#messages > li.message', // one per message, newest last
      '#thread-messages > li.message', // the open thread's first message and its replies
    ],
    messageText: ['.text'], // message body, URLs linkified into <a>
    messageAuthor: ['.author'], // display name; data-from is preferred
    previews: ['#conversations .conv .preview'], // the conversation list's last-message previews
  },
  authorAttribute: 'data-from',
  messageIdAttribute: 'data-id',
  previewConversationAttribute: 'data-conversation-id',
  messageIdsStable: true, // assigned by the server
  lazyMessageLayout: true, // a plain list the page scrolls to the bottom: nothing measures messages
  currentUser: (doc) => doc.querySelector('#me')?.textContent?.trim() || undefined,
  conversationId: (doc) => doc.querySelector<HTMLElement>('main#chat')?.dataset.conversationId || undefined,
  composerStrategy: 'auto', // textarea or one of four editor libraries: pick by element, verify
  sendTrigger: 'enter',
  maxMessageChars: 4000, // the fixture server's default
  pageMaxMessageChars: (doc) => Number(doc.querySelector<HTMLElement>('main#chat')?.dataset.maxLength) || undefined,
  allowChunks: true,
  extraComposers: [
    // The edit box of one's own message (Edit), pre-filled with its text; Enter or Save saves.
    {
      kind: 'edit',
      composer: ['textarea.edit-input'],
      sendButton: ['button.edit-save'],
      composerStrategy: 'textarea',
      sendTrigger: 'enter',
    },
    // The thread panel's reply box; Enter or Reply sends.
    {
      kind: 'thread',
      composer: ['textarea#thread-compose'],
      sendButton: ['button#thread-send'],
      composerStrategy: 'textarea',
      sendTrigger: 'enter',
    },
  ],
};
