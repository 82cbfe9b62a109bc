/**
 * Words for where a key or site applies ("dm-alice-bob, ch-general on Fixture chat"), shared by the
 * composer line, the popup and the options page so every surface names a key scope the same way.
 */
import { BUILTIN_ADAPTERS } from '../adapters/registry';
import type { KeyScope } from '../keys/model';
import type { ProtectedSite } from '../policy/policy';
import { t } from './index';

export function adapterName(id: string): string {
  if (id === '*') return t('scopeEverySite');
  return BUILTIN_ADAPTERS.find((a) => a.id === id)?.name ?? id;
}

export function siteName(s: ProtectedSite): string {
  if (s.adapter === 'custom') return s.custom?.name ?? t('scopeCustomChat');
  return adapterName(s.adapter);
}

export function scopeText(scope: KeyScope): string {
  const conversations = scope.conversations.includes('*') ? t('scopeAllConversations') : scope.conversations.join(', ');
  return t('scopeOn', conversations, adapterName(scope.site));
}
