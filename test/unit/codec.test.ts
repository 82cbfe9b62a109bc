import { describe, expect, it } from 'vitest';
import { randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText, findEnvelopes } from '../../lib/crypto/codec';

const frame = randomBytes(61);
const env = encodeEnvelopeText(frame);

function only(text: string) {
  const found = findEnvelopes(text);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('envelope text codec', () => {
  it('uses only ASCII letters and digits: no markdown, link, command or emoji-shortcode characters', () => {
    for (let i = 0; i < 200; i++) {
      expect(encodeEnvelopeText(randomBytes(i))).toMatch(/^VEIL1[1-9A-HJ-NP-Za-km-z]*0$/);
    }
  });

  it('round-trips frames of every length 0..300', () => {
    for (let n = 1; n <= 300; n++) {
      const f = randomBytes(n);
      expect(only(encodeEnvelopeText(f))).toMatchObject({ kind: 'envelope', frame: f });
    }
  });

  it('finds envelopes inside surrounding text and link wrappers', () => {
    const hit = only(`Re: <${env}> (sent from mobile)`);
    expect(hit).toMatchObject({ kind: 'envelope', frame });
    expect(`Re: <${env}>`.slice(hit.start, hit.end)).toBe(env);
  });

  it('tolerates whitespace, line breaks and zero-width characters inserted by the host', () => {
    const mangled =
      env.slice(0, 2) + '\u200B' + env.slice(2, 20) + '\n ' + env.slice(20, 40) + '\u00AD\u2060' + env.slice(40);
    expect(only(mangled)).toMatchObject({ kind: 'envelope', frame });
  });

  it('finds several envelopes in one text', () => {
    const found = findEnvelopes(`${env} and ${env}`);
    expect(found.map((f) => f.kind)).toEqual(['envelope', 'envelope']);
  });

  it('reports truncated, unknown-version and undecodable envelopes as malformed', () => {
    expect(only(env.slice(0, -5))).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('truncated') });
    expect(only(`VEIL2${env.slice(5)}`)).toMatchObject({ kind: 'malformed', reason: 'unsupported version 2' });
    expect(only('VEIL1zzzzzzzzzzzzzzzz0')).toMatchObject({ kind: 'malformed' });
  });

  it('reads a text that is one bare envelope as it reads the same envelope inside other text', () => {
    // A bare envelope takes a shorter path; a leading space sends the same text the general way.
    const texts = [env, 'VEIL2' + env.slice(5), 'VEIL1zzzzzzzzzzzzzzzz0', 'VEIL1z0', 'VEIL10', 'VEIL1'];
    // Not bare: more after it, two in a row, split by a line break or a zero-width character.
    texts.push(`${env}${env}`, `${env} x`, `${env}\n`, `${env}\n${env}`, `V\u200B${env.slice(1)}`, `${env}0`);
    for (let i = 0; i < 100; i++) texts.push(encodeEnvelopeText(randomBytes(i)));
    for (const t of texts) {
      const shifted = findEnvelopes(` ${t}`).map((f) => ({ ...f, start: f.start - 1, end: f.end - 1 }));
      expect(findEnvelopes(t)).toEqual(shifted);
    }
  });

  it('leaves ordinary text alone', () => {
    for (const t of [
      '',
      'hello',
      'the VEIL is lifted',
      'VEIL',
      'VEIL 1 2 3',
      'veil1abc0',
      '📎 https://example.com/VEIL1',
    ]) {
      expect(findEnvelopes(t).filter((f) => f.kind === 'envelope')).toEqual([]);
    }
  });
});
