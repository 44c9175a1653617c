import { SqliteQuotaLedger } from '../../quota/sqlite/sqlite-quota-ledger.ts';
import { startBackgroundCheckpoints } from '../background-checkpoints.ts';
import { openDatabase } from '../open-database.ts';
import type { StoreEngineDescriptor } from '../store-engine.ts';
import { WriteBatcher } from '../write-batcher.ts';
import { SqliteDamageWatch } from './sqlite-damage-watch.ts';
import { SqliteGenerationWrites } from './sqlite-generation-writes.ts';
import { openSqliteStores } from './sqlite-stores.ts';
import { reportStatementErrors } from './statement-errors.ts';

/** The embedded default: one WAL file under DATA_DIR, group commits, checkpoints off the request path. */
export const sqliteStoreEngine: StoreEngineDescriptor = {
  name: 'sqlite',
  selectedBy: () => true,
  async open({ config, logger, now, commits }) {
    const database = openDatabase(config.databasePath);
    // Files too large for the start-up check, and damage that happens while serving, are found here:
    // before the batcher and stores prepare their statements, so every one of them is watched.
    const damage = new SqliteDamageWatch({ file: config.databasePath, logger });
    reportStatementErrors(database, (error) => damage.noticed(error));
    const writes = new WriteBatcher(database, {
      committed: () => commits.committed(),
      failed: (error) => {
        damage.noticed(error);
        commits.failed(error);
      },
    });
    const stores = openSqliteStores({ database, writes, now, damage });
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
        await damage.close();
        await stopCheckpoints();
        database.close();
      },
    };
  },
};
