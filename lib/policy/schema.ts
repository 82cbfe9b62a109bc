/**
 * The one policy schema. Admins write this shape; Chrome/Edge read it through the extension's
 * `storage.managed_schema` (`chromeManagedSchema()` below), Firefox through its `3rdparty` policy
 * or a managed-storage manifest, and Veil validates what arrives with ajv (validate.generated.ts,
 * compiled ahead of time from POLICY_SCHEMA because extension CSP forbids ajv's runtime eval).
 *
 * Descriptions here are the reference text: docs/policy.md is generated from them
 * (`npm run policy:generate`) and a unit test fails when the two drift apart.
 * Pure: no DOM, no browser APIs.
 */
import { CUSTOM_ADAPTER_JSON_SCHEMA } from '../adapters/custom';

/** A policy setting's default for managed installs (unmanaged installs: lib/policy/policy.ts). */
export const MANAGED_DEFAULTS = {
  requireEncryption: true,
  flagUnencrypted: true,
  allowUserKeys: false,
  allowKeyExport: false,
  mode: 'inline',
  attachments: 'encrypt',
  maxAttachmentBytes: 256 * 1024 * 1024,
  localSearch: true,
  localSearchMaxMessages: 100_000,
  previews: 'label',
} as const;

/** Defaults of `keyService`'s optional settings. */
export const KEY_SERVICE_DEFAULTS = {
  groupsClaim: 'groups',
  refreshMinutes: 15,
  offlineGraceHours: 24,
  kem: 'x-wing',
} as const;

const KEY_ID_PATTERN = '^[0-9a-f]{8}$';
/** 32 bytes in standard base64 (with padding): 43 characters and one "=". */
const SECRET_PATTERN = '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$';

export const POLICY_SCHEMA = {
  type: 'object',
  title: 'Veil enterprise policy',
  description: 'Settings an enterprise gives Veil through browser policy (managed storage).',
  properties: {
    protectedSites: {
      type: 'array',
      description:
        'The chats Veil protects. On these URLs every send is encrypted (or blocked), and messages are decrypted. ' +
        'When the policy is managed, only these sites are protected; the chats a user chose no longer apply.',
      items: {
        type: 'object',
        description: 'One protected chat.',
        properties: {
          adapter: {
            type: 'string',
            description: 'A built-in adapter id (for example `fixture-chat`), or `custom` with a `custom` declaration.',
          },
          matches: {
            type: 'array',
            description: 'URL match patterns of the chat, as in WebExtension manifests (`https://chat.example.com/*`).',
            items: { type: 'string' },
            minItems: 1,
          },
          custom: {
            ...CUSTOM_ADAPTER_JSON_SCHEMA,
            description: 'The chat\'s adapter, declared in full (only with `adapter: "custom"`; docs/adapters.md).',
          },
          mode: {
            type: 'string',
            description:
              '`isolated` enforces isolated mode on this chat even when the policy-wide `mode` is `inline`; users cannot turn it off. ' +
              '`inline` (or unset) leaves it to the policy-wide `mode`: a site can only be made stricter here, never looser.',
            enum: ['inline', 'isolated'],
          },
        },
        required: ['adapter', 'matches'],
        additionalProperties: false,
      },
    },
    keys: {
      type: 'array',
      description:
        'Keys the enterprise hands to every user. They appear in the keyring as "policy" keys: users cannot change, ' +
        'delete or (unless `allowKeyExport`) export them. Generate them with `npm run admin -- keys generate`.',
      items: {
        type: 'object',
        description: 'One key.',
        properties: {
          id: {
            type: 'string',
            description: 'Key id on the wire: 8 lowercase hex characters.',
            pattern: KEY_ID_PATTERN,
          },
          secret: {
            type: 'string',
            description:
              'The 32-byte key, base64. Anyone who can read the policy can read this (docs/decisions/0004-policy-keys.md).',
            pattern: SECRET_PATTERN,
            sensitiveValue: true,
          },
          label: {
            type: 'string',
            description: 'Name shown to users, e.g. "Sales team 2025" (at most 200 characters).',
            pattern: '^[^\\n]{1,200}$',
          },
          scope: {
            type: 'object',
            description: 'Which conversations the key encrypts.',
            properties: {
              site: {
                type: 'string',
                description: 'An adapter id from `protectedSites`, or `*` for all of them.',
                pattern: '^\\S+$',
              },
              conversations: {
                type: 'array',
                description: 'Conversation ids or patterns (`*` matches any run of characters).',
                items: { type: 'string', pattern: '^.{1,511}$' },
                minItems: 1,
              },
            },
            required: ['site', 'conversations'],
            additionalProperties: false,
          },
          status: {
            type: 'string',
            description:
              '`active` encrypts and decrypts; `retired` only decrypts history; `revoked` decrypts with a warning.',
            enum: ['active', 'retired', 'revoked'],
          },
          createdAt: {
            type: 'number',
            description:
              'Creation time in milliseconds since 1970; among equally specific active keys the newest encrypts.',
            minimum: 0,
          },
        },
        required: ['id', 'secret', 'label', 'scope', 'status', 'createdAt'],
        additionalProperties: false,
      },
    },
    keyService: {
      type: 'object',
      description:
        "Veil's key service: users sign in through the enterprise identity provider and receive only the keys of " +
        'their groups, wrapped to their browser (docs/key-service.md). No secret in the policy; `keys` may be used next to it.',
      properties: {
        url: {
          type: 'string',
          description: 'Base URL of the key service, `https://` (plain `http://` only on 127.0.0.1 or localhost).',
          pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
        },
        issuer: {
          type: 'string',
          description: "The identity provider's OpenID Connect issuer URL, exactly as in its ID tokens.",
          pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
        },
        clientId: {
          type: 'string',
          description:
            "Veil's OpenID Connect client id at the identity provider (a public client: authorization code with PKCE, no secret).",
          pattern: '^\\S{1,200}$',
        },
        groupsClaim: {
          type: 'string',
          description: "The ID token claim that lists the user's groups (default `groups`).",
          pattern: '^\\S{1,100}$',
          default: KEY_SERVICE_DEFAULTS.groupsClaim,
        },
        refreshMinutes: {
          type: 'number',
          description:
            "How often Veil fetches the user's keys again (joiners, movers and leavers take effect then; default 15).",
          minimum: 1,
          maximum: 1440,
          default: KEY_SERVICE_DEFAULTS.refreshMinutes,
        },
        offlineGraceHours: {
          type: 'number',
          description:
            'How long released keys stay usable while the key service cannot be reached; after that they are deleted and sends are blocked (default 24).',
          minimum: 0,
          maximum: 720,
          default: KEY_SERVICE_DEFAULTS.offlineGraceHours,
        },
        kem: {
          type: 'string',
          description:
            '`x-wing` (default): keys are released under the post-quantum hybrid X-Wing (X25519 + ML-KEM-768); `x25519`: classical only.',
          enum: ['x-wing', 'x25519'],
          default: KEY_SERVICE_DEFAULTS.kem,
        },
      },
      required: ['url', 'issuer', 'clientId'],
      additionalProperties: false,
    },
    requireEncryption: {
      type: 'boolean',
      description:
        'Block every send on a protected site that Veil cannot encrypt (no key for the conversation, Veil not ready).',
      default: MANAGED_DEFAULTS.requireEncryption,
    },
    flagUnencrypted: {
      type: 'boolean',
      description:
        'Mark incoming messages in protected chats that are not encrypted, so nobody mistakes them for protected ones.',
      default: MANAGED_DEFAULTS.flagUnencrypted,
    },
    allowUserKeys: {
      type: 'boolean',
      description: 'Let users generate and import their own keys next to the policy keys.',
      default: MANAGED_DEFAULTS.allowUserKeys,
    },
    allowKeyExport: {
      type: 'boolean',
      description: 'Let users export policy keys into a passphrase bundle (for example to read an archive elsewhere).',
      default: MANAGED_DEFAULTS.allowKeyExport,
    },
    attachments: {
      type: 'string',
      description:
        'Files attached in a protected chat (picker, drag and drop, paste). `encrypt`: Veil encrypts each file before the chat ' +
        'can upload it. `block`: attaching is refused. `allow`: files go to the chat as they are (plaintext).',
      enum: ['encrypt', 'block', 'allow'],
      default: MANAGED_DEFAULTS.attachments,
    },
    maxAttachmentBytes: {
      type: 'integer',
      description: 'The largest file, in bytes, Veil encrypts; larger ones are refused.',
      minimum: 0,
      maximum: 4294967295,
      default: MANAGED_DEFAULTS.maxAttachmentBytes,
    },
    localSearch: {
      type: 'boolean',
      description:
        "Let users search the messages they have read decrypted (Veil's popup). The index stays in the browser, encrypted " +
        'under the device-bound key; `false` keeps nothing and erases an existing index.',
      default: MANAGED_DEFAULTS.localSearch,
    },
    localSearchMaxMessages: {
      type: 'integer',
      description: 'How many messages the local search index holds at most; the oldest are dropped first.',
      minimum: 100,
      maximum: 1000000,
      default: MANAGED_DEFAULTS.localSearchMaxMessages,
    },
    previews: {
      type: 'string',
      description:
        'What Veil shows where the chat shows a message outside the message list (conversation list, page title, ' +
        'notifications). `label`: "🔒 Encrypted message". `decrypt`: the decrypted text in the conversation list of ' +
        'inline-mode chats whose adapter says which conversation a preview belongs to (the chat page can read it ' +
        'there, as it reads the open conversation); the page title (kept in browser history), notifications and ' +
        'isolated-mode chats always get the label.',
      enum: ['label', 'decrypt'],
      default: MANAGED_DEFAULTS.previews,
    },
    mode: {
      type: 'string',
      description:
        "`inline`: plaintext is typed and shown in the chat page. `isolated`: only in Veil's own frames (docs/isolated-mode.md).",
      enum: ['inline', 'isolated'],
      default: MANAGED_DEFAULTS.mode,
    },
  },
  required: ['protectedSites'],
  additionalProperties: false,
} as const;

/**
 * Keywords Chromium's schema parser knows. It refuses to load an extension whose managed_schema
 * uses any other, and it drops a policy value that fails a rule instead of passing it on, which
 * would hide the admin's mistake from Veil. So the Chrome copy keeps only structure and types;
 * the finer rules (enum, pattern, bounds, required) are Veil's to check and report.
 */
const CHROME_KEYWORDS = new Set(['type', 'title', 'description', 'properties', 'items', 'sensitiveValue']);

function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (!CHROME_KEYWORDS.has(k)) continue;
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([name, sub]) => [name, strip(sub)]))
        : strip(v);
  }
  return out;
}

/** The content of managed_schema.json in the Chrome build. */
export function chromeManagedSchema(): object {
  return strip(POLICY_SCHEMA) as object;
}
