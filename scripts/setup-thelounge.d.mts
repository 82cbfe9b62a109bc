/** Types for setup-thelounge.mjs. */
export declare const LOUNGE_VERSION: string;
export declare const LOUNGE_DIR: string;
export interface LoungePaths {
  dir: string;
  node: string;
  cli: string;
}
export declare function loungePaths(dir?: string): LoungePaths;
export declare function setupTheLounge(dir?: string): LoungePaths;
export declare function freePort(): Promise<number>;
export interface LoungeStack {
  url: string;
  ircPort: number;
  webPort: number;
  channel: string;
  logs: { irc: string; lounge: string };
  stop(): Promise<void>;
}
export declare function startLoungeStack(opts?: { channel?: string }): Promise<LoungeStack>;
