/**
 * How a received message with attachments is shown (lib/page/attachment-view.ts): the sender's
 * text and file names as text only, and nothing fetched or decrypted on the page's scripted click.
 */
import { describe, expect, it } from 'vitest';
import { parseHTML } from 'linkedom';
import { encodeFileRef, splitFileRefs, withFileRefs } from '../../lib/crypto/file-ref';
import { renderFileMessage, type Requester } from '../../lib/page/attachment-view';

const ref = (name: string, type = 'application/pdf') => ({
  id: 'ab'.repeat(16),
  sha256: 'cd'.repeat(32),
  sealedSize: 2000,
  name,
  type,
  size: 1234,
});

describe('received attachments', () => {
  it('show the caption and each file name as text, never as HTML; a scripted click fetches nothing', async () => {
    const { document } = parseHTML('<html><body><li class="message"><div class="text"></div></li></body></html>');
    const into = document.createElement('span');
    const calls: string[] = [];
    const request = (async (type: string) => {
      calls.push(type);
      return { ok: false, error: { code: 'internal', message: 'no' } };
    }) as unknown as Requester;
    const hostile = '<img src=x onerror=alert(1)>.pdf';
    const text = withFileRefs('see <b>this</b>', [ref(hostile)]);
    const shown = renderFileMessage(into, text, {
      conversationId: 'dm-alice-bob',
      author: 'alice',
      message: document.querySelector('li')!,
      request,
    });
    expect(shown).toBe(true);
    expect(into.querySelector('img, b')).toBeNull();
    expect(into.firstChild?.textContent).toBe('see <b>this</b>');
    expect(into.querySelector('.veil-file-name')?.textContent).toContain(hostile);
    expect(into.querySelector('.veil-file-name')?.textContent).toContain('1.2 KB');
    into
      .querySelector<HTMLButtonElement>('.veil-file-download')!
      .dispatchEvent(new (document.defaultView as any).Event('click'));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([]); // untrusted: the page cannot make Veil fetch or decrypt
  });

  it('a text without references is an ordinary message; references come first, then the text', () => {
    const { document } = parseHTML('<html><body></body></html>');
    const into = document.createElement('span');
    const ctx = {
      conversationId: 'c',
      author: 'a',
      message: document.body,
      request: (async () => ({})) as unknown as Requester,
    };
    expect(renderFileMessage(into, 'just text veil-file/1 {}', ctx)).toBe(false);
    const two = withFileRefs('', [ref('a.pdf'), ref('b.png', 'image/png')]);
    expect(two.split('\n')[0]).toBe(encodeFileRef(ref('a.pdf')));
    expect(splitFileRefs(two)).toEqual({ refs: [ref('a.pdf'), ref('b.png', 'image/png')], text: '' });
    expect(splitFileRefs('hello')).toEqual({ refs: [], text: 'hello' });
  });

  it('a message the page makes Veil repaint shows its preview again without fetching or decrypting it again', async () => {
    const { document } = parseHTML(
      `<html><body><li class="message"><a href="http://127.0.0.1/f/1" download="${'ab'.repeat(16)}.veil">f</a></li></body></html>`,
    );
    const calls: string[] = [];
    const request = (async (type: string) => {
      calls.push(type);
      if (type === 'file/open-start') return { ok: true, sid: 's' };
      if (type === 'file/open-push') return { ok: true };
      return { ok: true, data: '', type: 'image/png', movedFromOtherConversation: false, senderMismatch: false };
    }) as unknown as Requester;
    const fetches: string[] = [];
    const realFetch = globalThis.fetch;
    const realUrl = URL.createObjectURL;
    globalThis.fetch = (async (url: string) => {
      fetches.push(url);
      return new Response(new Uint8Array([1, 2, 3]));
    }) as typeof fetch;
    URL.createObjectURL = () => `blob:preview-${fetches.length}`;
    try {
      const ctx = { conversationId: 'c-repaint', author: 'alice', message: document.querySelector('li')!, request };
      const text = withFileRefs('', [ref('photo.png', 'image/png')]);
      const first = document.createElement('span');
      renderFileMessage(first, text, ctx);
      await new Promise((r) => setTimeout(r, 20));
      expect(first.querySelector('img')?.getAttribute('src')).toBe('blob:preview-1');
      for (let i = 0; i < 50; i++) renderFileMessage(document.createElement('span'), text, ctx);
      const again = document.createElement('span');
      renderFileMessage(again, text, ctx);
      await new Promise((r) => setTimeout(r, 20));
      expect(again.querySelector('img')?.getAttribute('src')).toBe('blob:preview-1');
      expect(fetches).toHaveLength(1);
      expect(calls.filter((c) => c === 'file/open-start')).toHaveLength(1);
    } finally {
      globalThis.fetch = realFetch;
      URL.createObjectURL = realUrl;
    }
  });
});
