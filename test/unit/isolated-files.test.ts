/**
 * Isolated mode's files as a hostile page and server drive them: the secure composer frame attaches
 * a file, the page (its content script, a stub here) only ever gets sealed bytes, and the message
 * sent next names the file; a reader frame opens only files its own message names, from bytes the
 * server may have swapped, cut or padded. Real keyring over fake IndexedDB.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { base64 } from '@scure/base';
import { randomBytes } from 'node:crypto';
import { concatBytes } from '@noble/ciphers/utils.js';
import type { Policy } from '../../lib/policy/policy';

/** The page's side: what its content script was handed, and the file its server serves for a link. */
const page = vi.hoisted(() => ({
  conversationId: 'dm-alice-bob',
  pieces: new Map<string, Uint8Array[]>(),
  handed: [] as { name: string; bytes: Uint8Array }[],
  dropped: [] as string[],
  put: [] as string[][],
  served: undefined as Uint8Array | undefined,
  reads: 0,
}));
vi.mock('webextension-polyfill', async () => {
  const { base64: b64 } = await import('@scure/base');
  const { concatBytes: cat } = await import('@noble/ciphers/utils.js');
  return {
    default: {
      storage: {},
      runtime: { getURL: (p: string) => `chrome-extension://veil${p}` },
      tabs: {
        onRemoved: { addListener() {} },
        async sendMessage(_tab: number, m: { type: string; req: Record<string, unknown> }) {
          const r = m.req;
          switch (m.type) {
            case 'host/compose-context':
              return {
                ok: true,
                conversationId: page.conversationId,
                senderId: 'alice',
                maxChars: 4000,
                allowChunks: true,
              };
            case 'host/put-envelopes':
              page.put.push(r.envelopes as string[]);
              return { ok: true };
            case 'host/file-piece': {
              const list = page.pieces.get(r.sid as string) ?? [];
              list.push(b64.decode(r.data as string));
              page.pieces.set(r.sid as string, list);
              return { ok: true };
            }
            case 'host/file-hand': {
              const list = page.pieces.get(r.sid as string) ?? [];
              page.handed.push({ name: r.fileName as string, bytes: cat(...list, b64.decode(r.data as string)) });
              page.pieces.delete(r.sid as string);
              return { ok: true };
            }
            case 'host/file-drop':
              page.dropped.push(r.sid as string);
              return { ok: true };
            case 'host/file-read': {
              page.reads++;
              const f = page.served!;
              const at = r.at as number;
              return { ok: true, data: b64.encode(f.subarray(at, at + 256 * 1024)), end: at + 256 * 1024 >= f.length };
            }
          }
          return { ok: true };
        },
      },
    },
  };
});
const state = vi.hoisted(() => ({ attachments: 'encrypt' as 'encrypt' | 'block' | 'allow' }));
const policy = (): Policy => ({
  managed: true,
  protectedSites: [{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'], mode: 'isolated' }],
  requireEncryption: true,
  flagUnencrypted: true,
  allowUserKeys: true,
  allowKeyExport: true,
  mode: 'isolated',
  policyKeyIds: [],
  errors: [],
  attachments: state.attachments,
});
vi.mock('../../lib/background/policy-source', () => ({ policy: () => policy() }));
vi.mock('../../lib/background/isolated/settings', () => ({
  isolatedSettings: {
    get: async () => ({ indicator: { symbol: '🦜', phrase: 'teal', color: '#0b57d0' }, siteModes: {} }),
  },
}));

const { Keyring, noLockCache } = await import('../../lib/background/keyring');
const { KeyStore } = await import('../../lib/background/keys/store');
const { isolatedHandlers: iso } = await import('../../lib/background/handlers/isolated');
const { isolatedFileHandlers: files_ } = await import('../../lib/background/handlers/isolated-files');
const { findEnvelopes } = await import('../../lib/crypto/codec');
const { sharesA16ByteWindow } = await import('../support/files');

const site = policy().protectedSites[0]!;
const host = { tabId: 5, frameId: 0, documentId: 'page', url: 'http://127.0.0.1/' };
const frameAt = (frameId: number, file: string) => ({
  tabId: 5,
  frameId,
  documentId: `frame${frameId}`,
  url: `chrome-extension://veil/${file}`,
});
let n = 0;

async function setUp() {
  const keyring = new Keyring(new KeyStore(`veil-isofiles-${n++}-${Date.now()}`), noLockCache);
  await keyring.generate('team', { site: '*', conversations: ['*'] });
  /** A frame the content script placed, redeemed by the frame itself. */
  const place = async (kind: 'composer' | 'reader', extra: Record<string, unknown>) => {
    const opened = await iso['isolated/open-frame'](
      { kind, handle: `h${n++}`, theme: {}, ...extra },
      { keyring, site, frame: host },
    );
    if (!opened.ok) throw new Error('open-frame refused');
    const frame = frameAt(n++, kind === 'reader' ? 'secure-reader.html' : 'secure-composer.html');
    const grant = await iso['secure/redeem']({ token: opened.token }, { keyring, site, frame });
    if (!grant.ok) throw new Error('redeem refused');
    return { token: opened.token, ctx: { keyring, site, frame }, grant };
  };
  const composer = (kind: 'main' | 'thread' = 'main') => place('composer', { composer: { kind } });
  const reader = (texts: string[]) =>
    place('reader', {
      reader: { conversationId: page.conversationId, author: 'alice', texts, hostMessageId: `m${n}` },
    });
  return { keyring, composer, reader };
}

type Frame = Awaited<ReturnType<Awaited<ReturnType<typeof setUp>>['composer']>>;

async function attach(c: Frame, plain: Uint8Array, name = 'contract.pdf') {
  const start = await files_['secure/file-seal-start'](
    { token: c.token, name, type: 'application/pdf', size: plain.length },
    c.ctx,
  );
  if (!start.ok) return start;
  for (let at = 0; at < plain.length; at += 100_000) {
    const r = await files_['secure/file-seal-push'](
      { token: c.token, sid: start.sid, data: base64.encode(plain.subarray(at, at + 100_000)) },
      c.ctx,
    );
    if (!r.ok) return r;
  }
  return files_['secure/file-seal-finish']({ token: c.token, sid: start.sid }, c.ctx);
}

type Attached = { ref: import('../../lib/crypto/file-ref').FileRef; conversationId: string };

/** Attaches each file; the references the composer frame keeps for its next message. */
async function attachAll(c: Frame, ...plains: Uint8Array[]): Promise<Attached[]> {
  const out: Attached[] = [];
  for (const [i, p] of plains.entries()) {
    const r = await attach(c, p, i === 0 ? 'contract.pdf' : `contrak${i}.pdf`);
    if (!r.ok) throw new Error(r.error.message);
    out.push({ ref: r.ref, conversationId: r.conversationId });
  }
  return out;
}

/** A reader frame pulls file `index` of its message to the end; the plaintext only if it all checks out. */
async function openIn(r: Frame, index = 0) {
  const start = await files_['secure/file-open']({ token: r.token, index }, r.ctx);
  if (!start.ok) return start;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    const p = await files_['secure/file-pull']({ token: r.token, sid: start.sid }, r.ctx);
    if (!p.ok) return p;
    parts.push(base64.decode(p.data));
    if (p.done) return { ...p, bytes: concatBytes(...parts) };
  }
  throw new Error('never done');
}

beforeEach(() => {
  page.conversationId = 'dm-alice-bob';
  page.pieces.clear();
  page.handed = [];
  page.dropped = [];
  page.put = [];
  page.served = undefined;
  page.reads = 0;
  state.attachments = 'encrypt';
});

describe('files in isolated mode', () => {
  it('the page gets only the sealed file; the message the frame sends names it; its reader opens the exact bytes', async () => {
    const { composer, reader } = await setUp();
    const c = await composer();
    const plain = randomBytes(600_000);
    const done = await attach(c, plain);
    expect(done).toMatchObject({ ok: true, conversationId: 'dm-alice-bob', ref: { name: 'contract.pdf' } });
    expect(page.handed).toHaveLength(1);
    expect(page.handed[0]!.name).toMatch(/^[0-9a-f]{32}\.veil$/);
    expect(sharesA16ByteWindow(page.handed[0]!.bytes, plain)).toBe(false);

    // A file alone is a message: sent with no text of the user's own.
    const files = done.ok ? [{ ref: done.ref, conversationId: done.conversationId }] : [];
    expect((await iso['secure/send']({ token: c.token, text: '', files }, c.ctx)).ok).toBe(true);
    const envelopes = page.put[0]!;
    expect(envelopes.every((e) => findEnvelopes(e).length === 1)).toBe(true);
    // Nothing typed and nothing attached is no message.
    await expect(iso['secure/send']({ token: c.token, text: '' }, c.ctx)).rejects.toThrow(/text is missing/);

    const r = await reader(envelopes);
    expect(r.grant.reader!.item.text).toMatch(/^veil-file\/1 /);
    page.served = page.handed[0]!.bytes;
    const opened = await openIn(r);
    expect(opened).toMatchObject({ ok: true, done: true, name: 'contract.pdf', type: 'application/pdf', moved: false });
    expect(Buffer.from((opened as { bytes: Uint8Array }).bytes).equals(plain)).toBe(true);
  });

  it('a swapped, cut, padded or altered file on the server yields the reason, never the plaintext', async () => {
    const { composer, reader } = await setUp();
    const c = await composer();
    const files = await attachAll(c, randomBytes(300_000), randomBytes(300_000));
    const [good, other] = [page.handed[0]!.bytes, page.handed[1]!.bytes];
    expect(other.length).toBe(good.length); // same sizes: only the digest tells them apart
    await iso['secure/send']({ token: c.token, text: 'two files', files }, c.ctx);
    const r = await reader(page.put[0]!);
    for (const served of [other, good.subarray(0, good.length - 1), concatBytes(good, new Uint8Array([0]))]) {
      page.served = served;
      const res = await openIn(r, 0);
      expect(res.ok).toBe(false);
      expect(!res.ok && res.error.message).toMatch(/not the file the message names/);
    }
    // The same length, one bit flipped: the stream's authentication refuses it.
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 20]! ^= 1;
    page.served = flipped;
    expect((await openIn(r, 0)).ok).toBe(false);
    // Both files of the message open, each under its own index.
    page.served = other;
    expect(await openIn(r, 1)).toMatchObject({ ok: true, done: true, name: 'contrak1.pdf' });
  });

  it('a reader opens only files its own message names, and only that reader frame can pull', async () => {
    const { composer, reader } = await setUp();
    const c = await composer();
    const files = await attachAll(c, randomBytes(1000));
    await iso['secure/send']({ token: c.token, text: 'with file', files }, c.ctx);
    const withFile = await reader(page.put[0]!);
    await iso['secure/send']({ token: c.token, text: 'no file' }, c.ctx);
    const without = await reader(page.put[1]!);
    await expect(files_['secure/file-open']({ token: without.token, index: 0 }, without.ctx)).resolves.toMatchObject({
      ok: false,
    });
    await expect(files_['secure/file-open']({ token: withFile.token, index: 1 }, withFile.ctx)).rejects.toThrow();
    // Another frame (the page's own, or another reader) with the token or the session gets nothing.
    const start = await files_['secure/file-open']({ token: withFile.token, index: 0 }, withFile.ctx);
    expect(start.ok).toBe(true);
    const sid = start.ok ? start.sid : '';
    await expect(
      files_['secure/file-pull']({ token: withFile.token, sid }, { ...withFile.ctx, frame: without.ctx.frame }),
    ).resolves.toMatchObject({ ok: false });
    await expect(files_['secure/file-pull']({ token: without.token, sid }, without.ctx)).rejects.toThrow(
      /no such file session/,
    );
    expect(page.reads).toBe(0);
  });

  it('readers opening files never crowd out a file the user is attaching', async () => {
    const { composer, reader } = await setUp();
    const c = await composer();
    const files = await attachAll(c, randomBytes(1000));
    await iso['secure/send']({ token: c.token, text: 'a file', files }, c.ctx);
    const r = await reader(page.put[0]!);
    const start = await files_['secure/file-seal-start']({ token: c.token, name: 'x', type: '', size: 3 }, c.ctx);
    for (let i = 0; i < 12; i++) await files_['secure/file-open']({ token: r.token, index: 0 }, r.ctx);
    const sid = start.ok ? start.sid : '';
    const push = await files_['secure/file-seal-push'](
      { token: c.token, sid, data: base64.encode(new Uint8Array(3)) },
      c.ctx,
    );
    expect(push.ok).toBe(true);
    expect((await files_['secure/file-seal-finish']({ token: c.token, sid }, c.ctx)).ok).toBe(true);
  });

  it('files go from the main composer only, under a policy that encrypts them, to the conversation they were sealed for', async () => {
    const { composer } = await setUp();
    const thread = await composer('thread');
    expect(await attach(thread, randomBytes(10))).toMatchObject({ ok: false });
    state.attachments = 'block';
    const c = await composer();
    expect(await attach(c, randomBytes(10))).toMatchObject({ ok: false, error: { code: 'policy' } });
    state.attachments = 'encrypt';
    // The page switches conversations while the file is being sealed: the page never gets it.
    const start = await files_['secure/file-seal-start']({ token: c.token, name: 'x', type: '', size: 3 }, c.ctx);
    expect(start.ok).toBe(true);
    const sid = start.ok ? start.sid : '';
    await files_['secure/file-seal-push']({ token: c.token, sid, data: base64.encode(new Uint8Array(3)) }, c.ctx);
    page.conversationId = 'dm-alice-carol';
    expect(await files_['secure/file-seal-finish']({ token: c.token, sid }, c.ctx)).toMatchObject({ ok: false });
    expect(page.handed).toHaveLength(0);
    expect(page.dropped).toContain(sid);
    // A file attached in one conversation never goes with a message in another: the send is refused.
    page.conversationId = 'dm-alice-bob';
    const files = await attachAll(c, randomBytes(10));
    page.conversationId = 'dm-alice-carol';
    const sent = await iso['secure/send']({ token: c.token, text: 'elsewhere', files }, c.ctx);
    expect(sent).toMatchObject({ ok: false, error: { code: 'file' } });
    expect(page.put).toHaveLength(0);
    // Nor from a reply box, nor references that are not well formed.
    page.conversationId = 'dm-alice-bob';
    await expect(iso['secure/send']({ token: thread.token, text: 'reply', files }, thread.ctx)).rejects.toThrow();
    const bad = [{ ref: { ...files[0]!.ref, sha256: 'zz' }, conversationId: 'dm-alice-bob' }];
    await expect(iso['secure/send']({ token: c.token, text: 'x', files: bad }, c.ctx)).rejects.toThrow(/bad files/);
    expect(page.put).toHaveLength(0);
  });
});
