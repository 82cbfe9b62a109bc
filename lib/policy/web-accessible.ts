/**
 * The manifest entry that lets protected chats frame isolated mode's pages. Used by wxt.config.ts
 * at build time. Pure.
 *
 * Which chats are protected is decided at run time (enterprise policy, the user's own list), so
 * the frames must be loadable from any origin: a manifest fixed at build time cannot know the
 * enterprise's chat host. What keeps this safe:
 * - Chrome (MV3) exposes them only through a per-session dynamic URL (`use_dynamic_url`), so a
 *   page cannot probe a fixed chrome-extension://<id>/ address to learn that Veil is installed;
 * - Firefox gives every install its own random moz-extension:// host already;
 * - a frame does nothing until it redeems a one-time capability token that the background issued
 *   to the content script of a protected tab (lib/background/isolated/capabilities.ts), so a page
 *   that frames it anywhere else gets an inert page.
 */
import { SECURE_FRAME_PAGES } from '../messaging/frame-types';

type ChromeResources = { resources: string[]; matches: string[]; use_dynamic_url: true }[];

export function secureFrameResources(browser: 'chrome' | 'firefox' = 'chrome'): ChromeResources | string[] {
  const resources = Object.values(SECURE_FRAME_PAGES).map((p) => p.slice(1));
  // Firefox builds are MV2, whose web_accessible_resources is a plain list.
  if (browser === 'firefox') return resources;
  return [{ resources, matches: ['<all_urls>'], use_dynamic_url: true }];
}
