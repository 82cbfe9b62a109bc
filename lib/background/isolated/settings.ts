/**
 * Isolated mode's settings, owned by the background: the user's security indicator and the sites
 * the user opted into isolated mode. Kept in the extension's own IndexedDB, not storage.local:
 * content scripts can read storage.local, and the indicator must never reach anything that runs in
 * the page's renderer next to the page. Cached in memory; a service-worker restart reloads it.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { randomBytes } from '@noble/ciphers/utils.js';
import { randomIndicator, type SecurityIndicator } from '../../messaging/indicator';
import type { SiteMode } from '../../policy/site-mode';

interface IsolatedDB extends DBSchema {
  settings: {
    key: string;
    value: { id: 'indicator'; indicator: SecurityIndicator } | { id: 'site-modes'; modes: Record<string, SiteMode> };
  };
}

export interface IsolatedSettings {
  indicator: SecurityIndicator;
  siteModes: Record<string, SiteMode>;
}

/** Uniform random integer below n (n small), from the CSPRNG. */
function randomBelow(n: number): number {
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  for (;;) {
    const [a, b, c, d] = randomBytes(4);
    const v = ((a! << 24) >>> 0) + (b! << 16) + (c! << 8) + d!;
    if (v < limit) return v % n;
  }
}

export class IsolatedSettingsStore {
  private db?: Promise<IDBPDatabase<IsolatedDB>>;
  private cache?: Promise<IsolatedSettings>;

  constructor(private readonly name = 'veil-isolated') {}

  private open(): Promise<IDBPDatabase<IsolatedDB>> {
    this.db ??= openDB<IsolatedDB>(this.name, 1, {
      upgrade: (db) => {
        db.createObjectStore('settings', { keyPath: 'id' });
      },
    });
    return this.db;
  }

  get(): Promise<IsolatedSettings> {
    this.cache ??= (async () => {
      const db = await this.open();
      const ind = await db.get('settings', 'indicator');
      const modes = await db.get('settings', 'site-modes');
      let indicator = ind && 'indicator' in ind ? ind.indicator : undefined;
      if (!indicator) {
        // First use: a random indicator nobody else knows, stored so it stays the same.
        indicator = randomIndicator(randomBelow);
        await db.put('settings', { id: 'indicator', indicator });
      }
      return { indicator, siteModes: modes && 'modes' in modes ? modes.modes : {} };
    })().catch((e) => {
      this.cache = undefined; // a failed read must not stick
      throw e;
    });
    return this.cache;
  }

  async setIndicator(indicator: SecurityIndicator): Promise<void> {
    const current = await this.get();
    await (await this.open()).put('settings', { id: 'indicator', indicator });
    this.cache = Promise.resolve({ ...current, indicator });
  }

  async setSiteMode(key: string, mode: SiteMode): Promise<void> {
    const current = await this.get();
    const siteModes = { ...current.siteModes };
    if (mode === 'inline') delete siteModes[key];
    else siteModes[key] = mode;
    await (await this.open()).put('settings', { id: 'site-modes', modes: siteModes });
    this.cache = Promise.resolve({ ...current, siteModes });
  }
}

export const isolatedSettings = new IsolatedSettingsStore();
