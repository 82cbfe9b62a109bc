/**
 * "Sign in to Veil" from the line under a protected chat's composer (the content script sends it
 * only on the user's own, trusted click) or from Veil's options page, which also shows the key
 * service's state and fetches the keys again on request. The sign-in itself happens in the
 * browser's identity window, which the page cannot see into. Nothing but the outcome comes back.
 */
import { keyServiceView, refreshNow, signIn } from '../keyservice';
import type { Handlers } from './common';

export const keyServiceHandlers: Handlers<'keyservice/sign-in' | 'keyservice/status' | 'keyservice/refresh'> = {
  async 'keyservice/sign-in'() {
    const block = await signIn();
    return { ok: true, ...(block ? { blocked: block.message } : {}) };
  },
  async 'keyservice/status'() {
    return { ok: true, ...(await keyServiceView()) };
  },
  // From Veil's options page only (the router checks the caller): the user's own click there.
  async 'keyservice/refresh'(req) {
    if (req.signIn) await signIn();
    else await refreshNow();
    return { ok: true, ...(await keyServiceView()) };
  },
};
