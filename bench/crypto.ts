/**
 * Crypto benchmark, in the extension's background: bench/crypto-sw.ts is bundled with esbuild and
 * evaluated in the service worker over CDP (the extension itself ships no such code), then Veil's
 * envelope functions, the background's real decrypt handler and OpenPGP.js run there, side by side.
 */
import { build } from 'esbuild';
import type { WebWorker } from 'puppeteer';
import { bytesToHex } from '@noble/ciphers/utils.js';
import type { KeyRecord } from '../lib/keys/model';
import type { Op } from './crypto-sw';

export const CRYPTO_SIZES = [64, 1024, 65536];
export const CRYPTO_OPS: Op[] = [
  'veil-encrypt',
  'veil-decrypt',
  'veil-decrypt-path',
  'pgp-sym-encrypt',
  'pgp-sym-decrypt',
  'pgp-pk-encrypt',
  'pgp-pk-decrypt',
];

export async function bundleForWorker(): Promise<string> {
  const out = await build({
    entryPoints: ['bench/crypto-sw.ts'],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export async function loadIntoWorker(worker: WebWorker, code: string, key: KeyRecord): Promise<void> {
  await worker.evaluate(code);
  await worker.evaluate(
    (id, secret) => (globalThis as any).__veilBench.setup(id, secret),
    key.id,
    bytesToHex(key.secret),
  );
}

/** ops/s of one operation on one size, measured for at least `minMs`. */
export async function measureOp(worker: WebWorker, op: Op, bytes: number, minMs: number): Promise<number> {
  return worker.evaluate(
    (o, b, ms) => (globalThis as any).__veilBench.run(o, b, ms),
    op,
    bytes,
    minMs,
  ) as Promise<number>;
}
