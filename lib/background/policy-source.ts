/**
 * Where the policy in force comes from. Issue #4 reads enterprise managed storage here; until a
 * managed policy exists, unmanaged installs use the defaults.
 */
import { DEFAULT_POLICY, type Policy } from '../policy/policy';

let current: Policy = DEFAULT_POLICY;
const listeners = new Set<(p: Policy) => void>();

export function policy(): Policy {
  return current;
}

export function onPolicyChange(fn: (p: Policy) => void): void {
  listeners.add(fn);
}

export function setPolicy(p: Policy): void {
  current = p;
  for (const fn of listeners) fn(p);
}
