/** The one table of request handlers the router dispatches to. */
import type { MessageType } from '../../messaging/protocol';
import type { Handlers } from './common';
import { contentHandlers } from './content';
import { fileHandlers } from './files';
import { isolatedHandlers } from './isolated';
import { isolatedFileHandlers } from './isolated-files';
import { keyHandlers } from './keys';
import { keyServiceHandlers } from './keyservice';
import { policyHandlers } from './policy';
import { searchHandlers } from './search';
import { uiHandlers } from './ui';

export { RequestError, type RequestContext } from './common';

export const handlers: Handlers<MessageType> = {
  ...contentHandlers,
  ...fileHandlers,
  ...keyHandlers,
  ...policyHandlers,
  ...isolatedHandlers,
  ...isolatedFileHandlers,
  ...uiHandlers,
  ...keyServiceHandlers,
  ...searchHandlers,
};
