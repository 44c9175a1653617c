import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../database/open-database.ts';
import { runQuotaStoreContract } from '../quota-store.contract.ts';
import { SqliteQuotaStore } from './sqlite-quota-store.ts';

// A WAL file, as the service runs it, not an in-memory database.
runQuotaStoreContract('SQLite', async () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-quota-store-'));
  const database = openDatabase(path.join(folder, 'imagine.sqlite'));
  return {
    store: new SqliteQuotaStore(database),
    close: async () => {
      database.close();
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
});
