/**
 * Veil encrypted files v1: a sealed header, then the file's bytes as a STREAM of fixed-size
 * ChaCha20-Poly1305 chunks (the construction of age and of Hoang-Reyhanitabar-Rogaway-Vizár:
 * each chunk's nonce holds its index and a final-chunk flag). Spec: docs/wire-format.md, "Files".
 *
 *   file       = header | chunk 0 | chunk 1 | … | chunk n-1 (the last one has final = 1)
 *   header     = "VEILF1" | keyId(4) | fileId(16) | chunkLog2(1) | metaLen(2) | sealedMeta
 *   sealedMeta = XChaCha20-Poly1305(encKey, fileId | "veilfile", meta, aad = header before sealedMeta)
 *   meta       = fileKey(32) | sentAt(4) | convTag(4) | senderTag(4) | size(8) | len16 name | len16 type
 *   payloadKey = HKDF-SHA256(fileKey, salt = fileId, info = "veil/v1/file-payload" | SHA-256(header))
 *   chunk i    = ChaCha20-Poly1305(payloadKey, nonce = i as 11 bytes BE | final, slice i, aad = "")
 *
 * Why: a fresh random file key per file means no chunk of one file opens under another (splice);
 * the index in the nonce stops reordering and dropping; the final flag stops truncation at a chunk
 * boundary and appending after the end; the payload key depends on the whole header, so a header
 * cannot be put in front of another file's chunks. Each slice is exactly 2^chunkLog2 bytes except
 * the last, which has 1 to 2^chunkLog2 bytes (0 only in an empty file, whose one chunk is final).
 * Both directions work on pieces of any size and hold at most about two chunks: memory stays
 * flat whatever the file's size.
 * Pure: no DOM, no browser APIs. Seals with key bytes, so only the background (and Node tools) import it.
 */
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, utf8ToBytes } from '@noble/ciphers/utils.js';
import { contextTag, type DerivedKey, KEY_ID_LEN, type MessageContext } from './envelope';

export const FILE_MAGIC = utf8ToBytes('VEILF1');
export const FILE_ID_LEN = 16;
export const DEFAULT_CHUNK_LOG2 = 16; // 64 KiB
const MIN_CHUNK_LOG2 = 6; // small chunks only make test vectors readable
const MAX_CHUNK_LOG2 = 22;
const FIXED_LEN = FILE_MAGIC.length + KEY_ID_LEN + FILE_ID_LEN + 1 + 2;
const TAG = 16;
const META_NONCE_TAIL = utf8ToBytes('veilfile'); // message frames end their nonce in 0^8: no overlap
const PAYLOAD_INFO = utf8ToBytes('veil/v1/file-payload');
const MAX_META = 4096;
const MAX_NAME_BYTES = 1024;
const MAX_TYPE_BYTES = 255;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface FileMeta {
  name: string;
  type: string;
  /** Plaintext size in bytes. */
  size: number;
}

export interface SealFileOptions {
  sentAt: number; // ms since epoch
  fileId: Uint8Array; // 16 random bytes (the file's id); vectors pass fixed ones
  fileKey: Uint8Array; // 32 random bytes
  chunkLog2?: number;
}

export type FileErrorCode = 'malformed' | 'unknown-key' | 'tampered' | 'truncated' | 'trailing-data' | 'size-mismatch';

export class FileStreamError extends Error {
  constructor(
    readonly code: FileErrorCode,
    message: string = code,
  ) {
    super(message);
  }
}

function chunkNonce(index: number, final: boolean): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error('chunk index out of range');
  const n = new Uint8Array(12);
  const view = new DataView(n.buffer);
  view.setUint32(3, Math.floor(index / 2 ** 32)); // bytes 0..2 stay 0: 2^53 chunks is plenty
  view.setUint32(7, index >>> 0);
  n[11] = final ? 1 : 0;
  return n;
}

function payloadKey(fileKey: Uint8Array, fileId: Uint8Array, header: Uint8Array): Uint8Array {
  return hkdf(sha256, fileKey, fileId, concatBytes(PAYLOAD_INFO, sha256(header)), 32);
}

function metaNonce(fileId: Uint8Array): Uint8Array {
  return concatBytes(fileId, META_NONCE_TAIL);
}

function len16(bytes: Uint8Array, max: number): Uint8Array {
  const b = bytes.subarray(0, max);
  const out = new Uint8Array(2 + b.length);
  new DataView(out.buffer).setUint16(0, b.length);
  out.set(b, 2);
  return out;
}

/** Cuts a name to at most `max` UTF-8 bytes without splitting a character. */
function truncUtf8(s: string, max: number): Uint8Array {
  let b = utf8ToBytes(s);
  while (b.length > max) b = utf8ToBytes((s = s.slice(0, -1)));
  return b;
}

/**
 * Seals a file piece by piece: `push` and `finish` return the ciphertext to write, in order, the
 * header first. `digest()` after `finish` is SHA-256 of every byte returned (what the text envelope
 * names), `sealedSize` their count.
 */
export class FileSealer {
  readonly fileId: Uint8Array;
  readonly chunkSize: number;
  private readonly key: Uint8Array;
  private readonly hash = sha256.create();
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  private index = 0;
  private seen = 0;
  private header: Uint8Array | undefined;
  private done = false;
  sealedSize = 0;

  constructor(
    key: DerivedKey,
    readonly meta: FileMeta,
    ctx: MessageContext,
    opts: SealFileOptions,
  ) {
    if (opts.fileId.length !== FILE_ID_LEN || opts.fileKey.length !== 32) throw new Error('bad file id or key');
    if (!Number.isSafeInteger(meta.size) || meta.size < 0) throw new Error('bad file size');
    const log2 = opts.chunkLog2 ?? DEFAULT_CHUNK_LOG2;
    if (log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2) throw new Error('bad chunk size');
    this.fileId = opts.fileId;
    this.chunkSize = 2 ** log2;
    const sizeBytes = new Uint8Array(8);
    new DataView(sizeBytes.buffer).setBigUint64(0, BigInt(meta.size));
    const when = new Uint8Array(4);
    new DataView(when.buffer).setUint32(0, Math.floor(opts.sentAt / 1000));
    const inner = concatBytes(
      opts.fileKey,
      when,
      contextTag(key, 'c', ctx.conversationId),
      contextTag(key, 's', ctx.senderId),
      sizeBytes,
      len16(truncUtf8(meta.name, MAX_NAME_BYTES), MAX_NAME_BYTES),
      len16(truncUtf8(meta.type, MAX_TYPE_BYTES), MAX_TYPE_BYTES),
    );
    const fixed = new Uint8Array(FIXED_LEN);
    fixed.set(FILE_MAGIC);
    fixed.set(key.id, FILE_MAGIC.length);
    fixed.set(opts.fileId, FILE_MAGIC.length + KEY_ID_LEN);
    fixed[FIXED_LEN - 3] = log2;
    new DataView(fixed.buffer).setUint16(FIXED_LEN - 2, inner.length + TAG);
    const sealed = xchacha20poly1305(key.enc, metaNonce(opts.fileId), fixed).encrypt(inner);
    this.header = concatBytes(fixed, sealed);
    this.key = payloadKey(opts.fileKey, opts.fileId, this.header);
  }

  push(plain: Uint8Array): Uint8Array[] {
    if (this.done) throw new Error('sealer already finished');
    this.seen += plain.length;
    if (this.seen > this.meta.size) throw new FileStreamError('size-mismatch', 'file grew while reading');
    const out = this.takeHeader();
    this.pending.push(plain.slice());
    this.pendingLen += plain.length;
    // A full chunk is sealed only once a byte after it exists: the last chunk must carry final = 1.
    while (this.pendingLen > this.chunkSize) out.push(this.seal(this.take(this.chunkSize), false));
    return out;
  }

  finish(): Uint8Array[] {
    if (this.done) throw new Error('sealer already finished');
    if (this.seen !== this.meta.size) throw new FileStreamError('size-mismatch', 'file changed while reading');
    const out = this.takeHeader();
    out.push(this.seal(this.take(this.pendingLen), true));
    this.done = true;
    return out;
  }

  digest(): Uint8Array {
    if (!this.done) throw new Error('digest before finish');
    return this.hash.clone().digest();
  }

  private takeHeader(): Uint8Array[] {
    const h = this.header;
    if (!h) return [];
    this.header = undefined;
    return [this.emit(h)];
  }

  private take(n: number): Uint8Array {
    const all = this.pending.length === 1 ? this.pending[0]! : concatBytes(...this.pending);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingLen = rest.length;
    return head;
  }

  private seal(slice: Uint8Array, final: boolean): Uint8Array {
    const ct = chacha20poly1305(this.key, chunkNonce(this.index++, final)).encrypt(slice);
    return this.emit(ct);
  }

  private emit(bytes: Uint8Array): Uint8Array {
    this.hash.update(bytes);
    this.sealedSize += bytes.length;
    return bytes;
  }
}

/** One call for small files and tests: the whole sealed file and its digest. */
export function sealFile(
  key: DerivedKey,
  plain: Uint8Array,
  meta: Omit<FileMeta, 'size'>,
  ctx: MessageContext,
  opts: SealFileOptions,
): { sealed: Uint8Array; digest: Uint8Array } {
  const s = new FileSealer(key, { ...meta, size: plain.length }, ctx, opts);
  const sealed = concatBytes(...s.push(plain), ...s.finish());
  return { sealed, digest: s.digest() };
}

/** What the header says before any key is involved. */
export function peekFileHeader(bytes: Uint8Array): { keyId: Uint8Array; fileId: Uint8Array } | undefined {
  if (bytes.length < FIXED_LEN || !equalBytes(bytes.subarray(0, FILE_MAGIC.length), FILE_MAGIC)) return undefined;
  const at = FILE_MAGIC.length;
  return { keyId: bytes.subarray(at, at + KEY_ID_LEN), fileId: bytes.subarray(at + KEY_ID_LEN, at + KEY_ID_LEN + 16) };
}

export interface OpenedFileHeader extends FileMeta {
  keyId: Uint8Array;
  fileId: Uint8Array;
  sentAt: number;
  movedFromOtherConversation: boolean;
  senderMismatch: boolean;
}

/**
 * Opens a sealed file piece by piece. `push` returns plaintext pieces as soon as a chunk is known
 * not to be the last; `finish` returns the rest and throws unless the stream ended exactly at a
 * final chunk and the size matches. Any error means: discard everything returned so far.
 * `header` is set once the header has been read and opened.
 */
export class FileOpener {
  header: OpenedFileHeader | undefined;
  private buf: Uint8Array = new Uint8Array(0);
  private key: Uint8Array | undefined;
  private chunkSize = 0;
  private index = 0;
  private produced = 0;
  private readonly hash = sha256.create();
  private failed: FileStreamError | undefined;

  constructor(
    private readonly keyFor: (keyId: Uint8Array) => DerivedKey | undefined,
    private readonly ctx: MessageContext,
  ) {}

  push(bytes: Uint8Array): Uint8Array[] {
    this.check();
    this.hash.update(bytes);
    this.buf = this.buf.length ? concatBytes(this.buf, bytes) : bytes.slice();
    const out: Uint8Array[] = [];
    if (!this.key && !this.readHeader()) return out;
    const sealedChunk = this.chunkSize + TAG;
    // Keep the last full chunk back: only the end of the stream tells whether it is the final one.
    let at = 0;
    while (this.buf.length - at > sealedChunk) {
      out.push(this.open(this.buf.subarray(at, at + sealedChunk), false));
      at += sealedChunk;
    }
    if (at) this.buf = this.buf.slice(at);
    return out;
  }

  finish(): Uint8Array[] {
    this.check();
    if (!this.key) this.fail('truncated', 'file ends inside its header');
    const last = this.buf;
    if (last.length < TAG) this.fail('truncated', 'file ends inside a chunk');
    let plain: Uint8Array;
    try {
      plain = chacha20poly1305(this.key!, chunkNonce(this.index, true)).decrypt(last);
    } catch {
      // Authentic as a middle chunk: the file was cut right after it. Otherwise: altered.
      const asMiddle = last.length === this.chunkSize + TAG && this.opensAsMiddle(last);
      this.fail(asMiddle ? 'truncated' : 'tampered', asMiddle ? 'file was cut short' : 'last chunk altered');
    }
    if (plain!.length === 0 && this.index > 0) this.fail('malformed', 'empty final chunk');
    this.produced += plain!.length;
    if (this.produced !== this.header!.size) this.fail('size-mismatch', 'size differs from the header');
    this.buf = new Uint8Array(0);
    return [plain!];
  }

  /** SHA-256 of every byte pushed (compare with the digest the text envelope names). */
  digest(): Uint8Array {
    return this.hash.clone().digest();
  }

  private check(): void {
    if (this.failed) throw this.failed;
  }

  private fail(code: FileErrorCode, message: string): never {
    this.failed = new FileStreamError(code, message);
    throw this.failed;
  }

  private opensAsMiddle(ct: Uint8Array): boolean {
    try {
      chacha20poly1305(this.key!, chunkNonce(this.index, false)).decrypt(ct);
      return true;
    } catch {
      return false;
    }
  }

  private open(ct: Uint8Array, final: boolean): Uint8Array {
    let plain: Uint8Array;
    try {
      plain = chacha20poly1305(this.key!, chunkNonce(this.index, final)).decrypt(ct);
    } catch {
      // A final chunk with more bytes after it: something was appended after the end.
      let finalHere = false;
      try {
        chacha20poly1305(this.key!, chunkNonce(this.index, true)).decrypt(ct);
        finalHere = true;
      } catch {
        /* altered, reordered or from another file */
      }
      this.fail(
        finalHere ? 'trailing-data' : 'tampered',
        finalHere ? 'data after the end' : `chunk ${this.index} altered`,
      );
    }
    this.index++;
    this.produced += plain.length;
    if (this.produced > this.header!.size) this.fail('size-mismatch', 'more data than the header says');
    return plain;
  }

  /** Reads and opens the header once enough bytes arrived; false while more are needed. */
  private readHeader(): boolean {
    const b = this.buf;
    if (b.length >= FILE_MAGIC.length && !equalBytes(b.subarray(0, FILE_MAGIC.length), FILE_MAGIC))
      this.fail('malformed', 'not a Veil file');
    if (b.length < FIXED_LEN) return false;
    const log2 = b[FIXED_LEN - 3]!;
    const metaLen = new DataView(b.buffer, b.byteOffset).getUint16(FIXED_LEN - 2);
    if (log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2 || metaLen > MAX_META || metaLen < TAG + 56)
      this.fail('malformed', 'bad file header');
    if (b.length < FIXED_LEN + metaLen) return false;
    const { keyId, fileId } = peekFileHeader(b)!;
    const key = this.keyFor(keyId);
    if (!key) this.fail('unknown-key', 'no key for this file');
    const header = b.slice(0, FIXED_LEN + metaLen);
    let inner: Uint8Array;
    try {
      inner = xchacha20poly1305(key.enc, metaNonce(fileId), header.subarray(0, FIXED_LEN)).decrypt(
        header.subarray(FIXED_LEN),
      );
    } catch {
      this.fail('tampered', 'file header altered');
    }
    const view = new DataView(inner.buffer, inner.byteOffset, inner.length);
    const size = Number(view.getBigUint64(44));
    let at = 52;
    const field = (): string => {
      if (at + 2 > inner.length) this.fail('malformed', 'bad file header');
      const n = view.getUint16(at);
      if (at + 2 + n > inner.length) this.fail('malformed', 'bad file header');
      const s = inner.subarray(at + 2, at + 2 + n);
      at += 2 + n;
      try {
        return utf8.decode(s);
      } catch {
        return this.fail('malformed', 'bad file name');
      }
    };
    const name = field();
    const type = field();
    if (at !== inner.length || !Number.isSafeInteger(size)) this.fail('malformed', 'bad file header');
    this.header = {
      keyId: keyId.slice(),
      fileId: fileId.slice(),
      name,
      type,
      size,
      sentAt: view.getUint32(32) * 1000,
      movedFromOtherConversation: !equalBytes(inner.subarray(36, 40), contextTag(key, 'c', this.ctx.conversationId)),
      senderMismatch: !equalBytes(inner.subarray(40, 44), contextTag(key, 's', this.ctx.senderId)),
    };
    this.key = payloadKey(inner.subarray(0, 32), fileId, header);
    this.chunkSize = 2 ** log2;
    this.buf = b.slice(header.length);
    return true;
  }
}

/** One call for small files and tests: the header and the whole plaintext, or a FileStreamError. */
export function openFile(
  keyFor: (keyId: Uint8Array) => DerivedKey | undefined,
  sealed: Uint8Array,
  ctx: MessageContext,
): { header: OpenedFileHeader; plain: Uint8Array; digest: Uint8Array } {
  const o = new FileOpener(keyFor, ctx);
  const plain = concatBytes(...o.push(sealed), ...o.finish());
  return { header: o.header!, plain, digest: o.digest() };
}
