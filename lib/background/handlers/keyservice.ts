/**
 * "Sign in to Veil" from the line under a protected chat's composer. The content script sends it
 * only on the user's own (trusted) click; the sign-in itself happens in the browser's identity
 * window, which the page cannot see into. Nothing but the outcome comes back.
 */
import { signIn } from '../keyservice';
import type { Handlers } from './common';

export const keyServiceHandlers: Handlers<'keyservice/sign-in'> = {
  async 'keyservice/sign-in'() {
    const block = await signIn();
    return { ok: true, ...(block ? { blocked: block.message } : {}) };
  },
};
