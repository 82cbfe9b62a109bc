/**
 * Shared pieces of the background's request handlers. Each file in this folder handles one
 * family of protocol messages; index.ts joins them into the one table the router uses.
 */
import type { MessageType, Req, Res, VeilError } from '../../messaging/protocol';
import type { ProtectedSite } from '../../policy/policy';
import type { FrameRef } from '../isolated/capabilities';
import type { Keyring } from '../keyring';

export interface RequestContext {
  keyring: Keyring;
  /** The protected site the calling content script (or secure frame) runs on. */
  site?: ProtectedSite;
  /** The calling tab and frame (content scripts and secure frames; isolated mode binds capabilities to it). */
  frame?: FrameRef;
}

export type Handler<K extends MessageType> = (req: Req<K>, ctx: RequestContext) => Promise<Res<K>>;
export type Handlers<K extends MessageType> = { [P in K]: Handler<P> };

export const MAX_TEXT_CHARS = 1_000_000;

export class RequestError extends Error {}

export const fail = (code: VeilError['code'], message: string) => ({ ok: false as const, error: { code, message } });

export function checkString(v: unknown, name: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new RequestError(`${name} is missing or too long`);
  return v;
}
