import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import http from 'node:http';
import { startChatServer, type ChatServer } from '../../fixtures/chat/server.mjs';

interface SseClient {
  events: any[];
  /** resolves once `n` events have arrived */
  waitFor(n: number, timeoutMs?: number): Promise<any[]>;
  ended: Promise<void>;
  close(): void;
}

/** Opens /api/events?user=… with http.get and parses `data:` lines. */
function openEvents(base: string, user: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    let waiters: Array<() => void> = [];
    let buf = '';
    let endResolve!: () => void;
    const ended = new Promise<void>((r) => (endResolve = r));
    const req = http.get(`${base}/api/events?user=${user}`, { headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE status ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (data) events.push(JSON.parse(data));
        }
        const w = waiters;
        waiters = [];
        w.forEach((f) => f());
      });
      res.on('end', endResolve);
      res.on('close', endResolve);
      resolve({
        events,
        ended,
        close: () => req.destroy(),
        waitFor(n, timeoutMs = 2000) {
          return new Promise((ok, fail) => {
            const t = setTimeout(() => fail(new Error(`timeout: ${events.length}/${n} events`)), timeoutMs);
            const check = () => {
              if (events.length >= n) {
                clearTimeout(t);
                ok(events);
              } else waiters.push(check);
            };
            check();
          });
        },
      });
    });
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fixture chat server', () => {
  let srv: ChatServer;
  const clients: SseClient[] = [];

  async function post(path: string, body: unknown) {
    const res = await fetch(srv.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, data: (await res.json()) as any };
  }
  async function get(path: string) {
    const res = await fetch(srv.url + path);
    return { status: res.status, data: (await res.json().catch(() => null)) as any };
  }
  async function events(user: string, headers?: Record<string, string>) {
    const c = await openEvents(srv.url, user, headers);
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    srv = await startChatServer({ port: 0, maxLength: 50 });
  });
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await srv.close();
  });

  it('listens on 127.0.0.1 with a random port and serves config', async () => {
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}`);
    expect(srv.port).toBeGreaterThan(0);
    const { status, data } = await get('/api/config');
    expect(status).toBe(200);
    expect(data).toEqual({ maxLength: 50, users: ['alice', 'bob', 'carol', 'dave'], channels: ['general'] });
  });

  it('serves the page and static files; unknown paths 404', async () => {
    const page = await fetch(srv.url + '/?user=alice&conv=bob');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<meta name="application-name" content="Fixture Chat">');
    expect(html).toContain('id="compose"');
    expect((await fetch(srv.url + '/app.js')).headers.get('content-type')).toContain('javascript');
    expect((await fetch(srv.url + '/style.css')).status).toBe(200);
    expect((await fetch(srv.url + '/nope.html')).status).toBe(404);
    expect((await fetch(srv.url + '/api/nope')).status).toBe(404);
    expect((await fetch(srv.url + '/%2e%2e/server.mjs')).status).toBe(404);
  });

  it('stores DMs with incrementing ids and canonical conversation ids', async () => {
    const a = await post('/api/messages', { from: 'alice', to: 'bob', text: 'hi bob' });
    expect(a.status).toBe(200);
    expect(a.data).toMatchObject({ id: 'm1', from: 'alice', to: 'bob', conv: 'dm-alice-bob', text: 'hi bob' });
    expect(typeof a.data.ts).toBe('number');
    const b = await post('/api/messages', { from: 'bob', to: 'alice', text: 'hi alice' });
    expect(b.data).toMatchObject({ id: 'm2', conv: 'dm-alice-bob' });
    const c = await post('/api/messages', { from: 'dave', to: '#general', text: 'hello all' });
    expect(c.data).toMatchObject({ id: 'm3', conv: 'ch-general', to: '#general' });
  });

  it('rejects invalid messages with 400 {error}', async () => {
    for (const body of [
      { from: 'eve', to: 'bob', text: 'x' },
      { from: 'alice', to: 'eve', text: 'x' },
      { from: 'alice', to: '#random', text: 'x' },
      { from: 'alice', to: 'bob', text: '' },
      { from: 'alice', to: 'bob', text: '   \n ' },
      { from: 'alice', to: 'bob' },
    ]) {
      const r = await post('/api/messages', body);
      expect(r.status).toBe(400);
      expect(typeof r.data.error).toBe('string');
    }
    expect((await post('/api/messages', 'not json')).status).toBe(400);
    expect(srv.inspect().messages).toHaveLength(0);
  });

  it('enforces maxLength and mentions the limit', async () => {
    expect((await post('/api/messages', { from: 'alice', to: 'bob', text: 'x'.repeat(50) })).status).toBe(200);
    const r = await post('/api/messages', { from: 'alice', to: 'bob', text: 'x'.repeat(51) });
    expect(r.status).toBe(400);
    expect(r.data.error).toMatch(/50/);
    expect(srv.inspect().messages).toHaveLength(1);
  });

  it('history only returns the conversation, and only what the user may see', async () => {
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'ab1' });
    await post('/api/messages', { from: 'carol', to: 'dave', text: 'cd' });
    await post('/api/messages', { from: 'bob', to: 'alice', text: 'ab2' });
    await post('/api/messages', { from: 'carol', to: '#general', text: 'g' });
    const texts = async (q: string) => ((await get('/api/history?' + q)).data.messages as any[]).map((m) => m.text);
    expect(await texts('user=alice&conv=bob')).toEqual(['ab1', 'ab2']);
    expect(await texts('user=bob&conv=alice')).toEqual(['ab1', 'ab2']);
    expect(await texts('user=alice&conv=carol')).toEqual([]);
    expect(await texts('user=dave&conv=carol')).toEqual(['cd']);
    expect(await texts('user=alice&conv=general')).toEqual(['g']);
    expect((await get('/api/history?user=eve&conv=bob')).status).toBe(400);
    expect((await get('/api/history?user=alice&conv=nobody')).status).toBe(400);
  });

  it('routes live events: DMs to sender and target, channel messages to everyone', async () => {
    const [alice, bob, carol, dave] = (await Promise.all(['alice', 'bob', 'carol', 'dave'].map((u) => events(u)))) as [
      SseClient,
      SseClient,
      SseClient,
      SseClient,
    ];
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'dm' });
    await post('/api/messages', { from: 'carol', to: '#general', text: 'channel' });
    await alice.waitFor(2);
    await bob.waitFor(2);
    await carol.waitFor(1);
    await dave.waitFor(1);
    await sleep(50);
    expect(alice.events.map((m) => m.text)).toEqual(['dm', 'channel']);
    expect(bob.events.map((m) => m.text)).toEqual(['dm', 'channel']);
    expect(carol.events.map((m) => m.text)).toEqual(['channel']);
    expect(dave.events.map((m) => m.text)).toEqual(['channel']);
    expect(alice.events[0]).toMatchObject({ id: 'm1', from: 'alice', to: 'bob', conv: 'dm-alice-bob' });
  });

  it('delivers to every open stream of a user (multiple tabs)', async () => {
    const tab1 = await events('bob');
    const tab2 = await events('bob');
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'both tabs' });
    expect((await tab1.waitFor(1))[0].text).toBe('both tabs');
    expect((await tab2.waitFor(1))[0].text).toBe('both tabs');
  });

  it('replays missed events after Last-Event-ID on reconnect', async () => {
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'one' });
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'two' });
    await post('/api/messages', { from: 'alice', to: 'carol', text: 'not for bob' });
    const bob = await events('bob', { 'last-event-id': 'm1' });
    expect((await bob.waitFor(1)).map((m) => m.text)).toEqual(['two']);
  });

  it('records drafts and every POST body raw, in order', async () => {
    const d = await post('/api/drafts', { user: 'alice', conv: 'bob', text: 'half-typed' });
    expect(d.status).toBe(200);
    await post('/api/drafts', { user: 'alice', conv: 'bob', text: 'half-typed secret' });
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'x'.repeat(51) }); // rejected, still logged
    expect((await post('/api/drafts', { user: 'eve', conv: 'bob', text: 'x' })).status).toBe(400);

    const rec = srv.inspect();
    expect(rec.drafts.map((x) => [x.user, x.conv, x.text])).toEqual([
      ['alice', 'bob', 'half-typed'],
      ['alice', 'bob', 'half-typed secret'],
    ]);
    expect(rec.requests.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/api/drafts'],
      ['POST', '/api/drafts'],
      ['POST', '/api/messages'],
      ['POST', '/api/drafts'],
    ]);
    expect(rec.requests[1]!.body).toBe(JSON.stringify({ user: 'alice', conv: 'bob', text: 'half-typed secret' }));
    expect(rec.requests[2]!.body).toContain('x'.repeat(51));

    const viaHttp = await get('/api/inspect');
    expect(viaHttp.data).toEqual(srv.inspect());
  });

  it('inspect() returns a snapshot that callers cannot mutate', async () => {
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'hi' });
    const snap = srv.inspect();
    snap.messages[0]!.text = 'changed';
    expect(srv.inspect().messages[0]!.text).toBe('hi');
  });

  it('admin tamper replaces stored text (history reflects it)', async () => {
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'original' });
    const t = await post('/api/admin/tamper', { id: 'm1', text: 'tampered' });
    expect(t.status).toBe(200);
    const h = await get('/api/history?user=bob&conv=alice');
    expect(h.data.messages[0].text).toBe('tampered');
    expect((await post('/api/admin/tamper', { id: 'm99', text: 'x' })).status).toBe(404);
  });

  it('admin inject bypasses maxLength and pushes live', async () => {
    const alice = await events('alice');
    const long = 'y'.repeat(500);
    const r = await post('/api/admin/inject', { from: 'bob', to: 'alice', text: long });
    expect(r.status).toBe(200);
    expect(r.data).toMatchObject({ from: 'bob', to: 'alice', conv: 'dm-alice-bob', text: long });
    expect((await alice.waitFor(1))[0].text).toBe(long);
    expect(srv.inspect().messages).toHaveLength(1);
  });

  it('admin reset clears everything and restarts ids', async () => {
    await post('/api/messages', { from: 'alice', to: 'bob', text: 'a' });
    await post('/api/drafts', { user: 'alice', conv: 'bob', text: 'd' });
    expect((await post('/api/admin/reset', {})).status).toBe(200);
    expect(srv.inspect()).toMatchObject({ messages: [], drafts: [], requests: [] });
    expect((await post('/api/messages', { from: 'alice', to: 'bob', text: 'b' })).data.id).toBe('m1');
  });

  it('rejects bodies over ~2 MB', async () => {
    const r = await fetch(srv.url + '/api/drafts', { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024 + 10) });
    expect(r.status).toBe(413);
  });

  it('close() ends open event streams and stops the server', async () => {
    const other = await startChatServer();
    const c = await openEvents(other.url, 'alice');
    const start = Date.now();
    await other.close();
    await c.ended;
    expect(Date.now() - start).toBeLessThan(2000);
    await expect(fetch(other.url + '/api/config')).rejects.toThrow();
    await other.close(); // idempotent
  });
});
