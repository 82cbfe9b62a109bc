/** The device-committing sign-in nonce (lib/crypto/device-nonce.ts): a fixed vector, and what changes it. */
import { describe, expect, it } from 'vitest';
import { deviceNonce } from '../../lib/crypto/device-nonce';

describe('device nonce', () => {
  it('is SHA-256 over the domain, the device key and the salt, base64url without padding', () => {
    // printf 'veil-device-v1\nPUB\nSALT' | sha256sum, as base64url
    expect(deviceNonce('PUB', 'SALT')).toBe('QoEMLCvXjafqDSt3KIrt0pPceU8gIph60VGq68VUUKI');
  });

  it('differs for another device key or another salt', () => {
    const n = deviceNonce('PUB', 'SALT');
    expect(deviceNonce('PUB2', 'SALT')).not.toBe(n);
    expect(deviceNonce('PUB', 'SALT2')).not.toBe(n);
  });
});
