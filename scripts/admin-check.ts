/**
 * Everything the admin CLI checks in a policy before it writes or accepts a file, reported all at
 * once so an admin fixes a policy in one round: the extension's own check (schema, then the rules a
 * schema cannot state), those rules again on whatever parts are well-formed when the schema already
 * failed (the extension stops at the schema), and the CSS selectors of custom adapters, which only a
 * DOM can parse (the background has none, so the extension would only find out in employees' tabs).
 */
import { parseHTML } from 'linkedom';
import { BUILTIN_ADAPTERS } from '../lib/adapters/registry';
import { type ManagedPolicyJson, parseManagedPolicy, semanticProblems } from '../lib/policy/parse';
import type { PolicyProblem } from '../lib/policy/policy';

export interface PolicyCheck {
  errors: PolicyProblem[];
  /** Things the CLI could not judge; the admin should try them in a browser. */
  warnings: PolicyProblem[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A copy of the policy in which every part the schema refused is replaced by a harmless stand-in
 * at the same index, so the semantic rules can run and their paths still point at the admin's file.
 */
function salvage(raw: Record<string, unknown>): ManagedPolicyJson {
  const harmlessAdapter = BUILTIN_ADAPTERS[0]!.id;
  const sites = Array.isArray(raw.protectedSites) ? raw.protectedSites : [];
  const keys = Array.isArray(raw.keys) ? raw.keys : [];
  return {
    protectedSites: sites.map((s: unknown) => {
      const site = isObj(s) ? s : {};
      const custom = site.custom;
      return {
        adapter: typeof site.adapter === 'string' ? site.adapter : custom !== undefined ? 'custom' : harmlessAdapter,
        matches: Array.isArray(site.matches) ? site.matches.map((m) => (typeof m === 'string' ? m : '<all_urls>')) : [],
        ...(custom !== undefined ? { custom: custom as never } : {}),
      };
    }),
    keys: keys.map((k: unknown, i) => {
      const key = isObj(k) ? k : {};
      const scope = isObj(key.scope) ? key.scope : {};
      return {
        id: typeof key.id === 'string' ? key.id : `\0not-an-id-${i}`,
        secret: '',
        label: '',
        scope: { site: typeof scope.site === 'string' ? scope.site : '*', conversations: [] },
        status: 'active' as const,
        createdAt: 0,
      };
    }),
  };
}

/** Problems a browser will report for a selector; linkedom's gaps become warnings, not errors. */
function selectorProblem(doc: Document, selector: string): { error?: string; warning?: string } {
  const s = selector.trim();
  // linkedom accepts a dangling combinator; every browser's querySelector throws on it.
  if (/^[>+~]|[>+~,]$/.test(s)) return { error: 'starts or ends with a combinator' };
  try {
    doc.createDocumentFragment().querySelector(s);
    return {};
  } catch (e) {
    const message = (e as Error).message.split('\n')[0] ?? String(e);
    // linkedom knows fewer pseudo-classes and no pseudo-elements; browsers may accept them.
    if (/Unknown pseudo-class|Pseudo-elements are not supported/.test(message))
      return { warning: `could not check "${selector}" here (${message}); try it in the chat's page` };
    return { error: message };
  }
}

function selectorChecks(raw: Record<string, unknown>, out: PolicyCheck): void {
  const sites = Array.isArray(raw.protectedSites) ? raw.protectedSites : [];
  let doc: Document | undefined;
  sites.forEach((s: unknown, i) => {
    if (!isObj(s) || !isObj(s.custom)) return;
    const at = `protectedSites[${i}].custom`;
    const found: [string, string][] = [];
    if (isObj(s.custom.selectors)) {
      for (const [name, list] of Object.entries(s.custom.selectors)) {
        if (Array.isArray(list))
          list.forEach((sel, j) => typeof sel === 'string' && found.push([`${at}.selectors.${name}[${j}]`, sel]));
      }
    }
    for (const source of ['conversationId', 'currentUser']) {
      const src = s.custom[source];
      if (isObj(src) && (src.from === 'attribute' || src.from === 'text') && typeof src.selector === 'string')
        found.push([`${at}.${source}.selector`, src.selector]);
    }
    for (const [path, selector] of found) {
      doc ??= parseHTML('<!doctype html><html><body></body></html>').document as unknown as Document;
      const { error, warning } = selectorProblem(doc, selector);
      if (error) out.errors.push({ path, message: `invalid CSS selector "${selector}" (${error})` });
      if (warning) out.warnings.push({ path, message: warning });
    }
  });
}

export function checkPolicy(raw: unknown): PolicyCheck {
  const out: PolicyCheck = { errors: [...parseManagedPolicy(raw).policy.errors], warnings: [] };
  if (!isObj(raw)) return out;
  const seen = new Set(out.errors.map((p) => `${p.path}\n${p.message}`));
  for (const p of semanticProblems(salvage(raw))) {
    const id = `${p.path}\n${p.message}`;
    if (!seen.has(id)) out.errors.push(p);
    seen.add(id);
  }
  selectorChecks(raw, out);
  return out;
}
