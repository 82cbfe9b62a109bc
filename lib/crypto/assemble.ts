/**
 * From the envelope texts of one chat message (or of every part of a chunked one) to the single
 * message frame they carry. Shared by the background (messages on a page) and the admin's archive
 * tool (messages in a vendor export), so both judge the same texts the same way.
 * Pure: no DOM, no browser APIs, no keys.
 */
import { concatBytes } from '@noble/ciphers/utils.js';
import { findEnvelopes } from './codec';
import { KIND_CHUNK, parseChunk } from './chunks';

/** The message frame kind (lib/crypto/envelope.ts), repeated so this file needs no sealing code. */
const KIND_MESSAGE = 0x01;

export type FrameOrError = { frame: Uint8Array } | { reason: string };

/** One envelope text, or a complete set of chunk texts, to one message frame. */
export function assembleFrame(texts: string[]): FrameOrError {
  const frames: Uint8Array[] = [];
  for (const t of texts) {
    const found = findEnvelopes(t);
    if (found.length !== 1) return { reason: 'not exactly one envelope' };
    const f = found[0]!;
    if (f.kind === 'malformed') return { reason: f.reason };
    frames.push(f.frame);
  }
  if (frames.length === 1 && frames[0]![0] === KIND_MESSAGE) return { frame: frames[0]! };
  const chunks = [];
  for (const f of frames) {
    if (f[0] !== KIND_CHUNK)
      return { reason: f[0] === KIND_MESSAGE ? 'message mixed with chunks' : 'unknown frame kind' };
    const c = parseChunk(f);
    if ('error' in c) return { reason: c.error };
    chunks.push(c);
  }
  const { group, count } = chunks[0]!;
  const slices: Uint8Array[] = new Array(count);
  for (const c of chunks) {
    if (c.group !== group || c.count !== count) return { reason: 'chunks of different messages' };
    slices[c.index] = c.slice;
  }
  if (chunks.length !== count || slices.includes(undefined as never)) {
    return { reason: `incomplete: ${chunks.length} of ${count} parts` };
  }
  return { frame: concatBytes(...slices) };
}
