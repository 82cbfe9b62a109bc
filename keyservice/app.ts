/**
 * One key service instance from its configuration: database, HSM session, audit log, token
 * verifier and HTTP server. Used by `npm run keyservice`, the admin CLI (without HTTP) and tests.
 */
import type { JWTVerifyGetKey } from 'jose';
import { Audit, auditSink, type AuditSink } from './audit';
import { oidcVerifier } from './auth';
import type { KeyServiceConfig } from './config';
import { openDb } from './db';
import { Hsm } from './hsm';
import { startHttp } from './server';
import { KeyService } from './service';
import { Store } from './store';

export interface Instance {
  service: KeyService;
  audit: Audit;
  url?: string;
  close(): Promise<void>;
}

export async function openService(
  config: KeyServiceConfig,
  opts: { sink?: AuditSink; createKek?: boolean } = {},
): Promise<Instance> {
  const store = new Store(await openDb(config.database));
  let hsm: Hsm | undefined;
  try {
    await store.migrate();
    hsm = Hsm.open(
      { module: config.pkcs11Module, tokenLabel: config.tokenLabel, pin: config.pin, kekLabel: config.kekLabel },
      { create: opts.createKek },
    );
  } catch (e) {
    await store.close();
    throw e;
  }
  const audit = new Audit(opts.sink ?? auditSink(config.audit), config.instance);
  const service = new KeyService(store, hsm, audit, {
    refreshMinutes: config.refreshMinutes,
    offlineGraceHours: config.offlineGraceHours,
    defaultKem: config.defaultKem,
    rotateOnRemoval: config.rotateOnRemoval,
    deviceBinding: config.deviceBinding,
  });
  return {
    service,
    audit,
    close: async () => {
      hsm.close();
      await store.close();
    },
  };
}

export async function startInstance(
  config: KeyServiceConfig,
  opts: { sink?: AuditSink; createKek?: boolean; jwks?: JWTVerifyGetKey } = {},
): Promise<Instance & { url: string }> {
  const inst = await openService(config, opts);
  try {
    if (!config.issuer) throw new Error("VEIL_KS_ISSUER (the IdP's issuer URL) is required");
    if (config.audience.length === 0) throw new Error("VEIL_KS_AUDIENCE (the extension's OIDC client id) is required");
    const verifier = oidcVerifier({
      issuer: config.issuer,
      audience: config.audience,
      groupsClaim: config.groupsClaim,
      maxTokenAgeSeconds: config.maxTokenAgeSeconds,
      jwks: opts.jwks,
    });
    const http = await startHttp(inst.service, verifier, inst.audit, {
      issuer: config.issuer,
      host: config.host,
      port: config.port,
      corsOrigins: config.corsOrigins,
    });
    return {
      ...inst,
      url: http.url,
      close: async () => {
        await http.close();
        await inst.close();
      },
    };
  } catch (e) {
    await inst.close();
    throw e;
  }
}
