/**
 * The custom adapter: an admin protects a chat Veil has never seen by declaring, in policy JSON, the
 * same facts a built-in adapter states in code (docs/adapters.md has the field reference and a
 * worked example).
 *
 * The spec comes from managed storage, i.e. from outside the extension's code, so it is validated in
 * full before use. A spec that does not validate yields no adapter; the content script then blocks
 * sending on the site (fail closed) and says why.
 *
 * Pure module: no DOM at import time (the background imports it for the policy schema).
 */
import {
  EXTRA_COMPOSER_KINDS,
  type ComposerStrategy,
  type ExtraComposer,
  type SendTrigger,
  type SiteAdapter,
} from './types';

/** Where a string the page knows (conversation id, signed-in user) is read from. */
export interface ValueSource {
  /**
   * - `url`: a regular expression run on `location.href`; the first capture group (or the whole match).
   * - `attribute`: `attribute` of the first element matching `selector`.
   * - `text`: trimmed text of the first element matching `selector`.
   * - `constant`: `value` as given (e.g. one fixed room, or a user id the page never shows).
   *
   * Then, optionally, `match` (a regular expression; `url` uses `pattern` for this) picks a part
   * of that value, and `template` builds the result from its groups (`$1`, `$<name>`); without a
   * template the first group (or the whole match) is the value. No match: no value (fail closed).
   */
  from: 'url' | 'attribute' | 'text' | 'constant';
  /** CSS selector (`attribute`, `text`). */
  selector?: string;
  /** Attribute name (`attribute`). */
  attribute?: string;
  /** JavaScript regular expression source (`url`). */
  pattern?: string;
  /** The value (`constant`). */
  value?: string;
  /** JavaScript regular expression applied to the value read (`attribute`, `text`, `constant`). */
  match?: string;
  /** Builds the final value from the match's groups, e.g. `$1@example.com`. */
  template?: string;
}

export interface CustomAdapterSpec {
  /** Shown to users and in errors, e.g. "Acme Chat". */
  name: string;
  selectors: {
    /** The compose box: a textarea, an input or a contenteditable editor root. */
    composer: string[];
    /** Buttons that send (may be empty when the chat sends on Enter only). */
    sendButton?: string[];
    /** Each rendered message. */
    message: string[];
    /** Inside a message: the element holding the body text. */
    messageText: string[];
    /** Inside a message: the author's display name (when `authorAttribute` is not set). */
    messageAuthor?: string[];
    /** Where the page shows message text outside the list (conversation list, thread previews). */
    previews?: string[];
    /** The chat's own file input, where isolated mode hands an encrypted file. */
    fileInput?: string[];
  };
  /** Attribute on the message element holding the author's id (preferred over `messageAuthor`). */
  authorAttribute?: string;
  /**
   * Regular expression run on the author the page shows, so one declaration serves everyone when
   * the page names authors differently from the signed-in user (`room@conf.example/nick`).
   */
  authorMatch?: string;
  /** Builds the author id from `authorMatch`'s groups (`$1`, `$<name>`); default: first group. */
  authorTemplate?: string;
  /** Attribute on the message element holding the host's message id (optional). */
  messageIdAttribute?: string;
  /** Attribute on a preview or its nearest ancestor holding its conversation's id (policy `previews: "decrypt"`). */
  previewConversationAttribute?: string;
  /** How the id of the open conversation is read; must be equal for every member. */
  conversationId: ValueSource;
  /** How the signed-in user's id is read; must equal what other members see as the author. */
  currentUser: ValueSource;
  /** How text goes into the composer; `auto` picks by editor and verifies (the default). */
  composerStrategy?: ComposerStrategy;
  /** How Veil triggers the chat's own send: `enter` (default) or `click` on the send button. */
  sendTrigger?: SendTrigger;
  /** Longest message the chat carries unchanged, in characters (at least 64). */
  maxMessageChars: number;
  /** Whether a longer message may travel as several messages (default true). */
  allowChunks?: boolean;
  /** Compose boxes besides the main one (edit box, thread reply box); undeclared boxes take no typing. */
  extraComposers?: CustomExtraComposer[];
}

export interface CustomExtraComposer {
  kind: ExtraComposer['kind'];
  composer: string[];
  sendButton?: string[];
  composerStrategy?: ComposerStrategy;
  sendTrigger?: SendTrigger;
}

const STRATEGIES: ComposerStrategy[] = ['auto', 'textarea', 'contenteditable', 'beforeinput', 'paste'];
const TRIGGERS: SendTrigger[] = ['enter', 'click'];
const SOURCES: ValueSource['from'][] = ['url', 'attribute', 'text', 'constant'];

const selectorList = (description: string) => ({ type: 'array', description, items: { type: 'string' } });
const valueSource = (description: string) => ({
  type: 'object',
  description,
  properties: {
    from: { type: 'string', enum: SOURCES },
    selector: { type: 'string' },
    attribute: { type: 'string' },
    pattern: { type: 'string' },
    value: { type: 'string' },
    match: { type: 'string' },
    template: { type: 'string' },
  },
  required: ['from'],
});

/**
 * JSON schema for one CustomAdapterSpec. Written in the subset Chromium's managed_schema accepts (no
 * oneOf/anyOf/$defs, no boolean additionalProperties, every property declared, since Chromium drops
 * undeclared ones); the finer rules (which fields each `from` needs, selector syntax, regex syntax)
 * are enforced by validateCustomAdapterSpec.
 */
export const CUSTOM_ADAPTER_JSON_SCHEMA = {
  type: 'object',
  description: 'A chat adapter declared in policy (docs/adapters.md).',
  properties: {
    name: { type: 'string', description: 'Display name of the chat.' },
    selectors: {
      type: 'object',
      properties: {
        composer: selectorList('CSS selectors (alternatives) for the compose box.'),
        sendButton: selectorList('CSS selectors (alternatives) for the send button.'),
        message: selectorList('CSS selectors (alternatives) for one rendered message.'),
        messageText: selectorList('CSS selectors, inside a message, for its body text.'),
        messageAuthor: selectorList('CSS selectors, inside a message, for its author name.'),
        previews: selectorList('CSS selectors for message previews outside the list (conversation list).'),
        fileInput: selectorList(
          "CSS selectors for the chat's own file input (<input type=file>): isolated mode gives it the encrypted " +
            'file the user attached in the secure composer. Without it, the first file input on the page; a chat ' +
            'with none gets the file as a paste into its compose box.',
        ),
      },
      required: ['composer', 'message', 'messageText'],
    },
    authorAttribute: { type: 'string', description: 'Attribute of the message element holding the author id.' },
    authorMatch: {
      type: 'string',
      description: 'Regular expression picking the author id out of what the page shows.',
    },
    authorTemplate: { type: 'string', description: 'Builds the author id from authorMatch groups ($1, $<name>).' },
    messageIdAttribute: { type: 'string', description: 'Attribute of the message element holding the message id.' },
    previewConversationAttribute: {
      type: 'string',
      description:
        "Attribute, on a preview or its nearest ancestor, holding the id of the preview's conversation (as `conversationId` " +
        'reads it when that conversation is open); lets policy `previews: "decrypt"` show decrypted previews.',
    },
    conversationId: valueSource('Where the open conversation id is read.'),
    currentUser: valueSource('Where the signed-in user id is read.'),
    composerStrategy: { type: 'string', enum: STRATEGIES },
    sendTrigger: { type: 'string', enum: TRIGGERS },
    maxMessageChars: { type: 'integer', minimum: 64, maximum: 1000000 },
    allowChunks: { type: 'boolean' },
    extraComposers: {
      type: 'array',
      description: 'Compose boxes besides the main one: the edit box of a sent message, a thread reply box.',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: EXTRA_COMPOSER_KINDS },
          composer: selectorList('CSS selectors (alternatives) for the box.'),
          sendButton: selectorList('CSS selectors for its send or save button (the nearest is used).'),
          composerStrategy: { type: 'string', enum: STRATEGIES },
          sendTrigger: { type: 'string', enum: TRIGGERS },
        },
        required: ['kind', 'composer'],
      },
    },
  },
  required: ['name', 'selectors', 'conversationId', 'currentUser', 'maxMessageChars'],
} as const;

export type SpecCheck = { ok: true; spec: CustomAdapterSpec } | { ok: false; errors: string[] };

/** Full validation of untrusted policy input. Collects every problem, so the admin sees them all at once. */
export function validateCustomAdapterSpec(input: unknown): SpecCheck {
  const errors: string[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(input)) return { ok: false, errors: ['custom adapter must be an object'] };
  const s = input;
  if (typeof s.name !== 'string' || !s.name.trim()) errors.push('name must be a non-empty string');

  const known = new Set(Object.keys(CUSTOM_ADAPTER_JSON_SCHEMA.properties));
  for (const k of Object.keys(s)) if (!known.has(k)) errors.push(`unknown field "${k}"`);

  const checkSelectors = (path: string, v: unknown, required: boolean) => {
    if (v === undefined && !required) return;
    if (!Array.isArray(v) || (required && v.length === 0) || !v.every((x) => typeof x === 'string' && x.trim())) {
      errors.push(`${path} must be a ${required ? 'non-empty ' : ''}list of CSS selectors`);
      return;
    }
    for (const sel of v as string[]) {
      const problem = selectorProblem(sel);
      if (problem) errors.push(`${path}: invalid CSS selector "${sel}" (${problem})`);
    }
  };
  if (!isObj(s.selectors)) errors.push('selectors must be an object');
  else {
    const sel = s.selectors;
    const knownSel = new Set(Object.keys(CUSTOM_ADAPTER_JSON_SCHEMA.properties.selectors.properties));
    for (const k of Object.keys(sel)) if (!knownSel.has(k)) errors.push(`unknown field "selectors.${k}"`);
    checkSelectors('selectors.composer', sel.composer, true);
    checkSelectors('selectors.sendButton', sel.sendButton, false);
    checkSelectors('selectors.message', sel.message, true);
    checkSelectors('selectors.messageText', sel.messageText, true);
    checkSelectors('selectors.messageAuthor', sel.messageAuthor, false);
    checkSelectors('selectors.previews', sel.previews, false);
    checkSelectors('selectors.fileInput', sel.fileInput, false);
    const hasAuthorSel = Array.isArray(sel.messageAuthor) && sel.messageAuthor.length > 0;
    if (!hasAuthorSel && typeof s.authorAttribute !== 'string') {
      errors.push('say how the author is read: authorAttribute or selectors.messageAuthor');
    }
    if (s.sendTrigger === 'click' && !(Array.isArray(sel.sendButton) && sel.sendButton.length > 0)) {
      errors.push('sendTrigger "click" needs selectors.sendButton');
    }
  }
  for (const k of ['authorAttribute', 'messageIdAttribute', 'previewConversationAttribute'] as const) {
    if (s[k] !== undefined && (typeof s[k] !== 'string' || !/^[A-Za-z_:][-A-Za-z0-9_:.]*$/.test(s[k] as string))) {
      errors.push(`${k} must be an attribute name`);
    }
  }
  if (s.authorMatch !== undefined) regexProblem('authorMatch', s.authorMatch, errors);
  if (s.authorTemplate !== undefined && (typeof s.authorTemplate !== 'string' || s.authorMatch === undefined))
    errors.push('authorTemplate must be a string, used with authorMatch');
  for (const k of ['conversationId', 'currentUser'] as const) checkSource(k, s[k], errors);
  if (s.composerStrategy !== undefined && !STRATEGIES.includes(s.composerStrategy as ComposerStrategy)) {
    errors.push(`composerStrategy must be one of ${STRATEGIES.join(', ')}`);
  }
  if (s.sendTrigger !== undefined && !TRIGGERS.includes(s.sendTrigger as SendTrigger)) {
    errors.push(`sendTrigger must be one of ${TRIGGERS.join(', ')}`);
  }
  if (
    !Number.isInteger(s.maxMessageChars) ||
    (s.maxMessageChars as number) < 64 ||
    (s.maxMessageChars as number) > 1_000_000
  ) {
    errors.push('maxMessageChars must be an integer from 64 to 1000000');
  }
  if (s.allowChunks !== undefined && typeof s.allowChunks !== 'boolean')
    errors.push('allowChunks must be true or false');
  if (s.extraComposers !== undefined) {
    if (!Array.isArray(s.extraComposers)) errors.push('extraComposers must be a list');
    else s.extraComposers.forEach((x, i) => checkExtraComposer(`extraComposers[${i}]`, x, checkSelectors, errors));
  }
  return errors.length ? { ok: false, errors } : { ok: true, spec: input as unknown as CustomAdapterSpec };
}

function checkExtraComposer(
  path: string,
  v: unknown,
  checkSelectors: (path: string, v: unknown, required: boolean) => void,
  errors: string[],
): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    errors.push(`${path} must be an object`);
    return;
  }
  const x = v as Record<string, unknown>;
  const known = Object.keys(CUSTOM_ADAPTER_JSON_SCHEMA.properties.extraComposers.items.properties);
  for (const k of Object.keys(x)) if (!known.includes(k)) errors.push(`unknown field "${path}.${k}"`);
  if (!EXTRA_COMPOSER_KINDS.includes(x.kind as ExtraComposer['kind']))
    errors.push(`${path}.kind must be one of ${EXTRA_COMPOSER_KINDS.join(', ')}`);
  checkSelectors(`${path}.composer`, x.composer, true);
  checkSelectors(`${path}.sendButton`, x.sendButton, false);
  if (x.composerStrategy !== undefined && !STRATEGIES.includes(x.composerStrategy as ComposerStrategy))
    errors.push(`${path}.composerStrategy must be one of ${STRATEGIES.join(', ')}`);
  if (x.sendTrigger !== undefined && !TRIGGERS.includes(x.sendTrigger as SendTrigger))
    errors.push(`${path}.sendTrigger must be one of ${TRIGGERS.join(', ')}`);
  if (x.sendTrigger === 'click' && !(Array.isArray(x.sendButton) && x.sendButton.length > 0))
    errors.push(`${path}: sendTrigger "click" needs sendButton`);
}

function checkSource(path: string, v: unknown, errors: string[]): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    errors.push(`${path} must be an object with "from"`);
    return;
  }
  const src = v as Record<string, unknown>;
  for (const k of Object.keys(src)) {
    if (!['from', 'selector', 'attribute', 'pattern', 'value', 'match', 'template'].includes(k))
      errors.push(`unknown field "${path}.${k}"`);
  }
  const str = (k: string) => typeof src[k] === 'string' && (src[k] as string).length > 0;
  switch (src.from) {
    case 'url':
      if (!str('pattern')) errors.push(`${path}: from "url" needs "pattern"`);
      else {
        try {
          new RegExp(src.pattern as string);
        } catch (e) {
          errors.push(`${path}.pattern is not a valid regular expression (${(e as Error).message})`);
        }
      }
      break;
    case 'attribute':
      if (!str('selector') || !str('attribute'))
        errors.push(`${path}: from "attribute" needs "selector" and "attribute"`);
      break;
    case 'text':
      if (!str('selector')) errors.push(`${path}: from "text" needs "selector"`);
      break;
    case 'constant':
      if (!str('value')) errors.push(`${path}: from "constant" needs "value"`);
      break;
    default:
      errors.push(`${path}.from must be one of ${SOURCES.join(', ')}`);
  }
  if (src.match !== undefined) {
    if (src.from === 'url') errors.push(`${path}: from "url" takes its regular expression in "pattern", not "match"`);
    else regexProblem(`${path}.match`, src.match, errors);
  }
  if (src.template !== undefined && typeof src.template !== 'string') errors.push(`${path}.template must be a string`);
  if (src.template !== undefined && src.from !== 'url' && src.match === undefined)
    errors.push(`${path}.template needs "match"`);
  if (typeof src.selector === 'string' && src.from !== 'url' && src.from !== 'constant') {
    const problem = selectorProblem(src.selector);
    if (problem) errors.push(`${path}.selector: invalid CSS selector "${src.selector}" (${problem})`);
  }
}

function regexProblem(path: string, v: unknown, errors: string[]): void {
  if (typeof v !== 'string' || !v) {
    errors.push(`${path} must be a regular expression`);
    return;
  }
  try {
    new RegExp(v);
  } catch (e) {
    errors.push(`${path} is not a valid regular expression (${(e as Error).message})`);
  }
}

/**
 * What the page controls is bounded before an admin's expression runs on it, so a careless
 * expression cannot be made to backtrack for long.
 */
const MAX_MATCHED_CHARS = 512;

/** `match` then `template` ("$1", "$<name>", "$$"); undefined when the value does not fit. */
export function extract(value: string | undefined, match?: RegExp, template?: string): string | undefined {
  if (value === undefined) return undefined;
  if (!match) return value.trim() || undefined;
  const m = match.exec(value.slice(0, MAX_MATCHED_CHARS));
  if (!m) return undefined;
  const out =
    template === undefined
      ? (m[1] ?? m[0])
      : template.replace(/\$(\$|\d{1,2}|<([A-Za-z_]\w*)>)/g, (_all, tok: string, name?: string) =>
          tok === '$' ? '$' : name ? (m.groups?.[name] ?? '') : (m[Number(tok)] ?? ''),
        );
  return out.trim() || undefined;
}

/** Selector syntax can only be checked where a DOM exists (content script, tests); the background skips it. */
function selectorProblem(selector: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  try {
    document.createDocumentFragment().querySelector(selector);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

export class InvalidCustomAdapterError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid custom adapter: ${errors.join('; ')}`);
  }
}

function reader(src: ValueSource): (doc: Document) => string | undefined {
  const match = src.from === 'url' ? new RegExp(src.pattern!) : src.match ? new RegExp(src.match) : undefined;
  const pick = (v: string | null | undefined) => extract(v ?? undefined, match, src.template);
  switch (src.from) {
    case 'url':
      return (doc) => pick(doc.location?.href ?? '');
    case 'attribute':
      return (doc) => pick(doc.querySelector(src.selector!)?.getAttribute(src.attribute!));
    case 'text':
      return (doc) => pick(doc.querySelector(src.selector!)?.textContent);
    case 'constant':
      return () => pick(src.value);
  }
}

function authorNormalizer(spec: CustomAdapterSpec): SiteAdapter['normalizeAuthor'] {
  if (!spec.authorMatch) return undefined;
  const re = new RegExp(spec.authorMatch);
  return (raw) => extract(raw, re, spec.authorTemplate);
}

/** Turns a policy spec into a SiteAdapter. Throws InvalidCustomAdapterError (callers fail closed). */
export function adapterFromSpec(input: unknown): SiteAdapter {
  const check = validateCustomAdapterSpec(input);
  if (!check.ok) throw new InvalidCustomAdapterError(check.errors);
  const spec = check.spec;
  return {
    id: 'custom',
    name: spec.name,
    defaultMatches: [], // policy states the URLs of a custom site
    selectors: {
      composer: [...spec.selectors.composer],
      sendButton: [...(spec.selectors.sendButton ?? [])],
      message: [...spec.selectors.message],
      messageText: [...spec.selectors.messageText],
      messageAuthor: [...(spec.selectors.messageAuthor ?? [])],
      previews: [...(spec.selectors.previews ?? [])],
      fileInput: [...(spec.selectors.fileInput ?? [])],
    },
    authorAttribute: spec.authorAttribute,
    normalizeAuthor: authorNormalizer(spec),
    messageIdAttribute: spec.messageIdAttribute,
    previewConversationAttribute: spec.previewConversationAttribute,
    currentUser: reader(spec.currentUser),
    conversationId: reader(spec.conversationId),
    composerStrategy: spec.composerStrategy ?? 'auto',
    sendTrigger: spec.sendTrigger ?? 'enter',
    maxMessageChars: spec.maxMessageChars,
    allowChunks: spec.allowChunks ?? true,
    extraComposers: (spec.extraComposers ?? []).map((x) => ({
      kind: x.kind,
      composer: [...x.composer],
      sendButton: [...(x.sendButton ?? [])],
      composerStrategy: x.composerStrategy ?? 'auto',
      sendTrigger: x.sendTrigger ?? 'enter',
    })),
  };
}
