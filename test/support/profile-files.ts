/**
 * Reads what a browser profile keeps on disk for Veil, to prove what is not there (plaintext, raw
 * keys). Chromium keeps an extension's IndexedDB under `Default/IndexedDB/chrome-extension_<id>_*`;
 * Firefox under `storage/default/moz-extension+++<uuid>*` /idb (SQLite with a write-ahead log).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';

export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every IndexedDB file of the extension `extensionId` (Chromium id or Firefox internal uuid). */
export function extensionIndexedDbFiles(profileDir: string, extensionId: string): string[] {
  const chromium = filesUnder(join(profileDir, 'Default', 'IndexedDB')).filter((f) =>
    f.includes(`chrome-extension_${extensionId}`),
  );
  const firefox = filesUnder(join(profileDir, 'storage', 'default')).filter(
    (f) => f.includes(`moz-extension+++${extensionId}`) && f.includes('/idb/'),
  );
  return [...chromium, ...firefox];
}

/** Those files' bytes read as UTF-8, UTF-16 and Latin-1 (how a string may sit in a record). */
export function extensionIndexedDbText(profileDir: string, extensionId: string): { files: number; text: string } {
  const files = extensionIndexedDbFiles(profileDir, extensionId);
  const text = files
    .map((f) => {
      const b = readFileSync(f);
      return b.toString('utf8') + b.toString('utf16le') + b.toString('latin1');
    })
    .join('\n');
  return { files: files.length, text };
}

/**
 * The scan's positive control: writes `word` in the clear into an IndexedDB database of the page's
 * origin (one of Veil's own pages), so a scan that cannot see stored text fails instead of passing.
 */
export async function writeIndexedDbProbe(page: Page, word: string): Promise<void> {
  await page.evaluate(
    (w) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('scan-probe', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('s');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction('s', 'readwrite');
          tx.objectStore('s').put(w, 1);
          tx.oncomplete = () => resolve();
        };
      }),
    word,
  );
}
