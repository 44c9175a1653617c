/** Chat deliveries already handled (Discord interaction ids, Slack retries and button presses). */
export const processedEventsSchema = `
CREATE TABLE processed_events (
  event_key   TEXT PRIMARY KEY,
  created_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX processed_events_by_age ON processed_events(created_at);
`;
