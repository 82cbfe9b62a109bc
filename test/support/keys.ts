/** Test keys are made at test time, never committed: a bundle as an admin would hand it out. */
import { bytesToHex, hexToBytes, randomBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText } from '../../lib/crypto/codec';
import {
  type DerivedKey,
  deriveKey,
  type MessageContext,
  type SealOptions,
  sealMessage,
} from '../../lib/crypto/envelope';
import { createBundle } from '../../lib/crypto/bundle';
import type { KeyRecord, KeyScope } from '../../lib/keys/model';

/** scrypt at the lowest cost the importer accepts keeps tests quick; real bundles use 2^17. */
export const TEST_KDF = { N: 2 ** 15, r: 8, p: 1 };

export function makeKey(label: string, scope: KeyScope, status: KeyRecord['status'] = 'active'): KeyRecord {
  return {
    id: bytesToHex(randomBytes(4)),
    secret: randomBytes(32),
    label,
    scope,
    status,
    createdAt: Date.now(),
    source: 'generated',
  };
}

export async function bundleText(keys: KeyRecord[], passphrase: string): Promise<string> {
  return JSON.stringify(await createBundle(keys, passphrase, { kdf: TEST_KDF }));
}

const derivedKeys = new WeakMap<KeyRecord, DerivedKey>();

/**
 * An envelope as anyone holding `key` can make it outside the browser: a colleague's message, an
 * insider's forgery, history seeded for a test. Same code path as the extension (lib/crypto).
 */
export function envelopeFor(
  key: KeyRecord,
  text: string,
  ctx: MessageContext,
  signingKey?: Uint8Array,
  more: Pick<SealOptions, 'quotes' | 'editOf'> = {},
): string {
  let derived = derivedKeys.get(key);
  if (!derived) derivedKeys.set(key, (derived = deriveKey({ id: hexToBytes(key.id), secret: key.secret })));
  return encodeEnvelopeText(
    sealMessage(derived, text, ctx, { sentAt: Date.now(), nonce: randomBytes(16), signingKey, ...more }),
  );
}
