/**
 * The enterprise policy an admin writes for a team's The Lounge (it has no fixed domain): the
 * site under the built-in adapter, and a key for its channels.
 */
import type { KeyRecord } from '../../lib/keys/model';
import { CHROME_EXTENSION_ID } from '../../lib/policy/ids';
import { veilPolicy } from './firefox';

/** Chromium's policy JSON (3rdparty, for Veil) protecting The Lounge at `pattern` with `key`. */
export function loungePolicy(pattern: string, key: KeyRecord): string {
  const veil = veilPolicy([key], pattern, { protectedSites: [{ adapter: 'thelounge', matches: [pattern] }] });
  return JSON.stringify({ '3rdparty': { extensions: { [CHROME_EXTENSION_ID]: veil } } });
}
