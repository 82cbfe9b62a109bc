/**
 * The key service in `npm run bench` (and alone: `npm run bench:keyservice`, which prints the
 * table): key releases per second for one instance (each release = verify the ID token, read the
 * caller's keys, unwrap each in the HSM, wrap each to the device with HPKE), with X-Wing and with
 * X25519, on SQLite and (if installed) PostgreSQL; and the latency a sign-in adds (IdP login with
 * PKCE + the first release). Alone: `-- --seconds N` per measurement (default 3),
 * `-- --concurrency N` requests in flight (default 4).
 */
import { base64urlnopad } from '@scure/base';
import { deviceNonce } from '../lib/crypto/device-nonce';
import { suiteFor, type Kem } from '../keyservice/hpke';
import { EXTENSION_REDIRECTS } from '../keyservice/idp/idp';
import { headlessLogin } from '../keyservice/idp/login';
import { postgresBin, startPostgres } from '../keyservice/testing/postgres';
import { startStack } from '../keyservice/testing/stack';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface KeyServiceRow {
  database: 'SQLite' | 'PostgreSQL';
  kem: Kem;
  keysPerRelease: number;
  releasesPerSecond: number;
  medianReleaseMs: number;
  signInMs: number;
}

export interface KeyServiceBench {
  rows: KeyServiceRow[];
  seconds: number;
  concurrency: number;
  /** Why PostgreSQL is missing from the rows, if it is. */
  note?: string;
}

async function bench(
  database: string | undefined,
  label: KeyServiceRow['database'],
  seconds: number,
  concurrency: number,
): Promise<KeyServiceRow[]> {
  const stack = await startStack({ database, sink: () => {} });
  const rows: KeyServiceRow[] = [];
  try {
    // As the extension signs in: the nonce commits to the device key (the service binds to it).
    const SALT = 'bench-salt';
    const login = (publicKey: string) =>
      headlessLogin({
        issuer: stack.idp.issuer,
        clientId: stack.idp.clientId,
        redirectUri: EXTENSION_REDIRECTS[0]!,
        username: 'alice',
        password: 'alice-password',
        nonce: deviceNonce(publicKey, SALT),
      });
    for (const kem of ['x-wing', 'x25519'] as Kem[]) {
      const suite = suiteFor(kem);
      const pair = await suite.kem.generateKeyPair();
      const publicKey = base64urlnopad.encode(new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)));
      const body = JSON.stringify({ device: { kem, publicKey, salt: SALT }, known: [] });
      const { idToken } = await login(publicKey);
      const once = async () => {
        const t = performance.now();
        const res = await fetch(`${stack.url}/v1/keys/release`, {
          method: 'POST',
          headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
          body,
        });
        if (res.status !== 200) throw new Error(`release: HTTP ${res.status}`);
        await res.arrayBuffer();
        return performance.now() - t;
      };
      for (let i = 0; i < 5; i++) await once(); // warm up
      const latencies: number[] = [];
      const end = performance.now() + seconds * 1000;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) latencies.push(await once());
        }),
      );
      const perSecond = latencies.length / ((performance.now() - start) / 1000);
      // Sign-in: IdP login (PKCE, form, token) then the first release, sequentially.
      const signIns: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await login(publicKey);
        await once();
        signIns.push(performance.now() - t);
      }
      rows.push({
        database: label,
        kem,
        keysPerRelease: 2,
        releasesPerSecond: perSecond,
        medianReleaseMs: median(latencies),
        signInMs: median(signIns),
      });
    }
  } finally {
    await stack.close();
  }
  return rows;
}

export async function benchKeyService(seconds = 3, concurrency = 4): Promise<KeyServiceBench> {
  const rows = await bench(undefined, 'SQLite', seconds, concurrency);
  if (!postgresBin()) return { rows, seconds, concurrency, note: 'PostgreSQL is not installed: SQLite only.' };
  const pg = await startPostgres();
  try {
    rows.push(...(await bench(pg.url, 'PostgreSQL', seconds, concurrency)));
  } finally {
    pg.stop();
  }
  return { rows, seconds, concurrency };
}

export function keyServiceReport(k: KeyServiceBench): string[] {
  const L = [
    '## Key service: releases per instance and the cost of a sign-in (Node, 127.0.0.1)',
    '',
    '| Database | KEM | Keys per release | Releases/s (1 instance) | Median release | Sign-in + first release |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of k.rows)
    L.push(
      `| ${r.database} | ${r.kem} | ${r.keysPerRelease} | ${r.releasesPerSecond.toFixed(1)} | ` +
        `${r.medianReleaseMs.toFixed(1)} ms | ${r.signInMs.toFixed(0)} ms |`,
    );
  L.push(
    '',
    `${k.concurrency} releases in flight for ${k.seconds} s per row; a release verifies the ID token, reads the ` +
      "caller's keys, unwraps each in SoftHSM2 and wraps each to the device with HPKE. A browser asks once per " +
      '`refreshMinutes` (15 by default): 5,000 employees need about 6 releases/s.' +
      (k.note ? ` ${k.note}` : ''),
    '',
  );
  return L;
}

// Alone (npm run bench:keyservice): prints the table.
if (process.argv.includes('--standalone')) {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : d;
  };
  const k = await benchKeyService(arg('--seconds', 3), arg('--concurrency', 4));
  console.log(keyServiceReport(k).join('\n'));
}
