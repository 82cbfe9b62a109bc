import { defineConfig } from 'wxt';

/**
 * Public half of the key that fixes Veil's Chrome extension id (fcjbldehbajbacgobpolccjedandhgne),
 * so enterprise policy can name it. The private half was discarded: store uploads sign separately.
 */
const CHROME_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlXzjzUN+FV6zHOX9r8xaSLwzkwY4nOpxdaqOvgXZ34p+6EpBbDvblDIZlLVRU69LLB/Q7BD84biN3ZwOdNC06RYXlp5ZFMlO0u7xUYA5NWA3H4C7u/FnNxIIDySUoeb672HALJ2YEEk6AS8rn7O2kEWxCGA6zISu219Iio5gukkvAMkNuAqCOi8zw7unWvEZ1Cri5ICbZXxttlDurxUBi/Vsxyw1CdZCfn5LQEZq2L7Rr+AG5vboyMj1jAb/gdCWFs8Ec/gYI02Up2SVqDGiGOsWXJ4+o5VOJbLhvxbRIXgvaREZNlOlf01PlPBSjPg6dbUzDZ5jxLNHSku+NAvTKwIDAQAB';

export const GECKO_ID = 'veil@veil.example';

export default defineConfig({
  srcDir: '.',
  entrypointsDir: 'entrypoints',
  // Parallel work trees (several builds at once) set VEIL_OUT_DIR; tests read the same variable.
  outDir: process.env.VEIL_OUT_DIR ?? '.output',
  modules: [],
  manifest: ({ browser }) => ({
    name: 'Veil',
    description: 'End-to-end encryption for the web chats your company already uses.',
    permissions: ['storage', 'scripting', 'unlimitedStorage'],
    host_permissions: ['<all_urls>'],
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: { id: GECKO_ID, strict_min_version: '128.0', data_collection_permissions: { required: ['none'] } },
          },
        }
      : { key: CHROME_PUBLIC_KEY }),
  }),
});
