/**
 * Reads Veil's policy back out of any file the admin CLI writes (or an admin edited): Chrome/Edge
 * policy JSON, Firefox policies.json or managed-storage manifest, a Windows .reg, a macOS
 * .mobileconfig, or a bare Veil policy. Each format is read the way its browser reads it, so
 * `validate` judges what the browser will hand Veil, not what the file seems to say.
 */
import * as plist from 'plist';
import { POLICY_SCHEMA } from '../lib/policy/schema';

export class ReadError extends Error {}

/** One Veil policy found in a file, and where (for messages). */
export interface FoundPolicy {
  where: string;
  policy: unknown;
  /** Values the browser would drop (wrong registry type, invalid JSON): reported like policy problems. */
  problems: { path: string; message: string }[];
}

/** Which extension ids to look for; any one entry is taken when none of them is present. */
export interface WantedIds {
  chrome: string[];
  firefox: string[];
}

function pick(
  entries: Record<string, unknown>,
  wanted: string[],
  where: (id: string) => string,
): FoundPolicy | undefined {
  const ids = Object.keys(entries);
  const id = wanted.find((w) => ids.includes(w)) ?? (ids.length === 1 ? ids[0] : undefined);
  if (id === undefined) {
    if (ids.length === 0) return undefined;
    throw new ReadError(
      `it configures several extensions (${ids.join(', ')}); say which is Veil with --chrome-id or --firefox-id`,
    );
  }
  return { where: where(id), policy: entries[id], problems: [] };
}

function fromJson(doc: unknown, ids: WantedIds): FoundPolicy[] {
  const d = doc as Record<string, any>;
  const firefox = d?.policies?.['3rdparty']?.Extensions;
  if (firefox && typeof firefox === 'object') {
    const found = pick(firefox, ids.firefox, (id) => `policies.3rdparty.Extensions["${id}"]`);
    return found ? [found] : [];
  }
  const chrome = d?.['3rdparty']?.extensions;
  if (chrome && typeof chrome === 'object') {
    const found = pick(chrome, ids.chrome, (id) => `3rdparty.extensions["${id}"]`);
    return found ? [found] : [];
  }
  if (d?.type === 'storage' && 'data' in d) return [{ where: 'data', policy: d.data, problems: [] }];
  return [{ where: '(whole file)', policy: doc, problems: [] }];
}

// ---- Windows .reg --------------------------------------------------------------------------

type RegValue = { kind: 'string'; value: string } | { kind: 'dword'; value: number };

/** A registry key as Chrome's policy loader sees it: values and subkeys, names case-insensitive. */
interface RegKey {
  values: Map<string, RegValue>;
  keys: Map<string, RegKey>;
}

const newKey = (): RegKey => ({ values: new Map(), keys: new Map() });

function decodeReg(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
}

/** Parses the string and DWORD subset of the .reg format (all Chrome policy needs); refuses the rest with its line. */
export function parseReg(bytes: Uint8Array): RegKey {
  const lines = decodeReg(bytes).split(/\r?\n/);
  if (lines[0]?.trim() !== 'Windows Registry Editor Version 5.00')
    throw new ReadError('line 1: not "Windows Registry Editor Version 5.00"');
  const root = newKey();
  let current: RegKey | undefined;
  lines.forEach((raw, i) => {
    if (i === 0) return;
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) return;
    const section = /^\[(-?)([^\]]+)\]$/.exec(line);
    if (section) {
      const parts = section[2]!.split('\\');
      if (section[1]) {
        // `[-key]` deletes the key and everything under it; values may not follow.
        child(root, parts.slice(0, -1).join('\\'))?.keys.delete(parts.at(-1)!.toLowerCase());
        current = undefined;
        return;
      }
      current = root;
      for (const part of parts) {
        const name = part.toLowerCase();
        if (!current.keys.has(name)) current.keys.set(name, newKey());
        current = current.keys.get(name)!;
      }
      return;
    }
    const value = /^"((?:[^"\\]|\\.)*)"=(?:dword:([0-9a-fA-F]{8})|"((?:[^"\\]|\\.)*)")$/.exec(line);
    if (!value) throw new ReadError(`line ${i + 1}: not a string or dword value: ${line.slice(0, 80)}`);
    if (!current) throw new ReadError(`line ${i + 1}: a value outside any key`);
    const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
    current.values.set(
      unescape(value[1]!).toLowerCase(),
      value[2] !== undefined
        ? { kind: 'dword', value: parseInt(value[2], 16) }
        : { kind: 'string', value: unescape(value[3]!) },
    );
  });
  return root;
}

function child(key: RegKey | undefined, path: string): RegKey | undefined {
  let k = key;
  for (const part of path ? path.split('\\') : []) k = k?.keys.get(part.toLowerCase());
  return k;
}

type SchemaNode = { type?: string; properties?: Record<string, SchemaNode>; items?: SchemaNode };

/** Chrome's conversion of a registry value to the type the schema asks for; undefined = Chrome drops it. */
function convertValue(v: RegValue, schema: SchemaNode | undefined): { value?: unknown; problem?: string } {
  const type = schema?.type;
  if (v.kind === 'dword') {
    if (type === 'boolean') return { value: v.value !== 0 };
    if (type === 'integer' || type === 'number' || type === undefined) return { value: v.value };
    return { problem: `is a DWORD; Chrome needs a ${type} here${type === 'string' ? '' : ' (a JSON string)'}` };
  }
  if (type === 'array' || type === 'object') {
    try {
      return { value: JSON.parse(v.value) };
    } catch (e) {
      return { problem: `is not valid JSON, so Chrome drops it (${(e as Error).message})` };
    }
  }
  if (type === 'boolean') return { problem: 'is a string; Chrome needs a DWORD (1 or 0) here' };
  if (type === 'integer' || type === 'number') {
    return /^-?\d+$/.test(v.value) ? { value: Number(v.value) } : { problem: 'is not a number' };
  }
  return { value: v.value };
}

/** A registry key to JSON the way Chrome does it: values by schema type, subkeys as objects or numbered lists. */
function convertKey(
  key: RegKey,
  schema: SchemaNode | undefined,
  path: string,
  problems: FoundPolicy['problems'],
): unknown {
  const at = (name: string) => (path ? `${path}.${name}` : name);
  if (schema?.type === 'array') {
    const numbered = [...key.values.entries(), ...key.keys.entries()]
      .filter(([n]) => /^\d+$/.test(n))
      .sort(([a], [b]) => Number(a) - Number(b));
    return numbered.map(([n, v], i) =>
      'kind' in v
        ? one(v, schema.items, `${path}[${i}]`, problems)
        : convertKey(v, schema.items, `${path}[${n}]`, problems),
    );
  }
  // Registry names are case-insensitive; policy names are not: map back to the schema's spelling.
  const props = schema?.properties ?? {};
  const spelled = (name: string) => Object.keys(props).find((p) => p.toLowerCase() === name) ?? name;
  const out: Record<string, unknown> = {};
  for (const [n, v] of key.values) {
    const name = spelled(n);
    const converted = one(v, props[name], at(name), problems);
    if (converted !== undefined) out[name] = converted;
  }
  for (const [n, k] of key.keys) out[spelled(n)] = convertKey(k, props[spelled(n)], at(spelled(n)), problems);
  return out;
}

function one(v: RegValue, schema: SchemaNode | undefined, path: string, problems: FoundPolicy['problems']): unknown {
  const c = convertValue(v, schema);
  if (c.problem) problems.push({ path, message: c.problem });
  return c.value;
}

const REG_VENDORS = ['Google\\Chrome', 'Chromium', 'Microsoft\\Edge'];

function fromReg(bytes: Uint8Array, ids: WantedIds): FoundPolicy[] {
  const root = parseReg(bytes);
  const found: FoundPolicy[] = [];
  for (const vendor of REG_VENDORS) {
    const extensions = child(root, `HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\${vendor}\\3rdparty\\extensions`);
    if (!extensions) continue;
    const withPolicy = Object.fromEntries(
      [...extensions.keys].filter(([, k]) => k.keys.has('policy')).map(([id, k]) => [id, k.keys.get('policy')!]),
    );
    const where = (id: string) => `HKLM\\SOFTWARE\\Policies\\${vendor}\\3rdparty\\extensions\\${id}\\policy`;
    const hit = pick(withPolicy, ids.chrome, where);
    if (!hit) continue;
    const problems: FoundPolicy['problems'] = [];
    const policy = convertKey(hit.policy as RegKey, POLICY_SCHEMA as unknown as SchemaNode, '', problems);
    found.push({ where: hit.where, policy, problems });
  }
  return found;
}

// ---- macOS .mobileconfig -------------------------------------------------------------------

function fromMobileconfig(text: string, ids: WantedIds): FoundPolicy[] {
  let doc: unknown;
  try {
    doc = plist.parse(text);
  } catch (e) {
    throw new ReadError(`not a valid property list: ${(e as Error).message.split('\n')[0]}`);
  }
  const payloads = (doc as { PayloadContent?: unknown })?.PayloadContent;
  if (!Array.isArray(payloads)) throw new ReadError('a configuration profile needs a PayloadContent array');
  const found: FoundPolicy[] = [];
  for (const domain of ['com.google.Chrome', 'com.microsoft.Edge']) {
    const mine = Object.fromEntries(
      payloads
        .filter((p) => typeof p?.PayloadType === 'string' && p.PayloadType.startsWith(`${domain}.extensions.`))
        .map((p) => [p.PayloadType.slice(`${domain}.extensions.`.length), p]),
    );
    const hit = pick(mine, ids.chrome, (id) => `payload ${domain}.extensions.${id}`);
    if (!hit) continue;
    // The profile's own bookkeeping keys are not preferences the browser hands the extension.
    const policy = Object.fromEntries(
      Object.entries(hit.policy as Record<string, unknown>).filter(([k]) => !k.startsWith('Payload')),
    );
    found.push({ where: hit.where, policy, problems: [] });
  }
  return found;
}

/** Every Veil policy in the file (a .reg or profile holds one per browser). */
export function policiesInFile(bytes: Uint8Array, ids: WantedIds): FoundPolicy[] {
  const head = decodeReg(bytes.subarray(0, 200)).trimStart();
  if (head.startsWith('Windows Registry Editor')) return fromReg(bytes, ids);
  const text = new TextDecoder('utf-8').decode(bytes);
  if (/^(<\?xml[^>]*>\s*)?(<!DOCTYPE plist[^>]*>\s*)?<plist[\s>]/.test(text.trimStart()))
    return fromMobileconfig(text, ids);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ReadError(`neither JSON, a .reg file nor a property list (${(e as Error).message})`);
  }
  return fromJson(doc, ids);
}
