/**
 * What chat admins do (`/imagine-admin`): every action audited with who did it and where, a refund at most
 * once per image (the partial unique index), and the identities that may not make images.
 */
export const chatAdminSchema = `
CREATE TABLE admin_actions (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  place       TEXT,
  action      TEXT NOT NULL,
  target      TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX admin_refund_once ON admin_actions(target) WHERE action = 'refund';

CREATE TABLE chat_blocks (
  identity    TEXT PRIMARY KEY,
  blocked_by  TEXT NOT NULL,
  blocked_at  TEXT NOT NULL
) WITHOUT ROWID;
`;
