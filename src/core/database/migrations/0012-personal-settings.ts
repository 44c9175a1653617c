/**
 * Each chat identity's own defaults (`/settings` in Discord, the App Home in Slack): style, aspect ratio,
 * model, enhance, private results, as one JSON object read and written whole.
 */
export const personalSettingsSchema = `
CREATE TABLE personal_settings (
  identity    TEXT PRIMARY KEY,
  settings    TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) WITHOUT ROWID;
`;
