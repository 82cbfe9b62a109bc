/**
 * `npm run admin -- keyservice <command>`: the key service's admin operations, run against its
 * database and HSM directly (same environment variables as the service; without them the embedded
 * default in .keyservice/). Every command is audited with the admin's name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { createBundle } from '../lib/crypto/bundle';
import type { KeyRecord } from '../lib/keys/model';
import { openService } from './app';
import { configFromEnv } from './config';
import { embeddedDefaults } from './embedded';
import { Refusal } from './service';

export const KEYSERVICE_USAGE = `  npm run admin -- keyservice map --group G --site ADAPTER|* --conversations P1,P2
  npm run admin -- keyservice create-group-key --group G --label TEXT
  npm run admin -- keyservice rotate --group G [--label TEXT]
  npm run admin -- keyservice revoke --id KEYID
  npm run admin -- keyservice list
  npm run admin -- keyservice export --out FILE [--group G ...]   (a passphrase-protected key bundle)
        Against VEIL_KS_DATABASE and the HSM in VEIL_KS_PKCS11_MODULE/VEIL_KS_TOKEN_LABEL/VEIL_KS_PIN,
        or the embedded default in VEIL_KS_HOME (.keyservice/). Audited as VEIL_ADMIN_ACTOR or the OS user.`;

interface Io {
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
}

export async function runKeyserviceAdmin(argv: string[], io: Io): Promise<number> {
  let values: Record<string, string | string[] | boolean | undefined>;
  let cmd: string | undefined;
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        group: { type: 'string', multiple: true },
        label: { type: 'string' },
        site: { type: 'string' },
        conversations: { type: 'string' },
        id: { type: 'string' },
        out: { type: 'string' },
        'passphrase-file': { type: 'string' },
      },
    });
    values = parsed.values;
    cmd = parsed.positionals[0];
    if (parsed.positionals.length !== 1) throw new Error('one command expected');
  } catch (e) {
    io.err(`veil-admin keyservice: ${(e as Error).message}\n${KEYSERVICE_USAGE}`);
    return 2;
  }
  const one = (name: string): string => {
    const v = values[name];
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s !== 'string' || !s) throw new Refusal(400, 'usage', `--${name} is required`);
    return s;
  };
  const actor = io.env.VEIL_ADMIN_ACTOR || userInfo().username;
  const defaults = await embeddedDefaults(io.env);
  const inst = await openService(configFromEnv(io.env, defaults), { createKek: !!defaults.tokenLabel });
  const svc = inst.service;
  try {
    switch (cmd) {
      case 'map': {
        const conversations = one('conversations')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        await svc.map(one('group'), { site: one('site'), conversations }, actor);
        io.out(`mapped ${one('group')} to ${one('site')}: ${conversations.join(',')}`);
        break;
      }
      case 'create-group-key': {
        const k = await svc.createGroupKey(one('group'), one('label'), actor);
        io.out(`created ${k.id} (active) for ${k.group}`);
        break;
      }
      case 'rotate': {
        const k = await svc.rotate(one('group'), actor, 'admin rotation', values.label as string | undefined);
        io.out(`rotated ${k.group}: ${k.id} is active, the previous key is retired`);
        break;
      }
      case 'revoke':
        await svc.revoke(one('id'), actor);
        io.out(`revoked ${one('id')}: no browser receives it again`);
        break;
      case 'list': {
        const scopes = await svc.store.scopes();
        for (const [g, s] of scopes) io.out(`group ${g}  ${s.site}: ${s.conversations.join(',')}`);
        for (const k of await svc.store.allKeys())
          io.out(`${k.id}  ${k.status.padEnd(7)}  ${k.group}  ${new Date(k.createdAt).toISOString()}  "${k.label}"`);
        break;
      }
      case 'export': {
        const out = one('out');
        const file = values['passphrase-file'] as string | undefined;
        const pass = (file ? readFileSync(file, 'utf8').trim() : io.env.VEIL_ADMIN_PASSPHRASE) ?? '';
        if (pass.length < 8)
          throw new Refusal(400, 'usage', 'set VEIL_ADMIN_PASSPHRASE or --passphrase-file (8+ characters)');
        const keys = await svc.exportKeys(values.group as string[] | undefined, actor);
        const records: KeyRecord[] = keys.map((k) => ({
          id: k.id,
          secret: k.secret,
          label: `${k.group}: ${k.label}`,
          scope: k.scope,
          // A compliance archive reads history: every key opens messages, none encrypts.
          status: k.status === 'revoked' ? 'revoked' : 'retired',
          createdAt: k.createdAt,
          source: 'imported',
        }));
        writeFileSync(out, `${JSON.stringify(await createBundle(records, pass), null, 2)}\n`, { mode: 0o600 });
        for (const k of keys) k.secret.fill(0);
        io.out(`exported ${keys.length} keys to ${out}`);
        break;
      }
      default:
        io.err(`veil-admin keyservice: unknown command "${cmd}"\n${KEYSERVICE_USAGE}`);
        return 2;
    }
    return 0;
  } catch (e) {
    io.err(`veil-admin keyservice: ${(e as Error).message}`);
    return e instanceof Refusal && e.code === 'usage' ? 2 : 1;
  } finally {
    await inst.close();
  }
}
