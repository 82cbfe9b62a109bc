import type { Page } from 'puppeteer';
/** The vendor's side of the fixture chat, as tests drive it. */
import type { ChatServer } from '../../fixtures/chat/server.mjs';

/** Stores and delivers a message as the vendor can: any text, shown as sent by `from`. */
export function injectMessage(server: ChatServer, from: string, to: string, text: string): Promise<Response> {
  return fetch(`${server.url}/api/admin/inject`, { method: 'POST', body: JSON.stringify({ from, to, text }) });
}

/**
 * The page rewrites its own document with `document.open()` and writes its own HTML again (the
 * standard has that erase every event listener, Veil's too); the chat's script then starts again.
 */
export async function rewriteOwnDocument(page: Page): Promise<void> {
  // Fetched here, not by the page: a browser with many tabs of the chat open has every connection
  // to its host taken by their live streams, and the page's own fetch would wait for one.
  const html = await (await fetch(page.url())).text();
  await page.evaluate((markup) => {
    document.open();
    document.write(markup);
    document.close();
  }, html);
}
