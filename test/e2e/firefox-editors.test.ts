/**
 * The real-editor suite in Firefox ESR (bodies shared with editors.test.ts: test/support/editor-suite.ts):
 * two Firefox users under policies.json (keys and the protected chat from policy), each fixture
 * editor sending exact text and every failure stage leaving the user their text.
 */
import { afterAll, beforeAll } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';
import { buildEditors } from '../../scripts/build-editors.mjs';
import { describeEditors } from '../support/editor-suite';
import { makeKey } from '../support/keys';
import { launchAliceAndBob, type ChatUser } from '../support/users';

let server: ChatServer;
let alice: ChatUser;
let bob: ChatUser;
const key = makeKey('Editors DM', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });

beforeAll(async () => {
  // 600 characters per message: a long message must travel as several envelopes.
  [server] = await Promise.all([startChatServer({ port: 0, maxLength: 600 }), buildEditors()]);
  [alice, bob] = await launchAliceAndBob('firefox', server.url, [key]);
});

afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
  await server?.close();
});

describeEditors(
  () => ({
    server,
    keyLabel: key.label,
    open: (user, editor, conv) =>
      (user === 'alice' ? alice : bob).openProtected(
        `${server.url}/editors/index.html?editor=${editor}&user=${user}&conv=${conv}`,
      ),
  }),
  {
    noIme: 'the IME is driven over the DevTools protocol (Input.imeSetComposition); WebDriver BiDi has none',
  },
);
