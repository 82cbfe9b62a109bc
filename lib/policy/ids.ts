/**
 * Veil's identities in the browsers: what enterprise policy names to install and configure it.
 * Pure constants, shared by wxt.config.ts, the admin CLI and tests.
 */

/**
 * Public half of the key that fixes Veil's Chrome extension id, so enterprise policy can name it.
 * The private half was discarded: store uploads sign separately. test/unit/policy-deploy.test.ts
 * checks that CHROME_EXTENSION_ID derives from it.
 */
export const CHROME_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlXzjzUN+FV6zHOX9r8xaSLwzkwY4nOpxdaqOvgXZ34p+6EpBbDvblDIZlLVRU69LLB/Q7BD84biN3ZwOdNC06RYXlp5ZFMlO0u7xUYA5NWA3H4C7u/FnNxIIDySUoeb672HALJ2YEEk6AS8rn7O2kEWxCGA6zISu219Iio5gukkvAMkNuAqCOi8zw7unWvEZ1Cri5ICbZXxttlDurxUBi/Vsxyw1CdZCfn5LQEZq2L7Rr+AG5vboyMj1jAb/gdCWFs8Ec/gYI02Up2SVqDGiGOsWXJ4+o5VOJbLhvxbRIXgvaREZNlOlf01PlPBSjPg6dbUzDZ5jxLNHSku+NAvTKwIDAQAB';

/** Chrome/Chromium/Edge extension id (from CHROME_PUBLIC_KEY). */
export const CHROME_EXTENSION_ID = 'fcjbldehbajbacgobpolccjedandhgne';

/** Firefox add-on id (browser_specific_settings.gecko.id). */
export const GECKO_ID = 'veil@veil.example';
