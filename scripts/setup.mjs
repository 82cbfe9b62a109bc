#!/usr/bin/env node
// @ts-check
// Installs what `npm test`, `npm run demo` and `npm run bench` need on a fresh Debian machine:
// npm packages and every Debian package any test uses (browsers, the IRC server behind the real
// chat, the fonts that CJK and emoji round trips are rendered with). Idempotent and quick when
// everything is present. Node built-ins only, because it runs before `npm ci`.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Every Debian package a test, the demo or the bench uses. */
const DEBIAN = [
  'chromium',
  'firefox-esr',
  'ngircd',
  'fonts-noto-cjk',
  'fonts-noto-color-emoji',
  // The key service's HSM (SoftHSM2 behind PKCS#11) and its several-instance database.
  'softhsm2',
  'postgresql',
  // A virtual X display: Firefox pastes images only with a real window system (attachment tests),
  // and a drag of files onto it comes from another window (a GTK drag source) moved by xdotool.
  'xvfb',
  'xdotool',
  'python3-gi',
  'gir1.2-gtk-3.0',
];

/** @param {string} pkg */
function installed(pkg) {
  try {
    return execSync(`dpkg-query -W -f='\${Status}' ${pkg}`, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .includes('install ok installed');
  } catch {
    return false;
  }
}

/** @param {string} cmd */
const run = (cmd) => execSync(cmd, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });

if (!existsSync('node_modules/.bin/wxt') || !existsSync('node_modules/puppeteer')) {
  console.log('setup: installing npm packages (npm ci)…');
  run(existsSync('package-lock.json') ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund');
}

const missing = DEBIAN.filter((pkg) => !installed(pkg));
if (missing.length) {
  const line = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`setup: these Debian packages are missing; as root run:\n  ${line}`);
    process.exit(1);
  }
  console.log(`setup: installing ${missing.join(', ')} from Debian…`);
  run('apt-get update -qq');
  run(`apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`);
}
