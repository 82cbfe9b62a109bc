/**
 * The text a message envelope carries for an encrypted attachment: which `.veil` file the chat
 * stores (its id and the SHA-256 of its sealed bytes) and what it holds (name, type, size). It is
 * sealed like any message text, so only key holders read it and nobody can change it; the digest
 * ties the message to exactly one sealed file, so a file swapped on the server is refused.
 * Spec: docs/wire-format.md, "Files". Pure and key-free: the content script parses it too.
 */
export const FILE_REF_PREFIX = 'veil-file/1 ';

export interface FileRef {
  /** The sealed file's id (hex of its 16-byte fileId). */
  id: string;
  /** SHA-256 (hex) of the whole sealed file as uploaded. */
  sha256: string;
  /** Byte length of the sealed file. */
  sealedSize: number;
  name: string;
  type: string;
  /** Byte length of the plaintext. */
  size: number;
}

export function encodeFileRef(ref: FileRef): string {
  const { id, sha256, sealedSize, name, type, size } = ref;
  return FILE_REF_PREFIX + JSON.stringify({ id, sha256, sealedSize, name, type, size });
}

const HEX = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The reference in a decrypted message text, or undefined when the text is an ordinary message. */
export function parseFileRef(text: string): FileRef | undefined {
  if (!text.startsWith(FILE_REF_PREFIX)) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text.slice(FILE_REF_PREFIX.length));
  } catch {
    return undefined;
  }
  if (
    !v ||
    typeof v !== 'object' ||
    typeof v.id !== 'string' ||
    !HEX(32).test(v.id) ||
    typeof v.sha256 !== 'string' ||
    !HEX(64).test(v.sha256) ||
    !isSize(v.sealedSize) ||
    !isSize(v.size) ||
    typeof v.name !== 'string' ||
    v.name.length > 1024 ||
    typeof v.type !== 'string' ||
    v.type.length > 255
  )
    return undefined;
  return { id: v.id, sha256: v.sha256, sealedSize: v.sealedSize, name: v.name, type: v.type, size: v.size };
}

/**
 * The text sealed for a message with attachments: one reference per line, then the user's own
 * text (possibly empty). A message without references is its text unchanged.
 */
export function withFileRefs(text: string, refs: FileRef[]): string {
  if (!refs.length) return text;
  return [...refs.map(encodeFileRef), text].join('\n');
}

export function splitFileRefs(text: string): { refs: FileRef[]; text: string } {
  const refs: FileRef[] = [];
  let rest = text;
  while (rest.startsWith(FILE_REF_PREFIX)) {
    const end = rest.indexOf('\n');
    const ref = parseFileRef(end < 0 ? rest : rest.slice(0, end));
    if (!ref) break;
    refs.push(ref);
    rest = end < 0 ? '' : rest.slice(end + 1);
  }
  return refs.length ? { refs, text: rest } : { refs, text };
}
