/** Requests from Veil's own pages about the policy in force. */
import { policy } from '../policy-source';
import type { Handlers } from './common';

export const policyHandlers: Handlers<'policy/get'> = {
  async 'policy/get'() {
    return { ok: true, policy: policy() };
  },
};
