import { postgresStoreEngine } from './postgres/postgres-store-engine.ts';
import { sqliteStoreEngine } from './sqlite/sqlite-store-engine.ts';
import type { StoreEngine, StoreEngineDescriptor, StoreEngineOptions } from './store-engine.ts';

/** Every engine, the first the config selects wins: SQLite, the embedded default, selects itself always. */
const storeEngines: readonly StoreEngineDescriptor[] = [postgresStoreEngine, sqliteStoreEngine];

/** Opens (and migrates) the database the config names: DATABASE_URL's PostgreSQL, else the SQLite file. */
export function openStoreEngine(options: StoreEngineOptions): Promise<StoreEngine> {
  const engine = storeEngines.find((candidate) => candidate.selectedBy(options.config));
  if (!engine) throw new Error('no store engine is selected');
  return engine.open(options);
}
