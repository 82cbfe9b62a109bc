/**
 * Sender authenticity: per-user Ed25519 signing keys listed in the bundle's directory.
 * A group key cannot tell insiders apart; signatures can.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { createBundle, directoryEntryOf } from '../../lib/crypto/bundle';
import type { SigningIdentity } from '../../lib/keys/model';
import { launchUser, type User } from '../support/browser';
import { injectMessage } from '../support/chat';
import { envelopeFor, makeKey, TEST_KDF } from '../support/keys';
import { composerStatus, importBundle, openChat, typeAndSend, waitForMessage } from '../support/veil-ui';

const PASS = 'signing test passphrase';
const team = makeKey('Team', { site: 'fixture-chat', conversations: ['*'] });
const identity = (userId: string): SigningIdentity => ({
  site: 'fixture-chat',
  userId,
  secretKey: ed25519.utils.randomSecretKey(),
  createdAt: Date.now(),
});
const ids = { alice: identity('alice'), bob: identity('bob'), carol: identity('carol') };
const directory = Object.values(ids).map(directoryEntryOf);

let server: ChatServer;
let alice: User;
let bob: User;

const inject = (from: string, to: string, text: string) => injectMessage(server, from, to, text);

/** What an insider with the team key can make on their own. */
function forge(text: string, conversationId: string, claimedSender: string, signingKey?: Uint8Array): string {
  return envelopeFor(team, text, { conversationId, senderId: claimedSender }, signingKey);
}

beforeAll(async () => {
  server = await startChatServer();
  [alice, bob] = await Promise.all([launchUser('alice'), launchUser('bob')]);
  for (const [user, who] of [
    [alice, ids.alice],
    [bob, ids.bob],
  ] as const) {
    // One bundle per person, as the admin CLI makes them: team key + own identity + directory.
    const file = JSON.stringify(await createBundle([team], PASS, { kdf: TEST_KDF, identities: [who], directory }));
    expect((await importBundle(user, file, PASS)).tone).toBe('ok');
  }
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describe('sender authenticity', () => {
  it('signed messages show the verified sender', async () => {
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    await composerStatus(a);
    await typeAndSend(a, 'hi');
    const shown = await waitForMessage(b, (m) => m.text === 'hi' && m.status !== null, 'signed message');
    expect(shown.status).toBe('decrypted');
    expect(shown.badge).toContain('✓ alice');
    expect(shown.badgeDetail).toContain('signed by alice');
    const envelope = server.inspect().messages.at(-1)!.text;
    console.log(
      `signed envelope for a 2-character message: ${envelope.length} characters (${envelope.length - 2} overhead)`,
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('an insider with the group key posing as someone else is caught by the signature', async () => {
    await inject('alice', '#general', forge('wire the money to carol', 'ch-general', 'alice', ids.carol.secretKey));
    const b = await openChat(bob, server.url, 'general');
    const shown = await waitForMessage(b, (m) => m.status !== null, 'forged message');
    expect(shown.status).toBe('sender-mismatch');
    expect(shown.badge).toContain('Signed by carol, not alice');
    expect(shown.text).not.toContain('wire the money');
    await b.close();
  });

  it('an unsigned message from someone who normally signs is marked unverified', async () => {
    await inject('alice', 'bob', forge('unsigned words', 'dm-alice-bob', 'alice'));
    const b = await openChat(bob, server.url, 'alice');
    const shown = await waitForMessage(b, (m) => m.text === 'unsigned words' && m.status !== null, 'unsigned message');
    expect(shown.status).toBe('unverified');
    expect(shown.badge).toContain('unsigned');
    await b.close();
  });
});
