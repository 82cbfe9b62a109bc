/**
 * The key service's settings, from environment variables (12-factor: the same image runs every
 * instance). Nothing secret has a default except in the embedded demo (keyservice/main.ts).
 */
import { KEMS, type Kem } from './hpke';
import { SOFTHSM_MODULE } from './hsm';

export interface KeyServiceConfig {
  host: string;
  port: number;
  issuer: string;
  audience: string[]; // the extension's OIDC client id(s)
  groupsClaim: string;
  database: string; // sqlite:FILE | postgres://…
  pkcs11Module: string;
  tokenLabel: string;
  pin: string;
  kekLabel: string;
  audit: string; // file, or '-' for standard output
  refreshMinutes: number;
  /** Oldest ID token accepted (by `iat`); browsers get a fresh one for every release. */
  maxTokenAgeSeconds: number;
  offlineGraceHours: number;
  defaultKem: Kem;
  rotateOnRemoval: boolean;
  /** Release only to the device a sign-in was made for (default on). */
  deviceBinding: boolean;
  corsOrigins: string[];
  instance: string;
}

const num = (v: string | undefined, d: number, name: string) => {
  if (v === undefined || v === '') return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

/** 0 asks the OS for any free port (tests). */
const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('VEIL_KS_PORT must be a port number');
  return n;
};

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function configFromEnv(
  env: Record<string, string | undefined>,
  defaults: Partial<KeyServiceConfig> = {},
): KeyServiceConfig {
  const need = (name: string, d?: string): string => {
    const v = env[name] || d;
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const kem = (env.VEIL_KS_DEFAULT_KEM || defaults.defaultKem || 'x-wing') as Kem;
  if (!KEMS.includes(kem)) throw new Error(`VEIL_KS_DEFAULT_KEM must be one of ${KEMS.join(', ')}`);
  const host = env.VEIL_KS_HOST || defaults.host || '127.0.0.1';
  return {
    host,
    port: env.VEIL_KS_PORT ? port(env.VEIL_KS_PORT) : (defaults.port ?? 8443),
    issuer: env.VEIL_KS_ISSUER || defaults.issuer || '', // checked where tokens are verified
    audience: env.VEIL_KS_AUDIENCE ? list(env.VEIL_KS_AUDIENCE) : (defaults.audience ?? []),
    groupsClaim: env.VEIL_KS_GROUPS_CLAIM || defaults.groupsClaim || 'groups',
    database: need('VEIL_KS_DATABASE', defaults.database),
    pkcs11Module: env.VEIL_KS_PKCS11_MODULE || defaults.pkcs11Module || SOFTHSM_MODULE,
    tokenLabel: need('VEIL_KS_TOKEN_LABEL', defaults.tokenLabel),
    pin: need('VEIL_KS_PIN', defaults.pin),
    kekLabel: env.VEIL_KS_KEK_LABEL || defaults.kekLabel || 'veil-kek',
    audit: env.VEIL_KS_AUDIT || defaults.audit || '-',
    refreshMinutes: num(env.VEIL_KS_REFRESH_MINUTES, defaults.refreshMinutes ?? 15, 'VEIL_KS_REFRESH_MINUTES'),
    maxTokenAgeSeconds: num(
      env.VEIL_KS_MAX_TOKEN_AGE_SECONDS,
      defaults.maxTokenAgeSeconds ?? 300,
      'VEIL_KS_MAX_TOKEN_AGE_SECONDS',
    ),
    offlineGraceHours: num(env.VEIL_KS_GRACE_HOURS, defaults.offlineGraceHours ?? 24, 'VEIL_KS_GRACE_HOURS'),
    defaultKem: kem,
    deviceBinding: (env.VEIL_KS_DEVICE_BINDING ?? (defaults.deviceBinding === false ? 'off' : 'on')) !== 'off',
    rotateOnRemoval: (env.VEIL_KS_ROTATE_ON_REMOVAL ?? String(defaults.rotateOnRemoval ?? false)) === 'true',
    corsOrigins: env.VEIL_KS_CORS_ORIGINS ? list(env.VEIL_KS_CORS_ORIGINS) : (defaults.corsOrigins ?? []),
    instance: env.VEIL_KS_INSTANCE || defaults.instance || `${host}:${process.pid}`,
  };
}
