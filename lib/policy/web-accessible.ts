/**
 * The manifest entry that lets protected chats frame isolated mode's pages (issue #6). Used by
 * wxt.config.ts at build time. Pure.
 *
 * Only the two frame pages, and only for the origins of the built-in chats: any other site
 * cannot even load them (and so cannot use them to detect Veil). The manifest is fixed at build
 * time, so a site added only by enterprise policy (a custom adapter, other URLs) cannot host the
 * frames: there the composer never becomes ready and sending stays blocked (fail closed);
 * docs/isolated-mode.md says so.
 */
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import { SECURE_FRAME_PAGES } from '../messaging/frame-types';

/** MV3 web_accessible_resources `matches` take origins only: the path must be `/*`. */
function originPattern(matchPattern: string): string {
  return matchPattern.replace(/^([^:]+:\/\/[^/]+)\/.*$/, '$1/*');
}

export function secureFrameResources(): { resources: string[]; matches: string[] }[] {
  const matches = [...new Set(BUILTIN_ADAPTERS.flatMap((a) => a.defaultMatches).map(originPattern))];
  return [{ resources: Object.values(SECURE_FRAME_PAGES).map((p) => p.slice(1)), matches }];
}
