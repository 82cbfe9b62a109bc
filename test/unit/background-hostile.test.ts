/**
 * The background's request handlers as a hostile page drives them (through its content script):
 * decrypts outside a key's scope, decrypts that would keep the keyring unlocked for ever, and a
 * content script that sends far more than any real page. Real keyring over fake IndexedDB; the
 * policy and the isolated-mode settings are mocked.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from '@noble/ciphers/utils.js';
import type { Policy, ProtectedSite } from '../../lib/policy/policy';

const state = vi.hoisted(() => ({
  policy: undefined as unknown as Policy,
  userModes: {} as Record<string, string>,
}));
vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));
vi.mock('../../lib/background/policy-source', () => ({ policy: () => state.policy }));
vi.mock('../../lib/background/isolated/settings', () => ({
  isolatedSettings: { get: async () => ({ indicator: undefined, siteModes: state.userModes }) },
}));

const { Keyring, noLockCache } = await import('../../lib/background/keyring');
const { KeyStore } = await import('../../lib/background/keys/store');
const { contentHandlers } = await import('../../lib/background/handlers/content');
const { keyHandlers } = await import('../../lib/background/handlers/keys');
const { toEnvelopeTexts } = await import('../../lib/crypto/chunks');
const { sealMessage, deriveKey } = await import('../../lib/crypto/envelope');
const { hexToBytes } = await import('@noble/ciphers/utils.js');

const fixture: ProtectedSite = { adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] };
const lounge: ProtectedSite = { adapter: 'thelounge', matches: ['http://127.0.0.1:9000/*'] };

function setPolicy(sites: ProtectedSite[]) {
  state.policy = {
    managed: false,
    protectedSites: sites,
    requireEncryption: true,
    flagUnencrypted: true,
    allowUserKeys: true,
    allowKeyExport: true,
    mode: 'inline',
    policyKeyIds: [],
    errors: [],
  };
}

let n = 0;
async function ring() {
  const uses = { n: 0 };
  const keyring = new Keyring(new KeyStore(`veil-hostile-${n++}-${Date.now()}`), noLockCache, () => uses.n++);
  return { keyring, uses };
}

/** An envelope as a member of the conversation would send it, under a key of this keyring. */
async function envelope(
  keyring: InstanceType<typeof Keyring>,
  keyId: string,
  conversationId: string,
  senderId = 'alice',
  sentAt = Date.now(),
) {
  const secret = (await keyring.exportable([keyId]))[0]!.secret;
  const frame = sealMessage(
    deriveKey({ id: hexToBytes(keyId), secret }),
    'pay the invoice',
    { conversationId, senderId },
    { sentAt, nonce: randomBytes(16) },
  );
  return toEnvelopeTexts(frame, 100_000, randomBytes(4), false)[0]!;
}

const decrypt = (
  keyring: InstanceType<typeof Keyring>,
  site: ProtectedSite,
  conversationId: string,
  texts: string[],
  extra: { hostId?: string; author?: string } = {},
) =>
  contentHandlers.decrypt(
    { conversationId, items: [{ id: '1', texts, author: extra.author ?? 'alice', hostId: extra.hostId }] },
    { keyring, site },
  );

beforeEach(() => {
  setPolicy([fixture, lounge]);
  state.userModes = {};
});

describe('decrypt honours the key scope', () => {
  it('a key scoped to #exec decrypts nothing outside #exec, on any protected site', async () => {
    const { keyring } = await ring();
    const key = await keyring.generate('exec', { site: 'thelounge', conversations: ['#exec'] });
    const text = await envelope(keyring, key.id, '#exec');
    const home = await decrypt(keyring, lounge, '#exec', [text]);
    expect(home.ok && home.items[0]).toMatchObject({ status: 'decrypted', text: 'pay the invoice' });
    // The vendor copies the envelope into another channel and into another protected chat.
    for (const [site, conv] of [
      [lounge, '#random'],
      [fixture, '#exec'],
    ] as const) {
      const r = await decrypt(keyring, site, conv, [text]);
      expect(r.ok && r.items[0]).toMatchObject({ status: 'out-of-scope', keyId: key.id });
      expect(r.ok && r.items[0]!.text).toBeUndefined();
    }
  });

  it('a key any isolated chat uses never decrypts into an inline page', async () => {
    const { keyring } = await ring();
    const shared = await keyring.generate('everywhere', { site: '*', conversations: ['*'] });
    const text = await envelope(keyring, shared.id, 'dm-a-b');
    expect((await decrypt(keyring, fixture, 'dm-a-b', [text])).ok).toBe(true);
    const before = await decrypt(keyring, fixture, 'dm-a-b', [text]);
    expect(before.ok && before.items[0]!.status).toBe('decrypted');
    // The same vendor serves The Lounge in isolated mode with the same key.
    setPolicy([fixture, { ...lounge, mode: 'isolated' }]);
    const after = await decrypt(keyring, fixture, 'dm-a-b', [text]);
    expect(after.ok && after.items[0]).toMatchObject({ status: 'out-of-scope', isolatedKey: true });
    expect(after.ok && after.items[0]!.text).toBeUndefined();
    // The user's own switch counts as much as the policy's.
    setPolicy([fixture, lounge]);
    state.userModes = { thelounge: 'isolated' };
    const mine = await decrypt(keyring, fixture, 'dm-a-b', [text]);
    expect(mine.ok && mine.items[0]).toMatchObject({ status: 'out-of-scope', isolatedKey: true });
  });
});

describe('quote-replies', () => {
  const send = (keyring: InstanceType<typeof Keyring>, site: ProtectedSite, conversationId: string, text: string) =>
    contentHandlers.encrypt(
      { conversationId, senderId: 'bob', text, maxChars: 100_000, allowChunks: false },
      { keyring, site },
    );

  it('a quoted envelope travels as its plaintext, sealed, and the receiver checks it against the original', async () => {
    const { keyring } = await ring();
    const key = await keyring.generate('k', { site: '*', conversations: ['*'] });
    const original = await envelope(keyring, key.id, 'dm-a-b');
    const sent = await send(keyring, fixture, 'dm-a-b', `> ${original}\n\nyes, today`);
    if (!sent.ok) throw new Error(sent.error.message);
    expect(sent.envelopes.join('')).not.toContain(original);
    const both = await contentHandlers.decrypt(
      {
        conversationId: 'dm-a-b',
        items: [
          { id: 'reply', texts: sent.envelopes, author: 'bob' },
          { id: 'original', texts: [original], author: 'alice' },
        ],
      },
      { keyring, site: fixture },
    );
    expect(both.ok && both.items[0]).toMatchObject({
      status: 'decrypted',
      text: '> pay the invoice\n\nyes, today',
      quote: 'verified',
    });
    expect(both.ok && both.items[0]).not.toHaveProperty('quotedMessages');
  });

  it("the page cannot launder another conversation's or an isolated chat's message into this one by quoting it", async () => {
    const { keyring } = await ring();
    const exec = await keyring.generate('exec', { site: 'fixture-chat', conversations: ['#exec'] });
    await keyring.generate('random', { site: 'fixture-chat', conversations: ['#random'] });
    const site = await keyring.generate('everywhere', { site: '*', conversations: ['dm-*'] });
    const fromExec = await envelope(keyring, exec.id, '#exec');
    const fromOtherDm = await envelope(keyring, site.id, 'dm-a-c');
    for (const [conv, planted] of [
      ['#random', fromExec],
      ['dm-a-b', fromOtherDm],
    ] as const) {
      const sent = await send(keyring, fixture, conv, `> ${planted}\n\nok`);
      if (!sent.ok) throw new Error(sent.error.message);
      const shown = await decrypt(keyring, fixture, conv, sent.envelopes, { author: 'bob' });
      // Left as the envelope it was: its words never get sealed under this conversation's key.
      expect(shown.ok && shown.items[0]!.text).toBe(`> ${planted}\n\nok`);
      expect(shown.ok && shown.items[0]!.quote).toBeUndefined();
    }
    // A narrower key's message, once its key is retired and a wider key encrypts there: quoting it
    // would hand its words to the wider key's readers. A revoked key's message is never quoted either.
    const narrow = await keyring.generate('exec only', { site: 'fixture-chat', conversations: ['#board'] });
    const fromBoard = await envelope(keyring, narrow.id, '#board');
    await keyring.setStatus(narrow.id, 'retired');
    await keyring.generate('wide', { site: 'fixture-chat', conversations: ['#*'] });
    const laundered = await send(keyring, fixture, '#board', `> ${fromBoard}`);
    if (!laundered.ok) throw new Error(laundered.error.message);
    const seen = await decrypt(keyring, fixture, '#board', laundered.envelopes, { author: 'bob' });
    expect(seen.ok && seen.items[0]!.text).toBe(`> ${fromBoard}`);
    // A key an isolated chat uses: the inline page's quote of it stays sealed too.
    const shared = await keyring.generate('shared', { site: '*', conversations: ['#ops'] });
    const isolatedOne = await envelope(keyring, shared.id, '#ops');
    setPolicy([fixture, { ...lounge, mode: 'isolated' }]);
    const sent = await send(keyring, fixture, '#ops', `> ${isolatedOne}`);
    if (!sent.ok) throw new Error(sent.error.message);
    expect(sent.envelopes).toHaveLength(1);
    setPolicy([fixture, lounge]);
    const shown = await decrypt(keyring, fixture, '#ops', sent.envelopes, { author: 'bob' });
    expect(shown.ok && shown.items[0]!.text).toBe(`> ${isolatedOne}`);
  });
});

describe('decrypted previews (policy previews: "decrypt")', () => {
  const preview = (
    keyring: InstanceType<typeof Keyring>,
    site: ProtectedSite,
    conversationId: string,
    texts: string[],
  ) => contentHandlers['decrypt/preview']({ conversationId, texts }, { keyring, site });

  it('open only where policy asks, in inline mode, as messages of that very conversation', async () => {
    const { keyring } = await ring();
    const key = await keyring.generate('k', { site: '*', conversations: ['dm-*'] });
    const exec = await keyring.generate('exec', { site: 'fixture-chat', conversations: ['#exec'] });
    const here = await envelope(keyring, key.id, 'dm-a-b');
    const moved = await envelope(keyring, key.id, 'dm-a-c');
    const otherScope = await envelope(keyring, exec.id, '#exec');
    // Default policy: labels only, the request is refused.
    expect((await preview(keyring, fixture, 'dm-a-b', [here])).ok).toBe(false);
    state.policy.previews = 'decrypt';
    const r = await preview(keyring, fixture, 'dm-a-b', [here, moved, otherScope, 'VEIL1broken0', 42 as never]);
    expect(r.ok && r.texts).toEqual(['pay the invoice', null, null, null, null]);
    // Isolated mode never decrypts a preview, whatever the policy says.
    state.userModes = { 'fixture-chat': 'isolated' };
    expect((await preview(keyring, fixture, 'dm-a-b', [here])).ok).toBe(false);
  });

  it('a preview is not a showing: the message itself is not flagged as replayed afterwards', async () => {
    const { keyring } = await ring();
    const key = await keyring.generate('k', { site: '*', conversations: ['*'] });
    const text = await envelope(keyring, key.id, 'dm-a-b');
    state.policy.previews = 'decrypt';
    await preview(keyring, fixture, 'dm-a-b', [text]);
    const shown = await decrypt(keyring, fixture, 'dm-a-b', [text], { hostId: 'm1' });
    expect(shown.ok && shown.items[0]).toMatchObject({ status: 'decrypted' });
    expect(shown.ok && shown.items[0]!.replayed).toBeFalsy();
  });
});

describe('auto-lock', () => {
  it('decrypts and previews the page triggers do not restart the idle timer; user actions do', async () => {
    const { keyring, uses } = await ring();
    const key = await keyring.generate('k', { site: '*', conversations: ['*'] });
    const text = await envelope(keyring, key.id, 'dm-a-b');
    uses.n = 0;
    for (let i = 0; i < 5; i++) {
      await decrypt(keyring, fixture, 'dm-a-b', [text]);
      await contentHandlers['encrypt/preview']({ conversationId: 'dm-a-b' }, { keyring, site: fixture });
    }
    expect(uses.n).toBe(0);
    await contentHandlers.encrypt(
      { conversationId: 'dm-a-b', senderId: 'alice', text: 'hi', maxChars: 4000, allowChunks: false },
      { keyring, site: fixture },
    );
    expect(uses.n).toBe(1);
    await keyHandlers['keys/list']({}, { keyring });
    expect(uses.n).toBe(2);
    await keyHandlers['keys/lock']({}, { keyring });
    expect(uses.n).toBe(2);
  });
});

describe('replay across reloads', () => {
  it('the same envelope shown as a second message is flagged; re-rendering the first is not', async () => {
    const { keyring } = await ring();
    const key = await keyring.generate('k', { site: '*', conversations: ['*'] });
    const text = await envelope(keyring, key.id, 'dm-a-b');
    const shown = (hostId?: string, author = 'alice') =>
      decrypt(keyring, fixture, 'dm-a-b', [text], { hostId, author });
    const first = await shown('m1');
    expect(first.ok && first.items[0]).toMatchObject({ status: 'decrypted' });
    expect(first.ok && first.items[0]!.replayed).toBeUndefined();
    // Re-rendered (re-opened, a second tab, a reload): same host id, not a replay.
    const again = await shown('m1');
    expect(again.ok && again.items[0]!.replayed).toBeUndefined();
    // Re-delivered by the vendor as a new message: another host id.
    const replay = await shown('m77');
    expect(replay.ok && replay.items[0]!.replayed).toBe(true);
  });

  it('a chat whose ids change per session (The Lounge) is not flagged across reloads by id', async () => {
    const { keyring } = await ring();
    const key = await keyring.generate('k', { site: '*', conversations: ['*'] });
    const text = await envelope(keyring, key.id, '#ops');
    await decrypt(keyring, lounge, '#ops', [text], { hostId: 'msg-1' });
    const reload = await decrypt(keyring, lounge, '#ops', [text], { hostId: 'msg-9' });
    expect(reload.ok && reload.items[0]!.replayed).toBeUndefined();
  });
});
