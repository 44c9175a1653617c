import type { Sql, TransactionSql } from 'postgres';

/**
 * Where a PostgreSQL store's statements run: the pool, a connection the group commit reserved and opened a
 * transaction on, or a `begin()` transaction. Stores take one, so a caller can put their writes in the
 * same transaction as its own.
 */
export type Queryable = Sql | TransactionSql;
