/**
 * Veil's development identities in the browsers: what builds from this repository carry, and what
 * the admin CLI names when an admin gives no real id. Pure constants, shared by wxt.config.ts, the
 * admin CLI and tests.
 *
 * A deployed Veil usually has other ids (docs/deploy.md): a self-hosted CRX gets the id of the key
 * that signs it (Chrome replaces the manifest `key` with the package's), the Chrome Web Store and
 * Edge Add-ons each assign their own, and a Firefox build may be signed under another add-on id.
 * Policy must name the id browsers actually install: `npm run admin -- policy --chrome-id ...`.
 */

/**
 * Public half of the key that fixes the development Chrome extension id of unpacked and test
 * builds. Its private half was discarded on purpose: nobody can sign a CRX under this id, so a
 * deployment always uses a key (or store id) the enterprise controls. test/unit/admin.test.ts
 * checks that CHROME_EXTENSION_ID derives from it.
 */
export const CHROME_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlXzjzUN+FV6zHOX9r8xaSLwzkwY4nOpxdaqOvgXZ34p+6EpBbDvblDIZlLVRU69LLB/Q7BD84biN3ZwOdNC06RYXlp5ZFMlO0u7xUYA5NWA3H4C7u/FnNxIIDySUoeb672HALJ2YEEk6AS8rn7O2kEWxCGA6zISu219Iio5gukkvAMkNuAqCOi8zw7unWvEZ1Cri5ICbZXxttlDurxUBi/Vsxyw1CdZCfn5LQEZq2L7Rr+AG5vboyMj1jAb/gdCWFs8Ec/gYI02Up2SVqDGiGOsWXJ4+o5VOJbLhvxbRIXgvaREZNlOlf01PlPBSjPg6dbUzDZ5jxLNHSku+NAvTKwIDAQAB';

/** Development Chrome/Chromium/Edge extension id (derived from CHROME_PUBLIC_KEY). */
export const CHROME_EXTENSION_ID = 'fcjbldehbajbacgobpolccjedandhgne';

/** Development Firefox add-on id (browser_specific_settings.gecko.id of builds from this repository). */
export const GECKO_ID = 'veil@veil.example';

/** A Chrome extension id: 32 letters a-p (the first 128 bits of the SHA-256 of the public key). */
export const CHROME_ID_PATTERN = /^[a-p]{32}$/;

/** A Firefox add-on id: email-like, or a GUID in braces (what addons.mozilla.org accepts). */
export const GECKO_ID_PATTERN =
  /^(?:[a-zA-Z0-9-._]*@[a-zA-Z0-9-._]+|\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\})$/;

/** The Chrome extension id for a public key (SubjectPublicKeyInfo, DER): what Chrome derives. */
export function chromeIdFromSha256(sha256Hex: string): string {
  return [...sha256Hex.slice(0, 32)].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}
