/** Types for build-editors.mjs. */
export declare const EDITORS: string[];
/** Bundles the fixture editor variants that are older than their sources; returns which were rebuilt. */
export declare function buildEditors(): Promise<{ editors: string[]; built: string[] }>;
