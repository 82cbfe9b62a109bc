/** The fixture chat's message features as its API offers them: edit, delete, threads, read marks. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';

let server: ChatServer;
const post = async (path: string, body: unknown) => {
  const res = await fetch(server.url + path, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, data: (await res.json()) as any };
};
const conversations = async (user: string) =>
  ((await (await fetch(`${server.url}/api/conversations?user=${user}`)).json()) as any).conversations as any[];

beforeEach(async () => {
  server = await startChatServer();
});
afterEach(async () => {
  await server.close();
});

describe('fixture chat message features', () => {
  it('only the author edits or deletes; both are kept for inspection', async () => {
    const m = (await post('/api/messages', { from: 'alice', to: 'bob', text: 'one' })).data;
    expect((await post('/api/messages/edit', { user: 'bob', id: m.id, text: 'forged' })).status).toBe(403);
    const edited = (await post('/api/messages/edit', { user: 'alice', id: m.id, text: 'two' })).data;
    expect(edited).toMatchObject({ id: m.id, text: 'two' });
    expect(edited.edited).toBeGreaterThan(0);
    expect((await post('/api/messages/delete', { user: 'bob', id: m.id })).status).toBe(403);
    expect((await post('/api/messages/delete', { user: 'alice', id: m.id })).data).toMatchObject({
      text: '',
      deleted: true,
    });
    expect((await post('/api/messages/edit', { user: 'alice', id: m.id, text: 'three' })).status).toBe(409);
    expect(server.inspect().messages).toHaveLength(1);
    expect(
      server
        .inspect()
        .requests.map((r) => r.body)
        .join('\n'),
    ).toContain('"two"');
  });

  it('a thread reply names a first message of the same conversation', async () => {
    const root = (await post('/api/messages', { from: 'alice', to: 'bob', text: 'root' })).data;
    const other = (await post('/api/messages', { from: 'alice', to: '#general', text: 'elsewhere' })).data;
    const reply = (await post('/api/messages', { from: 'bob', to: 'alice', text: 'r', thread: root.id })).data;
    expect(reply.thread).toBe(root.id);
    expect((await post('/api/messages', { from: 'bob', to: 'alice', text: 'r', thread: other.id })).status).toBe(400);
    expect((await post('/api/messages', { from: 'bob', to: 'alice', text: 'r', thread: reply.id })).status).toBe(400);
  });

  it('the conversation list has last messages and unread counts until read', async () => {
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'hello' });
    const m2 = (await post('/api/messages', { from: 'alice', to: 'bob', text: 'again' })).data;
    const dm = (await conversations('bob')).find((c) => c.conv === 'alice');
    expect(dm).toMatchObject({ id: 'dm-alice-bob', unread: 2, last: { from: 'alice', text: 'again' } });
    expect((await conversations('alice')).find((c) => c.conv === 'bob').unread).toBe(0);
    await post('/api/read', { user: 'bob', conv: 'alice', upTo: m2.id });
    expect((await conversations('bob')).find((c) => c.conv === 'alice').unread).toBe(0);
  });
});
