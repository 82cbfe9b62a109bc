/**
 * The Lounge (thelounge.chat), the open-source web IRC client, version 4.5.
 * Snapshot: fixtures/snapshots/thelounge.html. End to end: test/e2e/thelounge.test.ts.
 *
 * The Lounge is self-hosted, so it has no fixed domain: `defaultMatches` is empty and an admin
 * names the instance's URLs in policy (`{ adapter: 'thelounge', matches: ['https://irc.example.com/*'] }`).
 */
import type { SiteAdapter } from './types';

/** IRC names are case-insensitive (RFC 2812 treats []\~ as lower-case {}|^; ASCII folding suffices here). */
const fold = (s: string) => s.trim().toLowerCase();

export const theLounge: SiteAdapter = {
  id: 'thelounge',
  name: 'The Lounge (IRC)',
  defaultMatches: [],
  selectors: {
    composer: ['form#form textarea#input'], // the one message input under the open channel
    sendButton: ['form#form #submit'], // the paper-plane button (type=submit)
    message: ['#chat .msg[data-type="message"]'], // user messages, not joins, modes or /me actions
    messageText: ['.content'], // body; URLs, nicks and channels are wrapped in <a>/<span>
    messageAuthor: ['.from .user'], // nick; data-from is preferred
  },
  authorAttribute: 'data-from',
  messageIdAttribute: 'id', // msg-<n>, unique per client session
  currentUser: (doc) => doc.querySelector('form#form #nick')?.textContent?.trim() || undefined,
  conversationId(doc) {
    const view = doc.querySelector<HTMLElement>('#chat .chat-view');
    const name =
      doc.querySelector<HTMLElement>('#chat-container')?.dataset.currentChannel || view?.getAttribute('aria-label');
    if (!view || !name) return undefined;
    if (view.dataset.type === 'channel') return fold(name);
    if (view.dataset.type === 'query') {
      // A private conversation is named after the other nick on each side: sort, so both agree.
      const me = theLounge.currentUser(doc);
      return me ? `query:${[fold(me), fold(name)].sort().join(',')}` : undefined;
    }
    return undefined; // lobby, special windows: nothing to protect or send
  },
  composerStrategy: 'textarea',
  // The Lounge binds Enter with Mousetrap, which ignores synthetic key events: click Send instead.
  sendTrigger: 'click',
  // The IRC server splits lines at 512 bytes including ":nick!user@host PRIVMSG #chan :"; envelopes
  // are ASCII, so 300 characters leaves room for long nicks, hosts and channel names.
  maxMessageChars: 300,
  allowChunks: true,
};
