/**
 * The embedded default for the demo and a first look: everything under one data directory
 * (VEIL_KS_HOME, default `.keyservice/`): a SoftHSM2 token with a generated PIN, a SQLite database
 * and the audit log. Production sets VEIL_KS_DATABASE, VEIL_KS_PKCS11_MODULE, VEIL_KS_TOKEN_LABEL
 * and VEIL_KS_PIN instead, and none of this runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { KeyServiceConfig } from './config';
import { initSoftHsmToken, SOFTHSM_MODULE } from './hsm';

export const EMBEDDED_TOKEN = 'veil-embedded';

export async function embeddedDefaults(env: Record<string, string | undefined>): Promise<Partial<KeyServiceConfig>> {
  if (env.VEIL_KS_TOKEN_LABEL) return {}; // a configured HSM: production
  const home = resolve(env.VEIL_KS_HOME || '.keyservice');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const pinFile = join(home, 'hsm-pin');
  if (!existsSync(pinFile)) writeFileSync(pinFile, randomBytes(16).toString('hex'), { mode: 0o600 });
  const pin = readFileSync(pinFile, 'utf8').trim();
  await initSoftHsmToken(join(home, 'hsm'), EMBEDDED_TOKEN, pin);
  return {
    database: `sqlite:${join(home, 'keyservice.db')}`,
    pkcs11Module: SOFTHSM_MODULE,
    tokenLabel: EMBEDDED_TOKEN,
    pin,
    audit: join(home, 'audit.jsonl'),
  };
}
