/** One audited admin action, as it is written. */
export interface AdminActionEntry {
  at: Date;
  /** The chat identity that acted. */
  actor: string;
  /** Where (`discord-guild:<id>`, `slack-team:<id>`); undefined outside any place. */
  place: string | undefined;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** One audited admin action, as it is read back (the instant as ISO text, the same on every engine). */
export interface AdminAction {
  at: string;
  actor: string;
  place: string | undefined;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** A `quota_counters` subject and the images it counts in one month. */
export interface SubjectCount {
  subject: string;
  images: number;
}

/**
 * The rows behind `ChatAdmin` (`admin_actions`, `chat_blocks`, and the reads and one refund it makes of
 * `generations` and `quota_counters`), one engine per folder (`sqlite/`, `postgres/`). A change and the
 * entry that audits it commit together; a refund lands at most once per image under any concurrency.
 */
export interface ChatAdminStore {
  /** Writes one audited action. */
  audit(entry: AdminActionEntry): Promise<void>;
  /** The latest `limit` audited actions, newest first. */
  recentActions(limit: number): Promise<AdminAction[]>;
  /**
   * Blocks `identity`, by `entry.actor` at `entry.at` (a second block keeps the first one's), and writes
   * `entry`, in one transaction.
   */
  block(identity: string, entry: AdminActionEntry): Promise<void>;
  /** Removes the block on `identity` and writes `entry(removed)`, in one transaction; answers `removed`. */
  unblock(identity: string, entry: (removed: boolean) => AdminActionEntry): Promise<boolean>;
  isBlocked(identity: string): Promise<boolean>;
  /** Whom a stored image was charged to, and when; undefined when no image has the id. */
  generation(imageId: string): Promise<{ userId: string; createdAt: Date } | undefined>;
  /**
   * Writes `entry` as the refund of `entry.target` and takes one image off `subject` in `period` (never
   * below zero), in one transaction; false, changing nothing, when that target was refunded before.
   */
  refundOnce(entry: Omit<AdminActionEntry, 'action'>, subject: string, period: string): Promise<boolean>;
  /** Every counter of `period` whose subject starts with `prefix`, most images first, then by subject. */
  countsWithPrefix(prefix: string, period: string): Promise<SubjectCount[]>;
}
