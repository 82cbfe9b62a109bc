/**
 * The key-encryption key (KEK) in an HSM, reached through PKCS#11. Group keys rest in the database
 * only as AES-256-GCM ciphertexts made inside the token; the KEK is created non-extractable and
 * sensitive, so neither this process nor a stolen database backup can recover group keys without
 * the HSM. SoftHSM2 in tests and the demo; a network HSM's or cloud KMS's PKCS#11 library in
 * production: the same calls.
 */
import { randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';

export interface HsmConfig {
  module: string; // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
  tokenLabel: string;
  pin: string;
  kekLabel: string;
}

export class HsmError extends Error {}

/** PKCS#11 may be initialised once per process: every Hsm shares one loaded module per path. */
const modules = new Map<string, { lib: pkcs11js.PKCS11; users: number }>();

export class Hsm {
  private readonly lib: pkcs11js.PKCS11;
  private readonly session: pkcs11js.Handle;
  private kek: pkcs11js.Handle;
  private closed = false;

  private constructor(
    private readonly config: HsmConfig,
    lib: pkcs11js.PKCS11,
    session: pkcs11js.Handle,
    kek: pkcs11js.Handle,
  ) {
    this.lib = lib;
    this.session = session;
    this.kek = kek;
  }

  /** Opens a session on the token labelled `tokenLabel`; creates the KEK there when `create`. */
  static open(config: HsmConfig, opts: { create?: boolean } = {}): Hsm {
    let entry = modules.get(config.module);
    if (!entry) {
      const lib = new pkcs11js.PKCS11();
      lib.load(config.module);
      lib.C_Initialize();
      entry = { lib, users: 0 };
      modules.set(config.module, entry);
    }
    const { lib } = entry;
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === config.tokenLabel);
    if (!slot) throw new HsmError(`no PKCS#11 token labelled "${config.tokenLabel}"`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, config.pin);
    } catch (e) {
      // Another Hsm in this process already logged the token in (login state is per token).
      if (!String(e).includes('CKR_USER_ALREADY_LOGGED_IN')) {
        lib.C_CloseSession(session);
        throw new HsmError(`PKCS#11 login failed: ${(e as Error).message}`);
      }
    }
    entry.users++;
    let kek = findKey(lib, session, config.kekLabel);
    if (!kek && opts.create) kek = generateKek(lib, session, config.kekLabel);
    if (!kek) {
      entry.users--;
      lib.C_CloseSession(session);
      throw new HsmError(`no key-encryption key "${config.kekLabel}" on token "${config.tokenLabel}"`);
    }
    return new Hsm(config, lib, session, kek);
  }

  /** AES-256-GCM inside the token; `aad` binds the ciphertext to the key's id and group. */
  wrap(secret: Uint8Array, aad: Uint8Array): Uint8Array {
    const iv = randomBytes(12);
    this.lib.C_EncryptInit(this.session, gcm(iv, aad), this.kek);
    const out = this.lib.C_Encrypt(this.session, Buffer.from(secret), Buffer.alloc(secret.length + 16));
    return new Uint8Array(Buffer.concat([iv, out]));
  }

  /** The inverse of `wrap`; a changed byte or a different `aad` throws (the token checks the tag). */
  unwrap(wrapped: Uint8Array, aad: Uint8Array): Uint8Array {
    if (wrapped.length < 12 + 16) throw new HsmError('wrapped key too short');
    const iv = Buffer.from(wrapped.subarray(0, 12));
    const body = Buffer.from(wrapped.subarray(12));
    try {
      this.lib.C_DecryptInit(this.session, gcm(iv, aad), this.kek);
      return new Uint8Array(this.lib.C_Decrypt(this.session, body, Buffer.alloc(body.length)));
    } catch (e) {
      throw new HsmError(`the HSM refused to unwrap a group key: ${(e as Error).message}`);
    }
  }

  /** Whether the KEK is marked as the HSM must keep it: sensitive and never extractable. */
  kekAttributes(): { sensitive: boolean; extractable: boolean } {
    const [s, x] = this.lib.C_GetAttributeValue(this.session, this.kek, [
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
    ]);
    return { sensitive: !!(s?.value as Buffer)[0], extractable: !!(x?.value as Buffer)[0] };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.C_CloseSession(this.session);
    const entry = modules.get(this.config.module);
    if (entry && --entry.users === 0) {
      entry.lib.C_Finalize();
      modules.delete(this.config.module);
    }
  }
}

function gcm(iv: Buffer, aad: Uint8Array): pkcs11js.Mechanism {
  return {
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: {
      type: pkcs11js.CK_PARAMS_AES_GCM,
      iv,
      aad: Buffer.from(aad),
      ivBits: 96,
      tagBits: 128,
    } as pkcs11js.AesGCM,
  };
}

function findKey(lib: pkcs11js.PKCS11, session: pkcs11js.Handle, label: string): pkcs11js.Handle | null {
  lib.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  const found = lib.C_FindObjects(session);
  lib.C_FindObjectsFinal(session);
  return found;
}

function generateKek(lib: pkcs11js.PKCS11, session: pkcs11js.Handle, label: string): pkcs11js.Handle {
  return lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
  ]);
}

/**
 * A fresh SoftHSM2 token in `dir` (tests and the embedded demo): writes a softhsm2.conf, points
 * SOFTHSM2_CONF at it and initialises a token. Must run before the module is first loaded.
 */
export async function initSoftHsmToken(dir: string, label: string, pin: string): Promise<void> {
  const { mkdirSync, writeFileSync, existsSync, readdirSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const tokens = `${dir}/tokens`;
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = `${dir}/softhsm2.conf`;
  if (!existsSync(conf))
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  if (readdirSync(tokens).length > 0) return;
  const soPin = randomBytes(12).toString('hex');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
    env: process.env,
    stdio: 'ignore',
  });
}

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
