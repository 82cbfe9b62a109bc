/**
 * Chats the user of an unmanaged install chose to protect (options page, "Protected sites"). An
 * enterprise policy replaces them. Pure: what a valid entry is, and how the list changes.
 */
import { builtinAdapter } from '../adapters/registry';
import { isValidPattern } from './match-pattern';
import type { ProtectedSite } from './policy';

/** Enough for every chat a person uses; keeps the content-script registration small. */
export const MAX_USER_SITES = 50;

export type UserSiteCheck = { ok: true; site: ProtectedSite } | { ok: false; reason: 'adapter' | 'pattern' | 'broad' };

/**
 * A built-in adapter and one match pattern naming a host. A URL typed without a path
 * (`https://chat.example.com`) gets a `/` and `*` path. A pattern for every host (host `*`, `<all_urls>`) is
 * refused: it would make every site a protected page that can ask Veil to decrypt.
 */
export function checkUserSite(adapter: unknown, address: unknown): UserSiteCheck {
  if (typeof adapter !== 'string' || !builtinAdapter(adapter)) return { ok: false, reason: 'adapter' };
  if (typeof address !== 'string' || address.length > 2048) return { ok: false, reason: 'pattern' };
  let pattern = address.trim();
  if (/^[^:/]+:\/\/[^/]+$/.test(pattern)) pattern += '/*';
  if (pattern === '<all_urls>' || /^[^:]+:\/\/\*(?::[^/]*)?\//.test(pattern)) return { ok: false, reason: 'broad' };
  if (!isValidPattern(pattern) || pattern.startsWith('file:')) return { ok: false, reason: 'pattern' };
  return { ok: true, site: { adapter, matches: [pattern] } };
}

/** The list with `site` added (once). */
export function addUserSite(list: ProtectedSite[], site: ProtectedSite): ProtectedSite[] {
  const same = (s: ProtectedSite) => s.adapter === site.adapter && s.matches.join() === site.matches.join();
  return list.some(same) ? list : [...list, site];
}

/** The list without the entry for `adapter` and `pattern`. */
export function removeUserSite(list: ProtectedSite[], adapter: string, pattern: string): ProtectedSite[] {
  return list.filter((s) => !(s.adapter === adapter && s.matches.length === 1 && s.matches[0] === pattern));
}

/** Entries read back from storage are checked again: storage.local is not a trusted source of shape. */
export function validUserSites(stored: unknown): ProtectedSite[] {
  if (!Array.isArray(stored)) return [];
  const out: ProtectedSite[] = [];
  for (const s of stored.slice(0, MAX_USER_SITES)) {
    const check = checkUserSite(s?.adapter, Array.isArray(s?.matches) ? s.matches[0] : undefined);
    if (check.ok) out.push(check.site);
  }
  return out;
}
