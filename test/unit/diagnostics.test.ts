/**
 * the diagnostics file for IT holds what IT needs and no secret material, even when the
 * objects it is built from carry secrets (an allow-list, not a deny-list).
 */
import { base64, base58, hex } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { buildDiagnostics } from '../../lib/ui/diagnostics';
import { toInfo } from '../../lib/keys/model';
import { DEFAULT_POLICY } from '../../lib/policy/policy';
import { makeKey } from '../support/keys';

describe('diagnostics export', () => {
  it('names version, browser, policy, sites, keys, lock and content scripts, and no secret', () => {
    const key = makeKey('Team key', { site: 'fixture-chat', conversations: ['dm-alice-bob'] });
    // A key object that still carries its secret, as a careless caller might pass it.
    const leaky = { ...toInfo(key), secret: key.secret, passphrase: 'hunter2 hunter2' } as ReturnType<typeof toInfo>;
    const policy = {
      ...DEFAULT_POLICY,
      managed: true,
      protectedSites: [{ adapter: 'fixture-chat', matches: ['http://127.0.0.1/*'] }],
      errors: [{ path: 'protectedSites[0].adapter', message: 'not a Veil adapter' }],
    };
    const out = JSON.stringify(
      buildDiagnostics({
        version: '0.1.0',
        userAgent: 'Chromium/156',
        language: 'zh-CN',
        policy,
        keys: [leaky],
        lock: 'locked',
        identities: [
          { site: 'fixture-chat', userId: 'alice', publicKey: 'ab'.repeat(32), secretKey: key.secret } as never,
        ],
        directorySize: 2,
        contentScripts: [
          {
            id: 'veil-protected-sites',
            matches: ['http://127.0.0.1/*'],
            js: ['content-scripts/content.js'],
            runAt: 'document_start',
          },
        ],
        sites: [{ key: 'fixture-chat', name: 'Fixture chat', mode: 'inline', enforced: false }],
      }),
    );
    const d = JSON.parse(out);
    expect(d).toMatchObject({
      format: 'veil-diagnostics/1',
      veil: { version: '0.1.0' },
      browser: { userAgent: 'Chromium/156', language: 'zh-CN' },
      policy: { managed: true, valid: false, errors: [{ path: 'protectedSites[0].adapter' }] },
      lock: 'locked',
      directoryEntries: 2,
      keys: [
        {
          id: key.id,
          label: 'Team key',
          fingerprint: toInfo(key).fingerprint,
          status: 'active',
          scope: { site: 'fixture-chat', conversations: ['dm-alice-bob'] },
        },
      ],
      contentScripts: [{ id: 'veil-protected-sites', matches: ['http://127.0.0.1/*'] }],
    });
    expect(d.protectedSites.length).toBeGreaterThan(0);
    for (const encoded of [
      hex.encode(key.secret),
      base64.encode(key.secret),
      base58.encode(key.secret),
      'hunter2',
      'ab'.repeat(32),
    ]) {
      expect(out).not.toContain(encoded);
    }
    expect(out).not.toMatch(/secret|passphrase|publicKey/i);
  });
});
