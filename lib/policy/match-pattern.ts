/**
 * WebExtension match patterns (`scheme://host/path`, `*` wildcards), as browsers apply them to
 * content scripts, so Veil's own site decisions agree with where its content script runs.
 * As in browsers, a pattern without a port matches every port. Pure.
 */
import { globMatch } from '../keys/model';

export function matchesPattern(pattern: string, url: string): boolean {
  if (pattern === '<all_urls>') return /^(https?|file):/.test(url);
  const m = /^(\*|https?|wss?|file):\/\/(\*|(?:\*\.)?[^/*:]*)(?::(\d+|\*))?(\/.*)$/.exec(pattern);
  if (!m) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const [, scheme, host, port, path] = m as unknown as [string, string, string, string | undefined, string];
  const proto = u.protocol.slice(0, -1);
  if (scheme === '*' ? !['http', 'https'].includes(proto) : scheme !== proto) return false;
  if (host !== '*') {
    if (host.startsWith('*.')) {
      const base = host.slice(2);
      if (u.hostname !== base && !u.hostname.endsWith(`.${base}`)) return false;
    } else if (u.hostname !== host) return false;
  }
  if (port && port !== '*' && u.port !== port) return false;
  // The page controls the URL: match in linear time, never with a backtracking expression.
  return globMatch(path, u.pathname + u.search);
}

export function isValidPattern(pattern: string): boolean {
  return (
    pattern === '<all_urls>' || /^(\*|https?|wss?|file):\/\/(\*|(?:\*\.)?[^/*:]*)(?::(\d+|\*))?\/.*$/.test(pattern)
  );
}
