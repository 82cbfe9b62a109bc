import type { Plugin } from 'vite';
import { defineConfig } from 'wxt';

import { CHROME_PUBLIC_KEY, GECKO_ID } from './lib/policy/ids';
import { chromeManagedSchema } from './lib/policy/schema';
import { secureFrameResources } from './lib/policy/web-accessible';

export { GECKO_ID };

/** Chrome publishes managed storage only to an extension that declares its policy schema. */
const MANAGED_SCHEMA_FILE = 'managed_schema.json';

/**
 * WXT adds a module script to every HTML page to start its runtime plugins; Veil uses none. The
 * reader page is loaded a screenful at a time, so it keeps its single classic script only.
 */
function readerPageWithoutModules(): Plugin {
  return {
    name: 'veil:reader-page-without-modules',
    enforce: 'post', // after WXT's own 'pre' hook has added the script
    transformIndexHtml: {
      order: 'pre',
      handler: (html, ctx) =>
        ctx.path.endsWith('/secure-reader.html')
          ? html.replace(/<script[^>]*src="virtual:wxt-html-plugins"[^>]*><\/script>/, '')
          : html,
    },
  };
}

export default defineConfig({
  srcDir: '.',
  entrypointsDir: 'entrypoints',
  // Parallel work trees (several builds at once) set VEIL_OUT_DIR; tests read the same variable.
  outDir: process.env.VEIL_OUT_DIR ?? '.output',
  modules: [],
  vite: () => ({ plugins: [readerPageWithoutModules()] }),
  hooks: {
    // Generated from lib/policy/schema.ts so the schema Chrome enforces can never drift from Veil's.
    'build:publicAssets': (wxt, files) => {
      if (wxt.config.browser !== 'firefox') {
        files.push({
          relativeDest: MANAGED_SCHEMA_FILE,
          contents: `${JSON.stringify(chromeManagedSchema(), null, 2)}\n`,
        });
      }
    },
  },
  manifest: ({ browser }) => ({
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    default_locale: 'en',
    // identity: sign-in at the enterprise identity provider for the key service (launchWebAuthFlow).
    permissions: ['storage', 'scripting', 'unlimitedStorage', 'alarms', 'identity'],
    host_permissions: ['<all_urls>'],
    // Isolated mode's secure frames: framable on any protected chat (lib/policy/web-accessible.ts).
    web_accessible_resources: secureFrameResources(browser === 'firefox' ? 'firefox' : 'chrome'),
    ...(browser === 'firefox'
      ? {
          browser_specific_settings: {
            gecko: { id: GECKO_ID, strict_min_version: '128.0', data_collection_permissions: { required: ['none'] } },
          },
        }
      : { key: CHROME_PUBLIC_KEY, storage: { managed_schema: MANAGED_SCHEMA_FILE } }),
  }),
});
