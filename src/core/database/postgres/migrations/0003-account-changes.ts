/**
 * A change counter for the API-key cache. Each process keeps the keys it has seen in memory; on SQLite,
 * `data_version` tells it that another process wrote. PostgreSQL has no such number, so these triggers keep
 * one: it moves when a key is revoked or removed or a plan changes (not on the inserts every request may
 * make), and each process reads its one row at most every 250 ms. The row moves in the changing
 * transaction, so a process that sees the new number reads the new keys.
 */
export const accountChangesSchema = `
CREATE TABLE account_changes (
  id       integer PRIMARY KEY CHECK (id = 1),
  version  bigint NOT NULL
);

CREATE FUNCTION count_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO account_changes AS counter (id, version) VALUES (1, 1)
  ON CONFLICT (id) DO UPDATE SET version = counter.version + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION count_account_change();
CREATE TRIGGER users_plan_changed AFTER UPDATE OF plan ON users
  FOR EACH ROW WHEN (OLD.plan IS DISTINCT FROM NEW.plan) EXECUTE FUNCTION count_account_change();
`;
