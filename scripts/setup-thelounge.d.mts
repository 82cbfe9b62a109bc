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
export interface LoungeStackOptions {
  channel?: string;
  /** Accounts (The Lounge's private mode): name -> password and the channels its network joins. */
  users?: Record<string, { password: string; channels: string[] }>;
  /** An IRC operator account (this name and password) that may lift ngircd's flood limit (+F). */
  operator?: string;
}
export declare function startLoungeStack(opts?: LoungeStackOptions): Promise<LoungeStack>;
