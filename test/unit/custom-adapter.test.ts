/**
 * Custom adapters from policy (lib/adapters/custom.ts): the spec is untrusted input, so every
 * problem must be reported (and the site then fails closed), and a valid spec must behave like a
 * built-in adapter on the page it describes.
 */
import { parseHTML } from 'linkedom';
import { afterEach, describe, expect, it } from 'vitest';
import { messageAuthor } from '../../lib/adapters/types';
import {
  adapterFromSpec,
  CUSTOM_ADAPTER_JSON_SCHEMA,
  type CustomAdapterSpec,
  extract,
  InvalidCustomAdapterError,
  validateCustomAdapterSpec,
} from '../../lib/adapters/custom';

const SPEC: CustomAdapterSpec = {
  name: 'Acme Chat',
  selectors: {
    composer: ['.acme-compose[contenteditable="true"]'],
    sendButton: ['button.acme-send'],
    message: ['article.post'],
    messageText: ['p.body'],
    messageAuthor: ['.who'],
  },
  authorAttribute: 'data-author',
  messageIdAttribute: 'data-post-id',
  conversationId: { from: 'attribute', selector: 'section.thread', attribute: 'data-room' },
  currentUser: { from: 'text', selector: 'header .acme-user' },
  composerStrategy: 'auto',
  sendTrigger: 'click',
  maxMessageChars: 1000,
  allowChunks: false,
};

const PAGE = `<!doctype html><html><body>
  <header><span class="acme-user"> alice </span></header>
  <section class="thread" data-room="room-42">
    <article class="post" data-author="bob" data-post-id="p1"><span class="who">Bob</span><p class="body">hi</p></article>
  </section>
  <div class="acme-compose" contenteditable="true"></div><button class="acme-send">Send</button>
</body></html>`;

const page = (url = 'https://acme.example/rooms/42') => {
  const { document } = parseHTML(PAGE);
  Object.defineProperty(document, 'location', { value: new URL(url) });
  return document as unknown as Document;
};

const clone = (): Record<string, any> => JSON.parse(JSON.stringify(SPEC));
const errorsOf = (spec: unknown) => {
  const r = validateCustomAdapterSpec(spec);
  return r.ok ? [] : r.errors;
};

afterEach(() => {
  delete (globalThis as { document?: unknown }).document;
});

describe('adapterFromSpec', () => {
  it('turns a valid spec into an adapter that reads the page', () => {
    const a = adapterFromSpec(SPEC);
    const doc = page();
    expect(a).toMatchObject({
      id: 'custom',
      name: 'Acme Chat',
      composerStrategy: 'auto',
      sendTrigger: 'click',
      maxMessageChars: 1000,
      allowChunks: false,
    });
    expect(a.conversationId(doc)).toBe('room-42');
    expect(a.currentUser(doc)).toBe('alice');
    expect(doc.querySelectorAll(a.selectors.message[0]!)).toHaveLength(1);
    expect(a.defaultMatches).toEqual([]); // policy states the URLs
  });

  it('defaults: strategy auto, Enter sends, chunks allowed', () => {
    const s = clone();
    delete s.composerStrategy;
    delete s.sendTrigger;
    delete s.allowChunks;
    expect(adapterFromSpec(s)).toMatchObject({ composerStrategy: 'auto', sendTrigger: 'enter', allowChunks: true });
  });

  it('reads ids from the URL (first capture group) and from constants', () => {
    const s = clone();
    s.conversationId = { from: 'url', pattern: '/rooms/(\\d+)' };
    s.currentUser = { from: 'constant', value: 'svc-user' };
    const a = adapterFromSpec(s);
    expect(a.conversationId(page('https://acme.example/rooms/42?x=1'))).toBe('42');
    expect(a.conversationId(page('https://acme.example/settings'))).toBeUndefined(); // not a conversation: sending is refused
    expect(a.currentUser(page())).toBe('svc-user');
  });

  it('an element that is missing yields undefined, never an empty id', () => {
    const a = adapterFromSpec(SPEC);
    const { document } = parseHTML('<html><body><section class="thread" data-room="  "></section></body></html>');
    expect(a.conversationId(document as unknown as Document)).toBeUndefined();
    expect(a.currentUser(document as unknown as Document)).toBeUndefined();
  });

  it('one declaration for every employee: the page names authors room@conference/nick, the user as nick@host', () => {
    const s = clone();
    s.authorAttribute = 'data-from';
    s.authorMatch = '/([^/]+)$';
    s.authorTemplate = '$1@example.org';
    s.currentUser = { from: 'url', pattern: '[?&]jid=(?<nick>[^@&]+)@(?<host>[^&#]+)', template: '$<nick>@$<host>' };
    s.conversationId = { from: 'attribute', selector: 'section.thread', attribute: 'data-room', match: '^([^@]+)@' };
    const a = adapterFromSpec(s);
    const { document } = parseHTML(`<html><body><section class="thread" data-room="board@conference.example.org">
      <article class="post" data-from="board@conference.example.org/alice"><p class="body">x</p></article>
      <article class="post" data-from="board@conference.example.org/bob"><p class="body">y</p></article>
      <article class="post" data-from="no-slash-here"><p class="body">z</p></article></section></body></html>`);
    Object.defineProperty(document, 'location', { value: new URL('https://xmpp.example.org/?jid=alice@example.org') });
    const doc = document as unknown as Document;
    expect(a.currentUser(doc)).toBe('alice@example.org');
    expect(a.conversationId(doc)).toBe('board');
    const authors = [...doc.querySelectorAll('article.post')].map((el) => messageAuthor(a, el));
    // What alice's own messages say matches what the page says of her; an author that does not fit
    // the expression has no author (Veil then flags the message rather than trusting it).
    expect(authors).toEqual(['alice@example.org', 'bob@example.org', '']);
  });

  it('templates: $n, $<name>, $$; no match gives no value', () => {
    expect(extract('a-b', /(\w)-(\w)/, '$2$1$$')).toBe('ba$');
    expect(extract('a-b', /(?<x>\w)-/, '<$<x>>')).toBe('<a>');
    expect(extract('a-b', /z/)).toBeUndefined();
    expect(extract('  spaced  ')).toBe('spaced');
    expect(extract('x'.repeat(10_000) + 'TAIL', /TAIL/)).toBeUndefined(); // the page's string is bounded first
  });

  it('copies selector lists (a later policy change cannot mutate a running adapter)', () => {
    const s = clone();
    const a = adapterFromSpec(s);
    s.selectors.composer.push('textarea');
    expect(a.selectors.composer).toEqual(SPEC.selectors.composer);
  });
});

describe('validation: invalid specs are reported, all problems at once', () => {
  it.each([
    ['not an object', 'hello', /must be an object/],
    ['no name', { ...clone(), name: '' }, /name must be/],
    ['unknown field', { ...clone(), colour: 'red' }, /unknown field "colour"/],
    [
      'empty composer list',
      (() => {
        const s = clone();
        s.selectors.composer = [];
        return s;
      })(),
      /selectors.composer must be a non-empty list/,
    ],
    [
      'no way to read the author',
      (() => {
        const s = clone();
        delete s.authorAttribute;
        delete s.selectors.messageAuthor;
        return s;
      })(),
      /how the author is read/,
    ],
    [
      'click without a send button',
      (() => {
        const s = clone();
        delete s.selectors.sendButton;
        return s;
      })(),
      /needs selectors.sendButton/,
    ],
    ['bad strategy', { ...clone(), composerStrategy: 'innerHTML' }, /composerStrategy must be one of/],
    ['bad trigger', { ...clone(), sendTrigger: 'mousedown' }, /sendTrigger must be one of/],
    ['too small a limit', { ...clone(), maxMessageChars: 10 }, /maxMessageChars must be an integer from 64/],
    ['fractional limit', { ...clone(), maxMessageChars: 100.5 }, /maxMessageChars/],
    ['bad source kind', { ...clone(), conversationId: { from: 'cookie' } }, /conversationId.from must be one of/],
    ['url source without pattern', { ...clone(), conversationId: { from: 'url' } }, /needs "pattern"/],
    [
      'url source with a broken regex',
      { ...clone(), conversationId: { from: 'url', pattern: '(' } },
      /not a valid regular expression/,
    ],
    ['a broken authorMatch', { ...clone(), authorMatch: '([' }, /authorMatch is not a valid regular expression/],
    ['authorTemplate without authorMatch', { ...clone(), authorTemplate: '$1' }, /authorTemplate must be/],
    [
      'a broken match on a value source',
      { ...clone(), currentUser: { from: 'text', selector: 'x', match: '(' } },
      /currentUser.match is not a valid regular expression/,
    ],
    [
      'a template with nothing to fill it',
      { ...clone(), currentUser: { from: 'text', selector: 'x', template: '$1' } },
      /currentUser.template needs "match"/,
    ],
    [
      'attribute source without attribute',
      { ...clone(), currentUser: { from: 'attribute', selector: 'x' } },
      /needs "selector" and "attribute"/,
    ],
    ['bad attribute name', { ...clone(), authorAttribute: 'data from' }, /authorAttribute must be an attribute name/],
    ['allowChunks not boolean', { ...clone(), allowChunks: 'yes' }, /allowChunks must be true or false/],
  ])('%s', (_name, spec, message) => {
    const errors = errorsOf(spec);
    expect(errors.join('\n')).toMatch(message);
    expect(() => adapterFromSpec(spec)).toThrow(InvalidCustomAdapterError);
  });

  it('lists every problem, not only the first', () => {
    expect(errorsOf({ ...clone(), name: 1, maxMessageChars: 0, sendTrigger: 'x' }).length).toBeGreaterThanOrEqual(3);
  });

  it('checks CSS selector syntax where a DOM exists (the content script)', () => {
    (globalThis as { document?: unknown }).document = parseHTML('<html></html>').document;
    const s = clone();
    s.selectors.message = ['article[data-x='];
    expect(errorsOf(s).join('\n')).toMatch(/selectors.message: invalid CSS selector "article\[data-x="/);
    expect(errorsOf(SPEC)).toEqual([]);
  });
});

describe('CUSTOM_ADAPTER_JSON_SCHEMA (embedded in the policy schema)', () => {
  it('declares every field the validator accepts (Chromium drops undeclared policy properties)', () => {
    const props = Object.keys(CUSTOM_ADAPTER_JSON_SCHEMA.properties);
    for (const k of Object.keys(SPEC)) expect(props).toContain(k);
    for (const k of Object.keys(SPEC.selectors))
      expect(Object.keys(CUSTOM_ADAPTER_JSON_SCHEMA.properties.selectors.properties)).toContain(k);
  });

  it('uses only the schema subset Chromium understands', () => {
    const allowed = new Set([
      'type',
      'description',
      'properties',
      'items',
      'enum',
      'required',
      'minimum',
      'maximum',
      'pattern',
      'title',
    ]);
    const walk = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (path.endsWith('.properties')) {
          walk(v, `${path}.${k}`);
          continue;
        }
        expect(allowed.has(k), `${path}.${k}`).toBe(true);
        if (k === 'properties' || k === 'items') walk(v, `${path}.${k}`);
      }
    };
    walk(CUSTOM_ADAPTER_JSON_SCHEMA, '$');
  });
});
