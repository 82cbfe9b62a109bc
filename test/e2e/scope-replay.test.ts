/**
 * The vendor moves envelopes around: copies one from a conversation its key is not for into
 * another, copies one from a chat Veil isolates into an inline page, and re-delivers an old one
 * as a new message after the original is gone and the browser restarted. Real Chromium, built
 * extension, the fixture chat as the vendor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64 } from '@scure/base';
import { conversationId, startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { launchUser, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { bundleText, envelopeFor, makeKey } from '../support/keys';
import { importBundle, keyTable, openChat, openOptions, shownMessages, waitForMessage } from '../support/veil-ui';

const PASS = 'a passphrase for the bundle';
let server: ChatServer;
let bob: User;

const general = conversationId('alice', '#general');
const dm = conversationId('alice', 'bob');
/** The channel's key: scoped to it alone. */
const channelKey = makeKey('General only', { site: 'fixture-chat', conversations: [general] });
/** The direct conversation's key. */
const dmKey = makeKey('Alice and Bob', { site: 'fixture-chat', conversations: [dm] });

beforeAll(async () => {
  server = await startChatServer();
  bob = await launchUser('bob');
  expect((await importBundle(bob, await bundleText([channelKey, dmKey], PASS), PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await bob?.close();
  await server?.close();
});

describe('an envelope outside its scope', () => {
  it('copied from the channel into a direct conversation, it is not decrypted there', async () => {
    const secret = envelopeFor(channelKey, 'the board meets at nine', { conversationId: general, senderId: 'alice' });
    await injectMessage(server, 'alice', '#general', secret);
    await injectMessage(server, 'alice', 'bob', secret); // the vendor's copy
    const [ch, direct] = await Promise.all([openChat(bob, server.url, 'general'), openChat(bob, server.url, 'alice')]);
    expect((await waitForMessage(ch, (m) => m.status !== null, 'channel message')).status).toBe('decrypted');
    const copied = await waitForMessage(direct, (m) => m.status !== null, 'copied envelope');
    expect(copied.status).toBe('out-of-scope');
    expect(copied.badge).toContain('Key not for this conversation');
    expect(JSON.stringify(await shownMessages(direct))).not.toContain('the board meets');
    await Promise.all([ch.close(), direct.close()]);
  });
});

describe('replay', () => {
  it('an old message re-delivered as a new one after a restart is flagged; the original re-rendered is not', async () => {
    const original = envelopeFor(dmKey, 'yes, pay it', { conversationId: dm, senderId: 'alice' });
    await injectMessage(server, 'alice', 'bob', original);
    let page = await openChat(bob, server.url, 'alice');
    expect((await waitForMessage(page, (m) => m.text === 'yes, pay it', 'original')).status).toBe('decrypted');
    await page.close();

    await bob.relaunch();
    page = await openChat(bob, server.url, 'alice'); // the same message, shown again: not a replay
    expect((await waitForMessage(page, (m) => m.text === 'yes, pay it', 'original again')).status).toBe('decrypted');
    await page.close();

    // The vendor's next server state: the original is gone, the envelope comes back as a new
    // message (new id, same conversation and author). No other copy is on the page to compare with.
    const later = await startChatServer();
    try {
      later.seed([
        { from: 'alice', to: 'bob', text: 'filler 1' },
        { from: 'alice', to: 'bob', text: 'filler 2' },
        { from: 'alice', to: 'bob', text: 'filler 3' },
      ]);
      later.seed([{ from: 'alice', to: 'bob', text: original }]);
      page = await openChat(bob, later.url, 'alice');
      const replayed = await waitForMessage(page, (m) => m.status !== null, 're-delivered');
      expect(replayed.status).toBe('replayed');
      await page.close();
    } finally {
      await later.close();
    }
  });
});

describe('importing a bundle', () => {
  it('shows what it changes and changes nothing until the user confirms', async () => {
    const takeover = { ...makeKey('Alice and Bob (new)', dmKey.scope), createdAt: dmKey.createdAt + 1 };
    const text = await bundleText([takeover], PASS);
    const cancelled = await importBundle(bob, text, PASS, 'cancel');
    expect(cancelled.preview.join('\n')).toContain(`⚠ Becomes the key that encrypts`);
    expect(cancelled.preview.join('\n')).toContain(`Alice and Bob (${dmKey.id})`);
    expect(cancelled.text).toContain('nothing changed');
    // Nothing was written: the old key is the only one for the conversation, still active.
    let options = await openOptions(bob);
    expect((await keyTable(options)).map((k) => k.id)).not.toContain(takeover.id);
    await options.close();
    expect((await importBundle(bob, text, PASS, 'confirm')).tone).toBe('ok');
    options = await openOptions(bob);
    const table = await keyTable(options);
    expect(table.find((k) => k.id === takeover.id)?.status).toMatch(/active/i);
    expect(table.find((k) => k.id === dmKey.id)?.status).toMatch(/retired/i);
    await options.close();
  });
});

describe('a key an isolated chat uses', () => {
  it('never decrypts into an inline page, even when the vendor copies its envelopes there', async () => {
    const shared = makeKey('Shared', { site: '*', conversations: ['*'] });
    const veil = {
      protectedSites: [
        { adapter: 'fixture-chat', matches: [`${server.url}/*`] },
        { adapter: 'thelounge', matches: ['http://localhost/*'], mode: 'isolated' },
      ],
      keys: [
        {
          id: shared.id,
          secret: base64.encode(shared.secret),
          label: shared.label,
          scope: shared.scope,
          status: 'active',
          createdAt: shared.createdAt,
        },
      ],
    };
    const carol = await launchUser('carol', {
      policy: { '3rdparty': { extensions: { [CHROME_EXTENSION_ID]: veil } } },
    });
    try {
      const conv = conversationId('alice', 'carol');
      await injectMessage(
        server,
        'alice',
        'carol',
        envelopeFor(shared, 'isolated secret', { conversationId: conv, senderId: 'alice' }),
      );
      const page = await openChat(carol, server.url, 'alice', 'carol');
      const copied = await waitForMessage(page, (m) => m.status !== null, 'copied envelope');
      expect(copied.status).toBe('out-of-scope');
      expect(copied.badge).toContain("Readable only in Veil's secure frames");
      expect(JSON.stringify(await shownMessages(page))).not.toContain('isolated secret');
      await page.close();
    } finally {
      await carol.close();
    }
  });
});
