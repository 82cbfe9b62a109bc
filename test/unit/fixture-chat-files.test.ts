/** The fixture chat's uploads (fixtures/chat/files.mjs): what the "vendor" stores, on disk, hashed. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';

let srv: ChatServer;
beforeEach(async () => (srv = await startChatServer()));
afterEach(() => srv.close());

async function upload(bytes: Uint8Array, name: string, type: string, user = 'alice') {
  const res = await fetch(`${srv.url}/api/files?user=${user}&name=${encodeURIComponent(name)}&type=${type}`, {
    method: 'POST',
    body: new Blob([new Uint8Array(bytes)]),
  });
  return { status: res.status, body: await res.json() };
}

const post = (body: unknown) =>
  fetch(`${srv.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('fixture chat uploads', () => {
  it('stores the bytes on disk, lists them with their SHA-256, serves them back, links them from a message', async () => {
    const bytes = randomBytes(300_000);
    const up = await upload(bytes, 'report é.bin', 'application/octet-stream');
    expect(up.status).toBe(200);
    const [stored] = srv.inspect().files!;
    expect(stored).toMatchObject({ id: up.body.id, from: 'alice', name: 'report é.bin', size: bytes.length });
    expect(stored!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(readFileSync(stored!.path).equals(bytes)).toBe(true);
    const got = await fetch(`${srv.url}${up.body.url}?download`);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);

    const sent = await post({ from: 'alice', to: 'bob', text: '', files: [up.body.id] });
    expect(sent.status).toBe(200);
    expect((await sent.json()).files).toEqual([
      { id: up.body.id, name: 'report é.bin', type: 'application/octet-stream', size: bytes.length, url: up.body.url },
    ]);
    const inspect = await (await fetch(`${srv.url}/api/inspect`)).json();
    expect(inspect.files[0].sha256).toBe(stored!.sha256);
  });

  it('images are served inline for previews; other types only as downloads', async () => {
    const png = await upload(randomBytes(100), 'a.png', 'image/png');
    const html = await upload(new TextEncoder().encode('<script>1</script>'), 'x.html', 'text/html');
    expect((await fetch(`${srv.url}${png.body.url}`)).headers.get('content-type')).toBe('image/png');
    const h = await fetch(`${srv.url}${html.body.url}`);
    expect(h.headers.get('content-type')).toBe('application/octet-stream');
    expect(h.headers.get('content-disposition')).toMatch(/^attachment/);
  });

  it("refuses unknown files, other users' files and empty messages without a file; reset deletes the bytes", async () => {
    const up = await upload(randomBytes(10), 'a', '', 'bob');
    expect((await post({ from: 'alice', to: 'bob', text: 'x', files: ['f99'] })).status).toBe(400);
    expect((await post({ from: 'alice', to: 'bob', text: 'x', files: [up.body.id] })).status).toBe(400);
    expect((await post({ from: 'alice', to: 'bob', text: ' ' })).status).toBe(400);
    expect((await upload(randomBytes(1), 'a', '', 'mallory')).status).toBe(400);
    const path = srv.inspect().files![0]!.path;
    expect(existsSync(path)).toBe(true);
    await fetch(`${srv.url}/api/admin/reset`, { method: 'POST', body: '{}' });
    expect(existsSync(path)).toBe(false);
    expect(srv.inspect().files).toEqual([]);
  });
});
