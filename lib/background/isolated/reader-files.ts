/**
 * The files each isolated-mode reader's decrypted message names, by the reader's token: what that
 * reader frame may open. In the background's memory only (after a worker restart a reader opens its
 * files once it is loaded again), bounded, oldest out first: a page cannot grow it.
 */
import type { FileRef } from '../../crypto/file-ref';

const MAX_READERS = 512;

/** What a reader may open: the files its one message names, and whose they are. */
export interface ReaderFileSet {
  conversationId: string;
  author: string;
  refs: FileRef[];
}

export class ReaderFiles {
  private byToken = new Map<string, ReaderFileSet>();

  note(token: string, files: ReaderFileSet): void {
    this.byToken.delete(token);
    this.byToken.set(token, files);
    if (this.byToken.size > MAX_READERS) this.byToken.delete(this.byToken.keys().next().value!);
  }

  get(token: string): ReaderFileSet | undefined {
    return this.byToken.get(token);
  }
}

export const readerFiles = new ReaderFiles();
