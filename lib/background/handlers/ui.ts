/**
 * Requests that open Veil's own pages for a protected page: a blocked send offers its
 * fix ("Unlock Veil", "Open Veil options"), and content scripts cannot open extension pages
 * themselves. Only a known section name crosses; nothing comes back but ok.
 */
import browser from 'webextension-polyfill';
import { OPTIONS_SECTIONS } from '../../messaging/protocol';
import { type Handlers, RequestError } from './common';

export const uiHandlers: Handlers<'ui/open-options'> = {
  async 'ui/open-options'(req, ctx) {
    if (!OPTIONS_SECTIONS.includes(req.section)) throw new RequestError('unknown section');
    // Next to the chat's tab, so closing the options page brings the user back to their message.
    const opener = ctx.frame?.tabId;
    await browser.tabs.create({
      url: browser.runtime.getURL(`/options.html#${req.section}`),
      ...(opener !== undefined ? { openerTabId: opener } : {}),
    });
    return { ok: true };
  },
};
