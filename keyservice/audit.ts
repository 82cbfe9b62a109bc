/**
 * One JSON line per security-relevant event, for a SIEM: who, which device, which key ids, when,
 * and why something was refused. Never a key byte.
 */
import { appendFileSync } from 'node:fs';

export type AuditEvent =
  'release' | 'refusal' | 'rotation' | 'rotation-failed' | 'membership' | 'create' | 'revoke' | 'map' | 'export';

export interface AuditRecord {
  event: AuditEvent;
  subject?: string; // the employee (token `sub`) or the admin (OS user) who acted
  device?: string; // SHA-256 prefix of the device public key
  group?: string;
  keyIds?: string[];
  reason?: string;
  [more: string]: unknown;
}

export type AuditSink = (line: string) => void;

/** `-` or empty: standard output; otherwise a file appended to (one write per line). */
export function auditSink(target: string | undefined): AuditSink {
  if (!target || target === '-') return (line) => process.stdout.write(`${line}\n`);
  return (line) => appendFileSync(target, `${line}\n`, { mode: 0o600 });
}

export class Audit {
  constructor(
    private readonly sink: AuditSink,
    private readonly instance: string,
  ) {}

  write(r: AuditRecord): void {
    this.sink(
      JSON.stringify({ ts: new Date().toISOString(), service: 'veil-keyservice', instance: this.instance, ...r }),
    );
  }
}
