/**
 * `npm run bench:keyservice`: key releases per second for one key service instance (each release
 * = verify the ID token, read the caller's keys, unwrap each in the HSM, wrap each to the device
 * with HPKE), with X-Wing and with X25519, on SQLite and (if installed) PostgreSQL; and the latency
 * a sign-in adds (IdP login with PKCE + the first release). Prints a Markdown table.
 * `-- --seconds N` per measurement (default 3), `-- --concurrency N` requests in flight (default 4).
 */
import { base64urlnopad } from '@scure/base';
import { suiteFor, type Kem } from '../keyservice/hpke';
import { EXTENSION_REDIRECTS } from '../keyservice/idp/idp';
import { headlessLogin } from '../keyservice/idp/login';
import { postgresBin, startPostgres } from '../keyservice/testing/postgres';
import { startStack } from '../keyservice/testing/stack';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const SECONDS = arg('--seconds', 3);
const CONCURRENCY = arg('--concurrency', 4);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(database: string | undefined, label: string): Promise<string[]> {
  const stack = await startStack({ database, sink: () => {} });
  const rows: string[] = [];
  try {
    const login = () =>
      headlessLogin({
        issuer: stack.idp.issuer,
        clientId: stack.idp.clientId,
        redirectUri: EXTENSION_REDIRECTS[0]!,
        username: 'alice',
        password: 'alice-password',
      });
    for (const kem of ['x-wing', 'x25519'] as Kem[]) {
      const suite = suiteFor(kem);
      const pair = await suite.kem.generateKeyPair();
      const publicKey = base64urlnopad.encode(new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)));
      const body = JSON.stringify({ device: { kem, publicKey }, known: [] });
      const { idToken } = await login();
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
      const end = performance.now() + SECONDS * 1000;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < end) latencies.push(await once());
        }),
      );
      const perSecond = latencies.length / ((performance.now() - start) / 1000);
      // Sign-in: IdP login (PKCE, form, token) then the first release, sequentially.
      const signIns: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await login();
        await once();
        signIns.push(performance.now() - t);
      }
      rows.push(
        `| ${label} | ${kem} | 2 | ${perSecond.toFixed(1)} | ${median(latencies).toFixed(1)} | ${median(signIns).toFixed(0)} |`,
      );
    }
  } finally {
    await stack.close();
  }
  return rows;
}

const rows = [
  '| database | KEM | keys per release | releases/s (1 instance) | median release ms | sign-in + first release ms |',
  '|---|---|---|---|---|---|',
];
rows.push(...(await bench(undefined, 'SQLite')));
if (postgresBin()) {
  const pg = await startPostgres();
  try {
    rows.push(...(await bench(pg.url, 'PostgreSQL')));
  } finally {
    pg.stop();
  }
}
console.log(rows.join('\n'));
