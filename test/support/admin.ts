/**
 * The admin CLI as tests use it: in process, with a passphrase for the key file, failing loudly.
 * Tests make keys and policy files the way an IT admin does, never by writing policy JSON by hand.
 */
import { runAdmin } from '../../scripts/admin-cli';

export const ADMIN_PASSPHRASE = 'admin passphrase for tests';

/** Runs `npm run admin -- <argv>`; returns what it printed, throws with its errors on failure. */
export async function admin(...argv: string[]): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(argv, {
    env: { VEIL_ADMIN_PASSPHRASE: ADMIN_PASSPHRASE },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  if (code !== 0) throw new Error(`veil-admin ${argv.join(' ')} failed (${code}): ${err.join('\n')}`);
  return out.join('\n');
}

/** `keys generate` into `keysFile` for the fixture chat (test-sized scrypt cost); the new key's id. */
export async function generateKey(keysFile: string, label: string, conversations: string[]): Promise<string> {
  const said = await admin(
    'keys',
    'generate',
    '--keys',
    keysFile,
    '--label',
    label,
    '--site',
    'fixture-chat',
    '--conversations',
    conversations.join(','),
    '--scrypt-log-n',
    '15',
  );
  return /generated ([0-9a-f]{8})/.exec(said)![1]!;
}
