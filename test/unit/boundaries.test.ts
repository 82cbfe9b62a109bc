/**
 * The folders of lib/ are trust zones (docs/architecture.md). This test reads every import and
 * fails when code reaches a zone it must not: above all, content-script code (which runs inside
 * the vendor's page) importing anything that handles keys.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

type Zone =
  | 'background'
  | 'content'
  | 'main-world'
  | 'pages'
  | 'frames'
  | 'sealing'
  | 'shared'
  | 'entry-content'
  | 'entry-main-world'
  | 'entry-other';

function zoneOf(file: string): Zone {
  if (file === 'entrypoints/content.ts') return 'entry-content';
  if (file === 'entrypoints/notification-labels.ts') return 'entry-main-world';
  if (file.startsWith('entrypoints/')) return 'entry-other';
  if (file.startsWith('lib/background/')) return 'background';
  if (file.startsWith('lib/page/')) return 'content';
  // Runs in the vendor page's own world: everything there is the page's to read.
  if (file.startsWith('lib/main-world/')) return 'main-world';
  if (file.startsWith('lib/ui/')) return 'pages';
  if (file.startsWith('lib/frames/')) return 'frames';
  // Pure, but they seal and open with key bytes: only the background (and Node tools) use them.
  if (['lib/crypto/envelope.ts', 'lib/crypto/bundle.ts', 'lib/crypto/file-stream.ts'].includes(file)) return 'sealing';
  return 'shared';
}

/** Which zones each zone may import from. */
const ALLOWED: Record<Zone, Zone[]> = {
  shared: ['shared'],
  sealing: ['shared', 'sealing'],
  background: ['shared', 'sealing', 'background'],
  content: ['shared', 'content'],
  pages: ['shared', 'pages', 'frames'],
  frames: ['shared', 'frames'],
  'main-world': [],
  'entry-content': ['content'],
  'entry-main-world': ['main-world'],
  'entry-other': ['background', 'pages', 'frames', 'shared'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(p) && !p.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = join(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative('.', candidate);
  }
  return undefined;
}

function importsOf(file: string, code = readFileSync(file, 'utf8')): string[] {
  const specs = [...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"?]+)/g)].map((m) => m[1]!);
  return specs.map((s) => resolveImport(file, s) ?? `${s} (unresolved)`);
}

function violations(files: { file: string; code?: string }[]): string[] {
  const out: string[] = [];
  for (const { file, code } of files) {
    const zone = zoneOf(file);
    for (const target of importsOf(file, code)) {
      if (target.endsWith('(unresolved)')) continue;
      if (target.endsWith('.json') || target.endsWith('.css')) continue;
      if (!target.startsWith('lib/') && !target.startsWith('entrypoints/')) continue;
      const to = zoneOf(target);
      if (!ALLOWED[zone].includes(to)) out.push(`${file} (${zone}) imports ${target} (${to})`);
    }
  }
  return out;
}

describe('trust-zone boundaries', () => {
  const files = [...sources('lib'), ...sources('entrypoints')].map((file) => ({ file }));

  it('finds the code it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.file === 'lib/page/send-guard.ts')).toBe(true);
  });

  it('no folder imports from a zone it must not reach', () => {
    expect(violations(files)).toEqual([]);
  });

  it('catches a content-script module that imports key-handling code', () => {
    const planted = [
      { file: 'lib/page/renderer.ts', code: "import { openEnvelope } from '../crypto/envelope';" },
      { file: 'lib/page/renderer.ts', code: "import { KeyStore } from '../background/keys/store';" },
      { file: 'lib/frames/secure-reader.ts', code: "import { Keyring } from '../background/keyring';" },
      { file: 'entrypoints/content.ts', code: "import { startBackground } from '../lib/background/main';" },
      // The page's own world may not even reach shared code (it could ask Veil for nothing anyway).
      { file: 'lib/main-world/notification-labels.ts', code: "import { t } from '../i18n';" },
      { file: 'entrypoints/notification-labels.ts', code: "import { request } from '../lib/messaging/client';" },
    ];
    expect(violations(planted)).toHaveLength(planted.length);
  });
});

/** Files reached from `entries` through relative imports, with the bare packages each imports. */
function reach(entries: string[], read = (f: string) => readFileSync(f, 'utf8')): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [...entries];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file) || !file.endsWith('.ts')) continue;
    const code = read(file);
    seen.set(
      file,
      [...code.matchAll(/(?:from\s+|import\s+)['"]([^.'"][^'"]*)['"]/g)].map((m) => m[1]!),
    );
    for (const target of importsOf(file, code)) if (!target.endsWith('(unresolved)')) todo.push(target);
  }
  return seen;
}

// `npm run bench` runs under vite-node, where vitest's `expect` throws on import.
describe('the benchmark runs outside the test runner', () => {
  const usesVitest = (m: Map<string, string[]>) => [...m].filter(([, pkgs]) => pkgs.includes('vitest')).map(([f]) => f);

  it('no file the benchmark reaches imports vitest', () => {
    const reached = reach(sources('bench'));
    expect(reached.has('test/support/browser.ts')).toBe(true);
    expect(usesVitest(reached)).toEqual([]);
  });

  it('catches a support file the benchmark reaches that imports vitest', () => {
    const planted = (f: string) =>
      f === 'test/support/heap.ts'
        ? "import { expect } from 'vitest';\n" + readFileSync(f, 'utf8')
        : readFileSync(f, 'utf8');
    expect(usesVitest(reach(sources('bench'), planted))).toEqual(['test/support/heap.ts']);
  });
});
