import type { Migration } from '../../migrations/index.ts';
import { quotaSchema } from './0001-quota.ts';
import { everyStoreSchema } from './0002-every-store.ts';
import { accountChangesSchema } from './0003-account-changes.ts';
import { adminReportIndexes } from './0005-admin-reports.ts';

/**
 * PostgreSQL's migrations, numbered on their own: an engine's history is its own, and a store ported later
 * appends its tables here with the next number. Numbers only grow; an applied migration is never edited.
 */
export const postgresMigrations: readonly Migration[] = [
  { version: 1, name: 'quota', sql: quotaSchema },
  { version: 2, name: 'every store', sql: everyStoreSchema },
  { version: 3, name: 'account changes', sql: accountChangesSchema },
  { version: 5, name: 'admin reports', sql: adminReportIndexes },
];
