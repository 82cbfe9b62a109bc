import { describe, expect, it } from 'vitest';
import { leakedSubstrings } from '../support/leaks';

describe('the plaintext leak check', () => {
  it('catches whole and partial leaks, in any script', () => {
    expect(leakedSubstrings('{"text":"hello world"}', 'hello world')).not.toEqual([]);
    expect(leakedSubstrings('xx lo wo xx', 'hello world')).toEqual(['lo w', 'o wo']);
    expect(leakedSubstrings('你好世界', '我说你好世界')).toEqual(['你好世界']);
  });

  it('stays quiet when nothing leaks', () => {
    expect(leakedSubstrings('VEIL1abcdef0', 'hello world')).toEqual([]);
    expect(leakedSubstrings('hel', 'hello')).toEqual([]);
  });

  it('ignores words that base58 ciphertext spells by chance, but not text beside an envelope', () => {
    const envelope = 'VEIL1Ab3iverXyz9kq0';
    expect(leakedSubstrings(`{"text":"${envelope}"}`, 'delivered three')).toEqual([]);
    expect(leakedSubstrings(`{"text":"${envelope} delivered"}`, 'delivered three')).not.toEqual([]);
  });
});
