#!/usr/bin/env node
// Installs what `npm test` and `npm run demo` need on a fresh machine: npm packages and the
// Debian browsers. Idempotent and quick when everything is present. Node built-ins only.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd) => execSync(cmd, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
const wantFirefox = process.argv.includes('--firefox');

if (!existsSync('node_modules/.bin/wxt') || !existsSync('node_modules/puppeteer')) {
  console.log('setup: installing npm packages (npm ci)…');
  run(existsSync('package-lock.json') ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund');
}

const missing = [];
if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
if (wantFirefox && !existsSync('/usr/bin/firefox-esr')) missing.push('firefox-esr');
if (missing.length) {
  if (process.getuid?.() !== 0) {
    console.error(`setup: please install ${missing.join(' ')} (sudo apt-get install ${missing.join(' ')})`);
    process.exit(1);
  }
  console.log(`setup: installing ${missing.join(', ')} from Debian…`);
  run('apt-get update -qq');
  run(`apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`);
}
