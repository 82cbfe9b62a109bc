/** The vendor's side of the fixture chat, as tests drive it. */
import type { ChatServer } from '../../fixtures/chat/server.mjs';

/** Stores and delivers a message as the vendor can: any text, shown as sent by `from`. */
export function injectMessage(server: ChatServer, from: string, to: string, text: string): Promise<Response> {
  return fetch(`${server.url}/api/admin/inject`, { method: 'POST', body: JSON.stringify({ from, to, text }) });
}
