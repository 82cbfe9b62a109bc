/**
 * The background's attachment handlers as a hostile page drives them through its content script:
 * sessions of another tab, files a policy blocks or that are too large, and sealed files the vendor
 * swapped or cut. Real keyring over fake IndexedDB; the policy and site modes are mocked.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { base64 } from '@scure/base';
import { randomBytes } from 'node:crypto';
import { concatBytes } from '@noble/ciphers/utils.js';
import type { Policy, ProtectedSite } from '../../lib/policy/policy';
import type { RequestContext } from '../../lib/background/handlers/common';

const state = vi.hoisted(() => ({ policy: undefined as unknown as Policy, userModes: {} as Record<string, string> }));
vi.mock('webextension-polyfill', () => ({ default: { tabs: undefined, storage: {} } }));
vi.mock('../../lib/background/policy-source', () => ({ policy: () => state.policy }));
vi.mock('../../lib/background/isolated/settings', () => ({
  isolatedSettings: { get: async () => ({ indicator: undefined, siteModes: state.userModes }) },
}));

const { Keyring, noLockCache } = await import('../../lib/background/keyring');
const { KeyStore } = await import('../../lib/background/keys/store');
const { fileHandlers: h } = await import('../../lib/background/handlers/files');

const fixture: ProtectedSite = { adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] };
const CONV = 'dm-alice-bob';

function setPolicy(extra: Partial<Policy> = {}, sites: ProtectedSite[] = [fixture]) {
  state.policy = {
    managed: false,
    protectedSites: sites,
    requireEncryption: true,
    flagUnencrypted: true,
    allowUserKeys: true,
    allowKeyExport: true,
    mode: 'inline',
    policyKeyIds: [],
    errors: [],
    ...extra,
  };
}

let n = 0;
async function setup() {
  const keyring = new Keyring(new KeyStore(`veil-files-${n++}-${Date.now()}`), noLockCache, () => undefined);
  await keyring.generate('team', { site: 'fixture-chat', conversations: [CONV] });
  const tab = (tabId: number): RequestContext => ({
    keyring,
    site: state.policy.protectedSites[0], // as the router finds it in the policy in force
    frame: { tabId, frameId: 0, url: 'http://127.0.0.1/', tabUrl: 'http://127.0.0.1/' },
  });
  return { keyring, tab };
}

async function seal(ctx: RequestContext, plain: Uint8Array, name = 'a.bin') {
  const start = await h['file/seal-start'](
    { conversationId: CONV, senderId: 'alice', name, type: 'application/pdf', size: plain.length },
    ctx,
  );
  if (!start.ok) throw new Error(start.error.message);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < plain.length || at === 0; at += 100_000) {
    const r = await h['file/seal-push']({ sid: start.sid, data: base64.encode(plain.subarray(at, at + 100_000)) }, ctx);
    if (!r.ok) throw new Error(r.error.message);
    parts.push(base64.decode(r.data));
    if (plain.length === 0) break;
  }
  const end = await h['file/seal-finish']({ sid: start.sid }, ctx);
  if (!end.ok) throw new Error(end.error.message);
  parts.push(base64.decode(end.data));
  return { sealed: concatBytes(...parts), ref: end.ref, fileName: start.fileName };
}

async function open(
  ctx: RequestContext,
  sealed: Uint8Array,
  ref: { sha256: string; sealedSize: number },
  author = 'alice',
) {
  const start = await h['file/open-start']({ conversationId: CONV, author, ...ref }, ctx);
  if (!start.ok) return start;
  const parts: Uint8Array[] = [];
  for (let at = 0; at < sealed.length; at += 70_000) {
    const r = await h['file/open-push']({ sid: start.sid, data: base64.encode(sealed.subarray(at, at + 70_000)) }, ctx);
    if (!r.ok) return r;
    parts.push(base64.decode(r.data));
  }
  const end = await h['file/open-finish']({ sid: start.sid }, ctx);
  if (!end.ok) return end;
  return { ...end, plain: concatBytes(...parts, base64.decode(end.data)) };
}

beforeEach(() => {
  setPolicy();
  state.userModes = {};
});

describe('attachment handlers', () => {
  it('seal then open: the exact bytes, the real name and type; the page only ever sees <id>.veil', async () => {
    const { tab } = await setup();
    const plain = randomBytes(300_000);
    const { sealed, ref, fileName } = await seal(tab(1), plain, 'Q3 report.pdf');
    expect(fileName).toBe(`${ref.id}.veil`);
    expect(ref).toMatchObject({
      name: 'Q3 report.pdf',
      type: 'application/pdf',
      size: plain.length,
      sealedSize: sealed.length,
    });
    const r = await open(tab(2), sealed, ref);
    expect(r).toMatchObject({ ok: true, name: 'Q3 report.pdf', type: 'application/pdf', size: plain.length });
    expect(Buffer.from((r as { plain: Uint8Array }).plain).equals(plain)).toBe(true);
  });

  it("another tab cannot push into, finish or abort a tab's session", async () => {
    const { tab } = await setup();
    const start = await h['file/seal-start'](
      { conversationId: CONV, senderId: 'alice', name: 'x', type: '', size: 3 },
      tab(1),
    );
    if (!start.ok) throw new Error('start');
    await expect(h['file/seal-push']({ sid: start.sid, data: base64.encode(randomBytes(3)) }, tab(2))).rejects.toThrow(
      /no such file session/,
    );
    await expect(h['file/seal-finish']({ sid: start.sid }, tab(2))).rejects.toThrow(/no such file session/);
    await h['file/abort']({ sid: start.sid }, tab(2));
    expect((await h['file/seal-push']({ sid: start.sid, data: base64.encode(randomBytes(3)) }, tab(1))).ok).toBe(true);
  });

  it("a tab that opens session after session crowds out only its own, never another tab's", async () => {
    const { tab } = await setup();
    const req = { conversationId: CONV, senderId: 'alice', name: 'x', type: '', size: 3 };
    const other = await h['file/seal-start'](req, tab(7));
    if (!other.ok) throw new Error('start');
    for (let i = 0; i < 40; i++) expect((await h['file/seal-start'](req, tab(8))).ok).toBe(true);
    expect((await h['file/seal-push']({ sid: other.sid, data: base64.encode(randomBytes(3)) }, tab(7))).ok).toBe(true);
    expect((await h['file/seal-start'](req, tab(9))).ok).toBe(true);
  });

  it('policy block, too large, and isolated mode refuse before any byte is read', async () => {
    const { tab } = await setup();
    const req = { conversationId: CONV, senderId: 'alice', name: 'x', type: '', size: 10 };
    setPolicy({ attachments: 'block' });
    expect(await h['file/seal-start'](req, tab(1))).toMatchObject({ ok: false, error: { code: 'policy' } });
    setPolicy({ maxAttachmentBytes: 9 });
    expect(await h['file/seal-start'](req, tab(1))).toMatchObject({ ok: false, error: { code: 'file' } });
    setPolicy({}, [{ ...fixture, mode: 'isolated' }]);
    expect(await h['file/seal-start'](req, tab(1))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('a swapped, cut or altered file yields an error, never a successful finish', async () => {
    const { tab } = await setup();
    const a = await seal(tab(1), randomBytes(200_000));
    const b = await seal(tab(1), randomBytes(200_000));
    // Another authentic file of the same conversation, in place of the one the message names.
    expect(await open(tab(2), b.sealed, { ...a.ref, sealedSize: b.sealed.length })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/not the file the message names/) },
    });
    const cut = a.sealed.subarray(0, a.sealed.length - (200_000 % 65_536) - 16); // the whole last chunk
    expect(await open(tab(2), cut, { ...a.ref, sealedSize: cut.length })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/cut short/) },
    });
    const bad = a.sealed.slice();
    bad[5000]! ^= 1;
    expect(await open(tab(2), bad, a.ref)).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/altered/) },
    });
    // More bytes than the message names: refused as soon as they arrive.
    expect(await open(tab(2), concatBytes(a.sealed, randomBytes(10)), a.ref)).toMatchObject({ ok: false });
  });

  it('a file under a key an isolated chat uses is not opened into an inline page', async () => {
    const { keyring, tab } = await setup();
    await keyring.generate('everywhere', { site: '*', conversations: ['*'] });
    const team = (await keyring.list()).find((k) => k.label === 'team')!;
    await keyring.setStatus(team.id, 'retired'); // the shared key seals
    const a = await seal(tab(1), randomBytes(1000));
    setPolicy({}, [fixture, { adapter: 'thelounge', matches: ['http://127.0.0.1:9000/*'], mode: 'isolated' }]);
    const start = await h['file/open-start']({ conversationId: CONV, author: 'alice', ...a.ref }, tab(2));
    if (!start.ok) throw new Error('start');
    const r = await h['file/open-push']({ sid: start.sid, data: base64.encode(a.sealed) }, tab(2));
    expect(r).toMatchObject({ ok: false, error: { message: expect.stringMatching(/None of your Veil keys/) } });
  });

  it('a file whose key is out of scope for this conversation is not opened', async () => {
    const { tab } = await setup();
    const a = await seal(tab(1), randomBytes(1000));
    const start = await h['file/open-start']({ conversationId: 'ch-general', author: 'alice', ...a.ref }, tab(2));
    if (!start.ok) throw new Error('start');
    const r = await h['file/open-push']({ sid: start.sid, data: base64.encode(a.sealed) }, tab(2));
    expect(r).toMatchObject({ ok: false, error: { message: expect.stringMatching(/None of your Veil keys/) } });
  });
});
