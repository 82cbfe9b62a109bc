/** Every built-in adapter. Adding a chat = one file + one line here (test/unit/adapters.test.ts checks). */
import { fixtureChat } from './fixture-chat';
import { theLounge } from './thelounge';
import type { SiteAdapter } from './types';

export const BUILTIN_ADAPTERS: readonly SiteAdapter[] = [fixtureChat, theLounge];

export function builtinAdapter(id: string): SiteAdapter | undefined {
  return BUILTIN_ADAPTERS.find((a) => a.id === id);
}
