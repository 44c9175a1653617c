import type { StoreEngineDescriptor } from '../store-engine.ts';
import { openPostgres } from './open-postgres.ts';
import { PostgresGenerationWrites } from './postgres-generation-writes.ts';
import { openPostgresStores } from './postgres-stores.ts';
import { PostgresWriteBatcher } from './postgres-write-batcher.ts';

/** DATABASE_URL: every store on one PostgreSQL database that several processes and hosts share. */
export const postgresStoreEngine: StoreEngineDescriptor = {
  name: 'postgres',
  selectedBy: (config) => config.postgres !== undefined,
  async open({ config, logger, now }) {
    const settings = config.postgres;
    if (!settings) throw new Error('DATABASE_URL is not set');
    // Migrates under the advisory lock: processes starting together migrate once.
    const sql = await openPostgres({ url: settings.url, poolSize: settings.poolSize });
    const writes = new PostgresWriteBatcher(sql);
    return {
      name: 'postgres',
      stores: openPostgresStores({ sql, now }),
      generationWrites: new PostgresGenerationWrites({ sql, writes, logger, now }),
      sqlite: undefined,
      async close() {
        // Waits for queries under way (a group commit) to finish, then closes every connection.
        await sql.end({ timeout: 5 });
      },
    };
  },
};
