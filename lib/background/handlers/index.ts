/** The one table of request handlers the router dispatches to. */
import type { MessageType } from '../../messaging/protocol';
import type { Handlers } from './common';
import { contentHandlers } from './content';
import { isolatedHandlers } from './isolated';
import { keyHandlers } from './keys';
import { policyHandlers } from './policy';
import { uiHandlers } from './ui';

export { RequestError, type RequestContext } from './common';

export const handlers: Handlers<MessageType> = {
  ...contentHandlers,
  ...keyHandlers,
  ...policyHandlers,
  ...isolatedHandlers,
  ...uiHandlers,
};
