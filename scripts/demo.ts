/**
 * `npm run demo`: the product's main job, end to end, on this machine.
 * Starts the fixture chat on 127.0.0.1, opens Chromium as alice and bob with the built extension,
 * provisions a freshly generated team key through the options page (a passphrase bundle, as IT
 * would hand it out), sends a message and shows what the vendor stored and what bob sees.
 * Screenshots go to demo-output/. With a display (DISPLAY set) the browsers are headed and stay
 * open until Ctrl+C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { startChatServer } from '../fixtures/chat/server.mjs';
import { launchUser } from '../test/support/browser';
import { bundleText, makeKey } from '../test/support/keys';
import { composerStatus, importBundle, openChat, typeAndSend, waitForMessage } from '../test/support/veil-ui';

const OUT = 'demo-output';
const headed = !!process.env.DISPLAY && process.env.CI !== 'true';

async function main() {
  mkdirSync(OUT, { recursive: true });
  const server = await startChatServer({ port: Number(process.env.PORT ?? 0) });
  console.log(`fixture chat (the "vendor"): ${server.url}`);
  const [alice, bob, vendorView] = await Promise.all([
    launchUser('alice', { headless: !headed }),
    launchUser('bob', { headless: !headed }),
    launchUser('bob-without-veil', { extension: false }),
  ]);
  try {
    const passphrase = 'demo passphrase — share it out of band';
    const key = makeKey('Demo team key', { site: 'fixture-chat', conversations: ['*'] });
    const file = await bundleText([key], passphrase);
    writeFileSync(`${OUT}/demo-team-key.veilkeys.json`, file);
    for (const u of [alice, bob]) {
      const r = await importBundle(u, file, passphrase);
      console.log(`${u.name}: ${r.text}`);
    }
    const [a, b] = await Promise.all([openChat(alice, server.url, 'bob'), openChat(bob, server.url, 'alice')]);
    console.log(`alice's composer says: ${(await composerStatus(a)).text}`);
    const text = 'Hi Bob — the launch moves to 3 May 🚀 (你好, مرحبا, <b>not html</b>)';
    await typeAndSend(a, text);
    const shown = await waitForMessage(b, (m) => m.status === 'decrypted', 'bob to decrypt');
    const stored = server.inspect().messages.at(-1)!;
    console.log('\nWhat the vendor stored:');
    console.log(JSON.stringify(stored, null, 2));
    console.log(`\nWhat bob sees: "${shown.text}"  [${shown.badge}]`);
    console.log(
      `Plaintext in the vendor's message records: ${JSON.stringify(server.inspect().messages).includes('launch') ? 'YES (bug!)' : 'none'}`,
    );
    const raw = await openChat(vendorView, server.url, 'alice', 'bob');
    await raw.waitForSelector('#messages li');
    await a.screenshot({ path: `${OUT}/alice-sends.png` });
    await b.screenshot({ path: `${OUT}/bob-reads.png` });
    await raw.screenshot({ path: `${OUT}/vendor-sees.png` });
    console.log(`\nScreenshots: ${OUT}/alice-sends.png, ${OUT}/bob-reads.png, ${OUT}/vendor-sees.png`);
    if (headed) {
      console.log('Browsers stay open; press Ctrl+C to stop.');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await Promise.all([alice.close(), bob.close(), vendorView.close()]);
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
