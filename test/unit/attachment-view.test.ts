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
});
