/**
 * Opens a key release from Veil's key service (the HTTP contract: POST /v1/keys/release). The
 * response is untrusted until every key in it opened: each key's secret is HPKE-sealed to this
 * browser's device key with the subject, key id and group as associated data, so a key moved to
 * another entry, another user or another group does not open. All or nothing: one malformed or
 * tampered key refuses the whole release, and nothing is stored. Background only.
 */
import { base64urlnopad } from '@scure/base';
import { KEY_ID_RE, type KeyRecord, type KeyStatus, validateScope } from '../../keys/model';
import { type DeviceKey, SUITE_NAMES } from './device-key';

export const RELEASE_INFO = 'veil/key-release/v1';
const MAX_KEYS = 10_000;
const STATUSES: KeyStatus[] = ['active', 'retired', 'revoked'];

export class ReleaseError extends Error {}

/** One opened release: who it is for, its keys (source 'keyservice') and how long they may be used offline. */
export interface Release {
  subject: string;
  groups: string[];
  releasedAt: number;
  offlineGraceHours?: number;
  keys: KeyRecord[];
}

interface WireKey {
  id: string;
  group: string;
  status: KeyStatus;
  label: string;
  scope: unknown;
  createdAt: number;
  wrapped: { suite: string; enc: string; ct: string };
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const buf = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;

function isString(v: unknown, max = 1000): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function decode(v: unknown, what: string): Uint8Array {
  // With or without "=" padding: the contract says base64url, and encoders differ.
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(v)) throw new ReleaseError(`${what} is not base64url`);
  try {
    return base64urlnopad.decode(v.replace(/=+$/, ''));
  } catch {
    throw new ReleaseError(`${what} is not base64url`);
  }
}

function checkKey(k: unknown, i: number, kem: DeviceKey['kem']): WireKey {
  const w = k as WireKey;
  const at = `keys[${i}]`;
  if (!w || typeof w !== 'object') throw new ReleaseError(`${at} is not an object`);
  if (typeof w.id !== 'string' || !KEY_ID_RE.test(w.id)) throw new ReleaseError(`${at}.id is not 8 hex characters`);
  if (!isString(w.group, 200)) throw new ReleaseError(`key ${w.id}: group is missing`);
  if (!STATUSES.includes(w.status)) throw new ReleaseError(`key ${w.id}: unknown status`);
  if (!isString(w.label, 200) || w.label.includes('\n')) throw new ReleaseError(`key ${w.id}: bad label`);
  if (!Number.isFinite(w.createdAt) || w.createdAt < 0) throw new ReleaseError(`key ${w.id}: bad createdAt`);
  if (!w.wrapped || typeof w.wrapped !== 'object') throw new ReleaseError(`key ${w.id}: not wrapped`);
  if (w.wrapped.suite !== SUITE_NAMES[kem])
    throw new ReleaseError(`key ${w.id}: wrapped with "${String(w.wrapped.suite)}", not ${SUITE_NAMES[kem]}`);
  return w;
}

/**
 * Checks and opens a release body. `expectedSubject`, when known (a refresh after sign-in), must
 * match: a service answering for someone else is refused.
 */
export async function openRelease(body: unknown, device: DeviceKey, expectedSubject?: string): Promise<Release> {
  const r = body as Record<string, unknown>;
  if (!r || typeof r !== 'object') throw new ReleaseError('the answer is not a JSON object');
  const { subject, groups, releasedAt, offlineGraceHours, keys } = r;
  if (!isString(subject, 512)) throw new ReleaseError('subject is missing');
  if (expectedSubject !== undefined && subject !== expectedSubject)
    throw new ReleaseError(`the keys are for "${subject}", not for "${expectedSubject}"`);
  if (!Array.isArray(groups) || !groups.every((g) => isString(g, 200))) throw new ReleaseError('groups is not a list');
  if (!Number.isFinite(releasedAt)) throw new ReleaseError('releasedAt is missing');
  if (offlineGraceHours !== undefined && !(Number.isFinite(offlineGraceHours) && (offlineGraceHours as number) >= 0))
    throw new ReleaseError('offlineGraceHours is not a number');
  if (!Array.isArray(keys) || keys.length > MAX_KEYS) throw new ReleaseError('keys is not a list');
  const wire = keys.map((k, i) => checkKey(k, i, device.kem));
  const ids = new Set<string>();
  for (const k of wire) {
    if (ids.has(k.id)) throw new ReleaseError(`key ${k.id} appears twice`);
    ids.add(k.id);
  }
  const { suite, key } = await device.recipient();
  const out: KeyRecord[] = [];
  for (const k of wire) {
    let scope;
    try {
      scope = validateScope(k.scope);
    } catch (e) {
      throw new ReleaseError(`key ${k.id}: ${(e as Error).message}`);
    }
    const enc = decode(k.wrapped.enc, `key ${k.id}: enc`);
    const ct = decode(k.wrapped.ct, `key ${k.id}: ct`);
    let secret: Uint8Array;
    try {
      const ctx = await suite.createRecipientContext({
        recipientKey: key,
        enc: buf(enc),
        info: buf(utf8(RELEASE_INFO)),
      });
      secret = new Uint8Array(await ctx.open(buf(ct), buf(utf8(`${subject}\n${k.id}\n${k.group}`))));
    } catch {
      throw new ReleaseError(
        `key ${k.id} does not open with this browser's device key (tampered, or for someone else)`,
      );
    }
    if (secret.length !== 32) throw new ReleaseError(`key ${k.id} is not a 32-byte key`);
    out.push({
      id: k.id,
      secret,
      label: k.label,
      scope,
      status: k.status,
      createdAt: k.createdAt,
      source: 'keyservice',
    });
  }
  return {
    subject,
    groups: groups as string[],
    releasedAt: releasedAt as number,
    ...(offlineGraceHours !== undefined ? { offlineGraceHours: offlineGraceHours as number } : {}),
    keys: out,
  };
}
