/**
 * What the operator console's reports walk on PostgreSQL. Their texts compare in byte order (SQLite's),
 * which is not the database's collation unless it is "C", so the indexes are in that order too: the user
 * list pages through `users_by_id_bytes`, and a month's counters of one kind (`user:`, `scope:`) are a
 * range of `quota_counters_by_period` instead of a scan of every month ever counted.
 */
export const adminReportIndexes = `
CREATE INDEX users_by_id_bytes ON users (id COLLATE "C");
CREATE INDEX quota_counters_by_period ON quota_counters (period, subject COLLATE "C");
`;
