/**
 * When each chat identity last started a generation (ms since the epoch), for CHAT_COOLDOWN_SECONDS. One row
 * per identity, claimed by one guarded upsert, so two commands at once (or two processes) cannot both pass.
 */
export const chatCooldownsSchema = `
CREATE TABLE chat_cooldowns (
  identity    TEXT PRIMARY KEY,
  started_ms  INTEGER NOT NULL
) WITHOUT ROWID;
`;
