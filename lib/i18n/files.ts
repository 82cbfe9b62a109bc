/**
 * How a file a message names is shown, the same in the page (inline mode) and in a secure reader
 * frame (isolated mode): its label, which types get a decrypted preview, and how a decrypted file
 * is saved.
 */
import type { FileRef } from '../crypto/file-ref';
import { t } from './';

/** Image types shown as a decrypted preview (never SVG: it can carry script and links). */
export const PREVIEW_TYPES = /^image\/(png|jpeg|gif|webp)$/;

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** "🔒 contract.pdf (1.2 MB, application/pdf)". */
export function fileLabel(ref: Pick<FileRef, 'name' | 'size' | 'type'>): string {
  return t('fileSummary', ref.name, [formatSize(ref.size), ref.type].filter(Boolean).join(', '));
}

/** Saves a decrypted file through a link that is never in the document (a page listener could swap its target). */
export function saveBlob(doc: Document, blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
