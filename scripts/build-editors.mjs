#!/usr/bin/env node
// @ts-check
/**
 * Bundles each fixture editor variant (fixtures/editors/<name>/index.ts[x]: a real editor library
 * from npm inside the fixture chat) with esbuild into fixtures/chat/public/editors/build/<name>.js,
 * served by the fixture chat at /editors/index.html?editor=<name>. Tests call buildEditors() once
 * per run; a bundle newer than its sources and package-lock.json is kept (about 1 s saved each).
 *
 *   node scripts/build-editors.mjs
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'fixtures', 'editors');
const OUT = path.join(ROOT, 'fixtures', 'chat', 'public', 'editors', 'build');

/** @param {string} dir @returns {number} newest mtime under dir */
function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

export const EDITORS = fs
  .readdirSync(SRC)
  .filter((n) => n !== 'common' && fs.statSync(path.join(SRC, n)).isDirectory());

export async function buildEditors() {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, '.gitignore'), '*\n'); // build output, never committed
  const shared = Math.max(
    newest(path.join(SRC, 'common')),
    fs.statSync(path.join(ROOT, 'package-lock.json')).mtimeMs,
    fs.statSync(fileURLToPath(import.meta.url)).mtimeMs,
  );
  /** @type {string[]} */
  const built = [];
  await Promise.all(
    EDITORS.map(async (name) => {
      const outfile = path.join(OUT, `${name}.js`);
      const entry = ['index.ts', 'index.tsx'].map((f) => path.join(SRC, name, f)).find((f) => fs.existsSync(f));
      if (!entry) throw new Error(`fixtures/editors/${name} has no index.ts(x)`);
      const srcTime = Math.max(shared, newest(path.join(SRC, name)));
      if (fs.existsSync(outfile) && fs.statSync(outfile).mtimeMs > srcTime) return;
      await build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        format: 'iife',
        target: 'chrome120',
        logLevel: 'warning',
        // Draft.js (through fbjs) still refers to Node's `global`.
        define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
        jsx: 'automatic',
        legalComments: 'none',
      });
      built.push(name);
    }),
  );
  return { editors: EDITORS, built };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await buildEditors();
  console.log(`editors: ${r.editors.join(', ')}; rebuilt: ${r.built.join(', ') || 'none'}`);
}
