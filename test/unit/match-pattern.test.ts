import { describe, expect, it } from 'vitest';
import { isValidPattern, matchesPattern } from '../../lib/policy/match-pattern';

describe('match patterns', () => {
  it.each([
    ['http://127.0.0.1/*', 'http://127.0.0.1:8080/?user=alice', true],
    ['http://127.0.0.1/*', 'https://127.0.0.1/', false],
    ['https://*.slack.com/*', 'https://acme.slack.com/client', true],
    ['https://*.slack.com/*', 'https://slack.com/', true],
    ['https://*.slack.com/*', 'https://evilslack.com/', false],
    ['*://chat.example.com/app/*', 'https://chat.example.com/app/x', true],
    ['*://chat.example.com/app/*', 'https://chat.example.com/other', false],
    ['http://localhost:9000/*', 'http://localhost:9001/', false],
    ['<all_urls>', 'https://x.y/', true],
  ])('%s vs %s -> %s', (p, u, want) => {
    expect(matchesPattern(p, u)).toBe(want);
  });

  it('validates patterns', () => {
    expect(isValidPattern('https://*.slack.com/*')).toBe(true);
    expect(isValidPattern('slack.com')).toBe(false);
  });
});

describe('URL paths are matched in linear time (the page controls the URL)', () => {
  it('a pattern that makes a backtracking matcher explode is decided at once', () => {
    // With a regular expression (.*a){12}b this takes longer than the test timeout on a 4 KB path.
    const pattern = `https://chat.example/${'*a'.repeat(12)}b`;
    const url = `https://chat.example/${'a'.repeat(4000)}`;
    expect(matchesPattern(pattern, url)).toBe(false);
    expect(matchesPattern(pattern, `${url}b`)).toBe(true);
  });
});
