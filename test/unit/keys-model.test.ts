import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  type KeyRecord,
  scopeSpecificity,
  selectEncryptionKey,
  validateScope,
} from '../../lib/keys/model';

const key = (id: string, site: string, conversations: string[], extra: Partial<KeyRecord> = {}): KeyRecord => ({
  id,
  secret: new Uint8Array(32),
  label: id,
  scope: { site, conversations },
  status: 'active',
  createdAt: 1,
  source: 'generated',
  ...extra,
});

describe('key scopes', () => {
  it('matches sites and conversation patterns', () => {
    expect(
      scopeSpecificity({ site: 'fixture-chat', conversations: ['*'] }, 'fixture-chat', 'dm-a-b'),
    ).toBeGreaterThanOrEqual(0);
    expect(scopeSpecificity({ site: 'other', conversations: ['*'] }, 'fixture-chat', 'dm-a-b')).toBe(-1);
    expect(scopeSpecificity({ site: '*', conversations: ['dm-*'] }, 'fixture-chat', 'ch-general')).toBe(-1);
  });

  it('picks the most specific active key, newest on ties', () => {
    const keys = [
      key('00000001', '*', ['*']),
      key('00000002', 'fixture-chat', ['*']),
      key('00000003', 'fixture-chat', ['dm-*']),
      key('00000004', 'fixture-chat', ['dm-alice-bob']),
      key('00000005', 'fixture-chat', ['dm-alice-bob'], { status: 'revoked', createdAt: 9 }),
      key('00000006', 'fixture-chat', ['dm-*'], { createdAt: 5 }),
    ];
    expect(selectEncryptionKey(keys, 'fixture-chat', 'dm-alice-bob')?.id).toBe('00000004');
    expect(selectEncryptionKey(keys, 'fixture-chat', 'dm-bob-carol')?.id).toBe('00000006');
    expect(selectEncryptionKey(keys, 'fixture-chat', 'ch-general')?.id).toBe('00000002');
    expect(selectEncryptionKey(keys, 'thelounge', 'x')?.id).toBe('00000001');
    expect(selectEncryptionKey(keys.slice(1), 'thelounge', 'x')).toBeUndefined();
  });

  it('treats regex characters in patterns literally', () => {
    expect(scopeSpecificity({ site: '*', conversations: ['a.b'] }, 's', 'axb')).toBe(-1);
  });

  it('validates scopes', () => {
    expect(() => validateScope({ site: '', conversations: ['*'] })).toThrow();
    expect(() => validateScope({ site: '*', conversations: [] })).toThrow();
    expect(validateScope({ site: '*', conversations: ['*'] })).toEqual({ site: '*', conversations: ['*'] });
  });

  it('fingerprints are stable, grouped and depend on the secret', () => {
    const a = fingerprint('01020304', new Uint8Array(32));
    expect(a).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    expect(fingerprint('01020304', new Uint8Array(32))).toBe(a);
    expect(fingerprint('01020304', new Uint8Array(32).fill(1))).not.toBe(a);
  });
});
