/**
 * Isolated mode's edit composers as a hostile page drives them: the page chooses which message an
 * edit box opens on and who it says is signed in. Only the user's own message opens, decrypted into
 * the composer frame alone, and the edit is sealed bound to it. Real keyring over fake IndexedDB;
 * the page's side (its content script) answers host commands from a stub.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from '@noble/ciphers/utils.js';
import type { Policy } from '../../lib/policy/policy';

const page = vi.hoisted(() => ({ senderId: 'alice', conversationId: 'dm-alice-bob', put: [] as string[][] }));
vi.mock('webextension-polyfill', () => ({
  default: {
    storage: {},
    runtime: { getURL: (p: string) => `chrome-extension://veil${p}` },
    tabs: {
      onRemoved: { addListener() {} },
      // The content script of the page that placed the frame.
      async sendMessage(_tab: number, m: { type: string; req: { envelopes?: string[] } }) {
        if (m.type === 'host/compose-context')
          return { ok: true, ...page, maxChars: 4000, allowChunks: true, put: undefined };
        if (m.type === 'host/put-envelopes') page.put.push(m.req.envelopes!);
        return { ok: true };
      },
    },
  },
}));
const policy: Policy = {
  managed: true,
  protectedSites: [{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'], mode: 'isolated' }],
  requireEncryption: true,
  flagUnencrypted: true,
  allowUserKeys: true,
  allowKeyExport: true,
  mode: 'isolated',
  policyKeyIds: [],
  errors: [],
};
vi.mock('../../lib/background/policy-source', () => ({ policy: () => policy }));
vi.mock('../../lib/background/isolated/settings', () => ({
  isolatedSettings: {
    get: async () => ({ indicator: { symbol: '🦜', phrase: 'teal', color: '#0b57d0' }, siteModes: {} }),
  },
}));

const { Keyring, noLockCache } = await import('../../lib/background/keyring');
const { KeyStore } = await import('../../lib/background/keys/store');
const { isolatedHandlers } = await import('../../lib/background/handlers/isolated');
const { toEnvelopeTexts } = await import('../../lib/crypto/chunks');
const { findEnvelopes } = await import('../../lib/crypto/codec');
const { sealMessage, deriveKey, openMessage, parseHeader } = await import('../../lib/crypto/envelope');
const { ed25519 } = await import('@noble/curves/ed25519.js');
const { bytesToHex, hexToBytes } = await import('@noble/ciphers/utils.js');

const site = policy.protectedSites[0]!;
const host = { tabId: 5, frameId: 0, documentId: 'page', url: 'http://127.0.0.1/' };
const frame = { tabId: 5, frameId: 9, documentId: 'frame', url: 'chrome-extension://veil/secure-composer.html' };
let n = 0;

async function setUp() {
  const keyring = new Keyring(new KeyStore(`veil-edit-${n++}-${Date.now()}`), noLockCache);
  const key = await keyring.generate('team', { site: '*', conversations: ['*'] });
  const secret = (await keyring.exportable([key.id]))[0]!.secret;
  const derived = deriveKey({ id: hexToBytes(key.id), secret });
  /** A message as `senderId` sent it, signed with `signingKey` when given. */
  const message = (text: string, senderId: string, signingKey?: Uint8Array) =>
    toEnvelopeTexts(
      sealMessage(
        derived,
        text,
        { conversationId: page.conversationId, senderId },
        { sentAt: Date.now(), nonce: randomBytes(16), signingKey },
      ),
      100_000,
      randomBytes(4),
      false,
    )[0]!;
  /** The page opens an edit box on `texts`, claiming `author` wrote it; the frame redeems its token. */
  const openEdit = async (texts: string[], author: string) => {
    const ctx = { keyring, site, frame: host };
    const opened = await isolatedHandlers['isolated/open-frame'](
      {
        kind: 'composer',
        handle: `c${n++}`,
        theme: {},
        composer: { kind: 'edit', edit: { conversationId: page.conversationId, author, texts, hostMessageId: 'm1' } },
      },
      ctx,
    );
    if (!opened.ok) throw new Error('open-frame refused');
    const grant = await isolatedHandlers['secure/redeem']({ token: opened.token }, { keyring, site, frame });
    if (!grant.ok) throw new Error('redeem refused');
    const send = (text: string) =>
      isolatedHandlers['secure/send']({ token: opened.token, text }, { keyring, site, frame });
    return { composer: grant.composer!, send };
  };
  return { keyring, derived, message, openEdit };
}

beforeEach(() => {
  page.senderId = 'alice';
  page.put = [];
});

describe('an edit composer in isolated mode', () => {
  it("opens the user's own message decrypted and seals the edit bound to it", async () => {
    const { derived, message, openEdit } = await setUp();
    const original = message('pay the invoice', 'alice');
    const { composer, send } = await openEdit([original], 'alice');
    expect(composer).toMatchObject({ kind: 'edit', text: 'pay the invoice' });
    expect(composer.error).toBeUndefined();
    expect((await send('pay the invoice today')).ok).toBe(true);
    const frameOf = (text: string) => (findEnvelopes(text)[0] as { frame: Uint8Array }).frame;
    const edit = openMessage(derived, frameOf(page.put[0]![0]!), {
      conversationId: page.conversationId,
      senderId: 'alice',
    });
    const originalId = (parseHeader(frameOf(original)) as { nonce: Uint8Array }).nonce;
    expect(edit).toMatchObject({ status: 'decrypted', text: 'pay the invoice today' });
    const editOf = (edit as { editOf?: { messageId: Uint8Array; hostId: string } }).editOf;
    expect(editOf && bytesToHex(editOf.messageId)).toBe(bytesToHex(originalId));
    expect(editOf?.hostId).toBe('m1');
  });

  it("shows an attached file's message as its words only, and the edit keeps the files", async () => {
    const { withFileRefs } = await import('../../lib/crypto/file-ref');
    const { derived, message, openEdit } = await setUp();
    const ref = {
      id: 'cd'.repeat(16),
      sha256: 'ab'.repeat(32),
      sealedSize: 1200,
      name: 'plan.pdf',
      type: 'application/pdf',
      size: 1000,
    };
    const { composer, send } = await openEdit([message(withFileRefs('the plan', [ref]), 'alice')], 'alice');
    expect(composer.text).toBe('the plan');
    expect((await send('the final plan')).ok).toBe(true);
    const frame = (findEnvelopes(page.put[0]![0]!)[0] as { frame: Uint8Array }).frame;
    const edit = openMessage(derived, frame, { conversationId: page.conversationId, senderId: 'alice' });
    expect(edit).toMatchObject({ status: 'decrypted', text: withFileRefs('the final plan', [ref]) });
  });

  it("refuses someone else's message, shows it to no one, and sends nothing", async () => {
    const { message, openEdit } = await setUp();
    const { composer, send } = await openEdit([message("bob's words", 'bob')], 'bob');
    expect(composer.text).toBeUndefined();
    expect(composer.error).toMatch(/cannot open this message for editing/);
    expect((await send('forged')).ok).toBe(false);
    expect(page.put).toEqual([]);
  });

  it('where the user signs, the page claiming to be the author opens nothing', async () => {
    const { keyring, message, openEdit } = await setUp();
    await keyring.createIdentity('fixture-chat', 'alice');
    const bobKey = ed25519.utils.randomSecretKey();
    // The page says bob is signed in and opens an edit box on bob's (signed) message.
    page.senderId = 'bob';
    const { composer, send } = await openEdit([message("bob's words", 'bob', bobKey)], 'bob');
    expect(composer.text).toBeUndefined();
    expect(composer.error).toMatch(/cannot open this message for editing/);
    expect((await send('forged')).ok).toBe(false);
    // alice's own unsigned message (sent before she had an identity) is not provably hers either.
    page.senderId = 'alice';
    expect((await openEdit([message('old words', 'alice')], 'alice')).composer.text).toBeUndefined();
    expect(page.put).toEqual([]);
  });

  it('where the user signs, a message signed by their own identity opens', async () => {
    const { keyring, message, openEdit } = await setUp();
    await keyring.createIdentity('fixture-chat', 'alice');
    const seed = (await keyring.signingKeyFor('fixture-chat', 'alice'))!;
    const { composer } = await openEdit([message('signed words', 'alice', seed)], 'alice');
    expect(composer).toMatchObject({ kind: 'edit', text: 'signed words' });
  });

  it('a frame kind that is an Object property name, not a frame page, is refused', async () => {
    const { keyring } = await setUp();
    for (const kind of ['constructor', 'toString', '__proto__'])
      await expect(
        isolatedHandlers['isolated/open-frame'](
          { kind: kind as 'reader', handle: 'x', theme: {} },
          { keyring, site, frame: host },
        ),
      ).rejects.toThrow(/unknown frame kind/);
  });
});
