/**
 * Key scopes match conversation ids (which the vendor's page chooses) with globs. A backtracking
 * matcher lets a page freeze the background for minutes with one crafted id; this one is bounded.
 */
import { describe, expect, it } from 'vitest';
import { globMatch, scopeSpecificity } from '../../lib/keys/model';
import { prng } from '../support/prng';

/** Obviously correct, exponential in the worst case: the reference the fast matcher must agree with. */
function reference(p: string, s: string): boolean {
  if (p === '') return s === '';
  if (p[0] === '*') return reference(p.slice(1), s) || (s !== '' && reference(p, s.slice(1)));
  return s !== '' && p[0] === s[0] && reference(p.slice(1), s.slice(1));
}

describe('glob matching', () => {
  it('agrees with a reference matcher on many random patterns and ids', () => {
    const rand = prng(12);
    const pick = (alphabet: string, max: number) =>
      Array.from({ length: Math.floor(rand() * max) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const p = pick('ab*.', 8);
      const s = pick('ab.', 10);
      expect(globMatch(p, s), `${p} vs ${s}`).toBe(reference(p, s));
    }
  });

  it('treats everything but * literally', () => {
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(globMatch('a?b', 'axb')).toBe(false);
    expect(globMatch('#exec', '#exec')).toBe(true);
    expect(globMatch('dm-*', 'dm-')).toBe(true);
    expect(globMatch('', '')).toBe(true);
    expect(globMatch('*', '')).toBe(true);
  });

  it('takes polynomially many steps on the pattern that froze the worker for 109 s', () => {
    // A backtracking matcher explores C(80, 8) ~ 3e10 ways here (and ~1e25 for the longer one);
    // this one is bounded by |pattern| x |id|.
    for (const pattern of ['*a*a*a*a*a*a*a*b', '*a'.repeat(30) + '*b']) {
      const id = 'a'.repeat(80);
      const steps = { n: 0 };
      expect(globMatch(pattern, id, steps)).toBe(false);
      expect(steps.n).toBeLessThanOrEqual(pattern.length * (id.length + 1));
      expect(scopeSpecificity({ site: '*', conversations: [pattern] }, 's', id)).toBe(-1);
    }
    expect(globMatch('*a*a*a*a*a*a*a*b', 'a'.repeat(80) + 'b')).toBe(true);
  });
});
