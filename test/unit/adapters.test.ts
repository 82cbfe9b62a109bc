/**
 * Meta-test for lib/adapters: every adapter file is registered, listed in the
 * README's "Supported chats" table, and has saved HTML snapshots (fixtures/snapshots/<id>*.html)
 * that its selectors and readers are checked against, by count of matches. Snapshots, not live
 * sites: a chat's redesign shows up as a failing snapshot test after re-saving, not as flakiness.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { BUILTIN_ADAPTERS } from '../../lib/adapters/registry';
import type { SiteAdapter } from '../../lib/adapters/types';

const ADAPTER_DIR = 'lib/adapters';
const SNAPSHOT_DIR = 'fixtures/snapshots';
/** Infrastructure files; every other file in lib/adapters must be one registered adapter. */
const NOT_ADAPTERS = new Set(['types.ts', 'registry.ts', 'custom.ts']);

/** What each snapshot holds, counted by hand when it was saved. */
const EXPECTED: Record<string, { messages: number; conversationId: string; currentUser: string }> = {
  'fixture-chat.html': { messages: 2, conversationId: 'dm-alice-bob', currentUser: 'alice' },
  'fixture-chat-quill.html': { messages: 2, conversationId: 'dm-alice-bob', currentUser: 'alice' },
  'fixture-chat-slate.html': { messages: 2, conversationId: 'dm-alice-bob', currentUser: 'alice' },
  // two in the list (the thread's first message and another), two in the open thread panel
  'fixture-chat-thread.html': { messages: 4, conversationId: 'dm-alice-bob', currentUser: 'alice' },
  'thelounge.html': { messages: 1, conversationId: '#veil', currentUser: 'alice' },
};

function snapshotsOf(a: SiteAdapter): string[] {
  return readdirSync(SNAPSHOT_DIR).filter(
    (f) => f === `${a.id}.html` || (f.startsWith(`${a.id}-`) && f.endsWith('.html')),
  );
}

function load(file: string): Document {
  return parseHTML(readFileSync(join(SNAPSHOT_DIR, file), 'utf8')).document as unknown as Document;
}

const count = (root: ParentNode, selectors: string[]) =>
  selectors.reduce((n, s) => n + root.querySelectorAll(s).length, 0);

describe('adapter registry', () => {
  it('registers every adapter file, once, with a unique id', () => {
    const files = readdirSync(ADAPTER_DIR).filter((f) => f.endsWith('.ts') && !NOT_ADAPTERS.has(f));
    const registry = readFileSync(join(ADAPTER_DIR, 'registry.ts'), 'utf8');
    for (const f of files)
      expect(registry, `${f} is not imported by registry.ts`).toContain(`from './${f.replace(/\.ts$/, '')}'`);
    expect(BUILTIN_ADAPTERS).toHaveLength(files.length);
    expect(new Set(BUILTIN_ADAPTERS.map((a) => a.id)).size).toBe(BUILTIN_ADAPTERS.length);
    expect(BUILTIN_ADAPTERS.map((a) => a.id)).not.toContain('custom'); // reserved for policy adapters
  });

  it.each(BUILTIN_ADAPTERS.map((a) => [a.id, a] as const))(
    '%s is listed in the README table of supported chats',
    (id) => {
      const readme = readFileSync('README.md', 'utf8');
      const section = /^## Supported chats\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1] ?? '';
      expect(section, 'README.md needs a "## Supported chats" section').not.toBe('');
      expect(
        section.split('\n').some((l) => l.startsWith('|') && l.includes(`\`${id}\``)),
        `no table row with \`${id}\``,
      ).toBe(true);
    },
  );

  it.each(BUILTIN_ADAPTERS.map((a) => [a.id, a] as const))('%s has saved snapshots', (_id, a) => {
    expect(snapshotsOf(a).length).toBeGreaterThan(0);
    for (const f of snapshotsOf(a)) expect(EXPECTED[f], `add ${f} to EXPECTED`).toBeDefined();
  });
});

describe.each(BUILTIN_ADAPTERS.flatMap((a) => snapshotsOf(a).map((f) => [f, a] as const)))(
  'selectors on %s',
  (file, a) => {
    const doc = load(file);
    const want = EXPECTED[file]!;

    it('finds exactly one composer and one send button', () => {
      expect(count(doc, a.selectors.composer)).toBe(1);
      expect(count(doc, a.selectors.sendButton)).toBe(1);
    });

    it('finds every message, each with exactly one text element and an author', () => {
      const messages = a.selectors.message.flatMap((s) => [...doc.querySelectorAll(s)]);
      expect(messages).toHaveLength(want.messages);
      for (const m of messages) {
        expect(count(m, a.selectors.messageText)).toBe(1);
        const author =
          (a.authorAttribute && m.getAttribute(a.authorAttribute)) ||
          m.querySelector(a.selectors.messageAuthor.join(','))?.textContent;
        expect(author?.trim()).toBeTruthy();
      }
    });

    it('reads the conversation and the signed-in user', () => {
      expect(a.conversationId(doc)).toBe(want.conversationId);
      expect(a.currentUser(doc)).toBe(want.currentUser);
    });

    it('every selector alternative matches in some snapshot (no dead selectors)', () => {
      const all = snapshotsOf(a).map(load);
      for (const [field, list] of Object.entries(a.selectors)) {
        for (const sel of list) {
          const scoped = field === 'messageText' || field === 'messageAuthor';
          const hits = all.reduce(
            (n, d) =>
              n +
              (scoped
                ? a.selectors.message.flatMap((m) => [...d.querySelectorAll(m)]).filter((m) => m.querySelector(sel))
                    .length
                : d.querySelectorAll(sel).length),
            0,
          );
          if (field === 'messageAuthor' && a.authorAttribute) continue; // fallback only
          expect(hits, `${a.id}.selectors.${field} "${sel}" matches nothing in any snapshot`).toBeGreaterThan(0);
        }
      }
    });
  },
);
