/**
 * The whole key-service side for e2e tests and the bench, in one call: the local IdP, a fresh
 * SoftHSM2 token in a temp dir, SQLite (or a given PostgreSQL URL) and N service instances, seeded
 * with groups sales and board (one key each). `close()` stops and deletes everything it started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInstance, type Instance } from '../app';
import type { AuditSink } from '../audit';
import { configFromEnv } from '../config';
import { initSoftHsmToken } from '../hsm';
import { startIdp, type Idp, type IdpOptions } from '../idp/idp';

export interface Stack {
  idp: Idp;
  nodes: (Instance & { url: string })[];
  url: string; // the first instance
  close(): Promise<void>;
}

export async function startStack(
  opts: {
    idp?: IdpOptions;
    database?: string; // default: SQLite in the temp dir
    instances?: number;
    env?: Record<string, string>; // more VEIL_KS_* settings, e.g. VEIL_KS_ROTATE_ON_REMOVAL
    sink?: AuditSink;
    seed?: boolean; // default true
  } = {},
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'veil-ks-'));
  const pin = `pin-${process.pid}-${Date.now()}`;
  await initSoftHsmToken(join(dir, 'hsm'), 'veil-stack', pin);
  const idp = await startIdp(opts.idp);
  const nodes: Stack['nodes'] = [];
  const close = async () => {
    for (const n of nodes) await n.close();
    await idp.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < (opts.instances ?? 1); i++) {
      const config = configFromEnv({
        VEIL_KS_ISSUER: idp.issuer,
        VEIL_KS_AUDIENCE: idp.clientId,
        VEIL_KS_DATABASE: opts.database ?? `sqlite:${join(dir, 'keyservice.db')}`,
        VEIL_KS_TOKEN_LABEL: 'veil-stack',
        VEIL_KS_PIN: pin,
        VEIL_KS_PORT: '0',
        VEIL_KS_AUDIT: join(dir, 'audit.jsonl'),
        VEIL_KS_INSTANCE: `stack-${i}`,
        ...opts.env,
      });
      nodes.push(await startInstance(config, { createKek: i === 0, sink: opts.sink }));
    }
    if (opts.seed ?? true) {
      const svc = nodes[0]!.service;
      await svc.map('sales', { site: '*', conversations: ['sales*'] }, 'setup');
      await svc.map('board', { site: '*', conversations: ['board*'] }, 'setup');
      await svc.createGroupKey('sales', 'Sales', 'setup');
      await svc.createGroupKey('board', 'Board', 'setup');
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { idp, nodes, url: nodes[0]!.url, close };
}
