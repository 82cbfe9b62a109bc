/**
 * Files derived from the policy schema must match it: the ahead-of-time ajv validator the extension
 * ships, and the reference table in docs/policy.md. `npm run policy:generate` fixes both.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  generatedValidator,
  POLICY_DOC_FILE,
  policyAjv,
  VALIDATOR_FILE,
  withGeneratedReference,
} from '../../scripts/admin-generate';
import { POLICY_SCHEMA } from '../../lib/policy/schema';
import { validate } from '../../lib/policy/validate.generated';

describe('generated from the policy schema', () => {
  it(`${VALIDATOR_FILE} is up to date (run npm run policy:generate)`, () => {
    expect(readFileSync(VALIDATOR_FILE, 'utf8')).toBe(generatedValidator());
  });

  it(`${POLICY_DOC_FILE} documents exactly the schema's settings (run npm run policy:generate)`, () => {
    const doc = readFileSync(POLICY_DOC_FILE, 'utf8');
    expect(doc).toBe(withGeneratedReference(doc));
    for (const name of Object.keys(POLICY_SCHEMA.properties)) expect(doc).toContain(`| \`${name}\` |`);
  });

  it('the shipped validator agrees with ajv compiling the schema afresh', () => {
    const fresh = policyAjv().compile(POLICY_SCHEMA);
    const samples: unknown[] = [
      { protectedSites: [] },
      { protectedSites: [{ adapter: 'x', matches: ['https://a/*'] }], mode: 'isolated' },
      { protectedSites: [{ adapter: 'x' }] },
      { protectedSites: [], mode: 'other' },
      { keys: [] },
      { protectedSites: [], extra: true },
      { protectedSites: [{ adapter: 'x', matches: ['https://a/*'], mode: 'isolated' }] },
      { protectedSites: [{ adapter: 'x', matches: ['https://a/*'], mode: 'other' }] },
    ];
    for (const s of samples) expect((validate as (d: unknown) => boolean)(s), JSON.stringify(s)).toBe(fresh(s));
  });
});
