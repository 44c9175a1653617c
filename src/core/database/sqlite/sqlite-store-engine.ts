import { SqliteQuotaLedger } from '../../quota/sqlite/sqlite-quota-ledger.ts';
import { startBackgroundCheckpoints } from '../background-checkpoints.ts';
import { openDatabase } from '../open-database.ts';
import type { StoreEngineDescriptor } from '../store-engine.ts';
import { WriteBatcher } from '../write-batcher.ts';
import { SqliteGenerationWrites } from './sqlite-generation-writes.ts';
import { openSqliteStores } from './sqlite-stores.ts';

/** The embedded default: one WAL file under DATA_DIR, group commits, checkpoints off the request path. */
export const sqliteStoreEngine: StoreEngineDescriptor = {
  name: 'sqlite',
  selectedBy: () => true,
  async open({ config, logger, now, commits }) {
    const database = openDatabase(config.databasePath);
    const writes = new WriteBatcher(database, commits);
    const stores = openSqliteStores({ database, writes, now });
    const stopCheckpoints =
      config.databasePath === ':memory:'
        ? async () => undefined
        : startBackgroundCheckpoints(database, (message) =>
            logger.error({ error: message }, 'background checkpoint failed'),
          );
    return {
      name: 'sqlite',
      stores,
      generationWrites: new SqliteGenerationWrites({
        writes,
        ledger: new SqliteQuotaLedger(database, now),
        records: stores.generations,
        jobs: stores.jobs.rows,
        logger,
        now,
      }),
      sqlite: database,
      async close() {
        writes.flushNow();
        await stopCheckpoints();
        database.close();
      },
    };
  },
};
