/**
 * Transport chunking: a sealed message frame too long for one chat message travels as several
 * chunk frames, each its own envelope text. Chunks carry no key material and are not encrypted
 * on their own: integrity comes from the AEAD of the reassembled message frame, so a missing,
 * altered or reordered chunk can never yield wrong plaintext. Spec: docs/wire-format.md.
 *
 *   chunk = kind(1)=0x02 | groupId(4) | index(1) | count(1) | slice of the message frame
 * Pure: no DOM, no browser APIs.
 */
import { bytesToHex, concatBytes } from '@noble/ciphers/utils.js';
import { encodeEnvelopeText, MARKER, TERMINATOR } from './codec';

export const KIND_CHUNK = 0x02;
const CHUNK_HEADER = 7;
export const MAX_CHUNKS = 255;
const XMR_BLOCK_LEN = [0, 2, 3, 5, 6, 7, 9, 10, 11];
const TEXT_FRAMING = MARKER.length + 1 + TERMINATOR.length;

/** Length in characters of the base58 body for `n` bytes. */
export function encodedLength(n: number): number {
  return Math.floor(n / 8) * 11 + XMR_BLOCK_LEN[n % 8]!;
}

export class MessageTooLongError extends Error {
  constructor(
    readonly chars: number,
    readonly limit: number,
    readonly chunksNeeded: number,
  ) {
    super(`message needs ${chunksNeeded} chat messages of at most ${limit} characters`);
  }
}

/**
 * Turns a message frame into envelope texts of at most `maxChars` characters each.
 * `allowChunks: false` (adapter forbids it) refuses instead of splitting.
 */
export function toEnvelopeTexts(
  frame: Uint8Array,
  maxChars: number,
  groupId: Uint8Array,
  allowChunks = true,
): string[] {
  const whole = encodeEnvelopeText(frame);
  if (whole.length <= maxChars) return [whole];
  let slice = 0;
  while (TEXT_FRAMING + encodedLength(CHUNK_HEADER + slice + 1) <= maxChars) slice++;
  const count = slice > 0 ? Math.ceil(frame.length / slice) : Infinity;
  if (!allowChunks || count > MAX_CHUNKS) {
    throw new MessageTooLongError(whole.length, maxChars, allowChunks ? count : 1);
  }
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const head = Uint8Array.of(KIND_CHUNK, ...groupId, i, count);
    texts.push(encodeEnvelopeText(concatBytes(head, frame.subarray(i * slice, (i + 1) * slice))));
  }
  return texts;
}

export interface ChunkInfo {
  group: string;
  index: number;
  count: number;
  slice: Uint8Array;
}

export function parseChunk(frame: Uint8Array): ChunkInfo | { error: string } {
  if (frame[0] !== KIND_CHUNK) return { error: 'not a chunk' };
  if (frame.length <= CHUNK_HEADER) return { error: 'chunk too short' };
  const index = frame[5]!;
  const count = frame[6]!;
  if (count < 2 || index >= count) return { error: `bad chunk numbering ${index}/${count}` };
  return { group: bytesToHex(frame.subarray(1, 5)), index, count, slice: frame.subarray(CHUNK_HEADER) };
}
