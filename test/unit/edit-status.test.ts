/** How an edit is shown (lib/i18n/status-text.ts): marked edited where it belongs, flagged elsewhere. */
import { describe, expect, it } from 'vitest';
import type { DecryptedItem } from '../../lib/messaging/protocol';
import { viewOf } from '../../lib/i18n/status-text';

const edit: DecryptedItem = {
  id: '1',
  status: 'decrypted',
  text: 'new words',
  keyId: 'c0c8d52c',
  messageId: '11'.repeat(16),
  editOf: { messageId: '22'.repeat(16), hostId: 'm7' },
};

describe('edits in the status badge', () => {
  it('an edit shown where it belongs is decrypted and marked edited', () => {
    const view = viewOf({ ...edit, graftedEdit: false }, 'alice', false);
    expect(view).toMatchObject({ status: 'decrypted', tone: 'ok' });
    expect(view.label).toContain('edited');
  });

  it('an edit shown in place of another message is flagged, like a moved message (its text is not shown)', () => {
    const view = viewOf({ ...edit, graftedEdit: true }, 'alice', false);
    expect(view).toMatchObject({ status: 'moved', tone: 'bad', label: '⚠ Edit of another message' });
    // Also when the page saw the same envelope elsewhere first (a replay): the more specific reason wins.
    expect(viewOf({ ...edit, graftedEdit: true }, 'alice', true).status).toBe('moved');
  });

  it('an edit from a chat that shows no message ids says Veil cannot check where it belongs', () => {
    const view = viewOf({ ...edit, editOf: { messageId: '22'.repeat(16), hostId: '' } }, 'alice', false);
    expect(view).toMatchObject({ status: 'decrypted', tone: 'ok' });
    expect(view.label).toContain('edited');
    expect(view.detail).toContain('cannot check that the edit belongs to this message');
    expect(viewOf({ ...edit, graftedEdit: false }, 'alice', false).detail).not.toContain('cannot check');
  });

  it('a message that is not an edit is not marked', () => {
    const { editOf: _e, ...plain } = edit;
    expect(viewOf(plain, 'alice', false).label).not.toContain('edited');
  });
});
