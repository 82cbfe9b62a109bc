/**
 * Composer strategies against real editor libraries (fixtures/editors/*, bundled from npm), in
 * Chromium: for each editor, Enter and the Send button, Shift+Enter lines, a Chinese IME, paste
 * and a long chunked message each arrive exact at the receiver, the vendor holds only envelopes
 * and the composer is empty afterwards. Then every stage at which a send can fail, forced by the
 * fixture page: the composer ends holding exactly the user's text, or Veil keeps it and gives it
 * back on the user's click. Test bodies: test/support/editor-suite.ts (shared with Firefox ESR,
 * firefox-editors.test.ts).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { buildEditors } from '../../scripts/build-editors.mjs';
import { launchUser, type User } from '../support/browser';
import { openEditor } from '../support/editor-cases';
import { describeEditors } from '../support/editor-suite';
import { bundleText, makeKey } from '../support/keys';
import { importBundle } from '../support/veil-ui';

const PASS = 'editors test passphrase';

let server: ChatServer;
let alice: User;
let bob: User;
const key = makeKey('Editors DM', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });

beforeAll(async () => {
  // 600 characters per message: a long message must travel as several envelopes.
  [server] = await Promise.all([startChatServer({ port: 0, maxLength: 600 }), buildEditors()]);
  [alice, bob] = await Promise.all([launchUser('alice'), launchUser('bob')]);
  const file = await bundleText([key], PASS);
  for (const u of [alice, bob]) expect((await importBundle(u, file, PASS)).tone).toBe('ok');
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describeEditors(() => ({
  server,
  keyLabel: key.label,
  open: (user, editor, conv) =>
    (user === 'alice' ? alice : bob).newPage().then((p) => openEditor(p, server, editor, user, conv)),
}));
