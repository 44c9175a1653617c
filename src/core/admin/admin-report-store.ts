/** A stored image as the console's gallery shows it. */
export interface AdminImage {
  id: string;
  userId: string;
  source: string;
  prompt: string;
  model: string;
  imageUrl: string;
  width: number;
  height: number;
  costUsd: number;
  createdAt: string;
}

/** A stored image with where it sits in the listing and what deleting it needs. */
export interface AdminImageRecord extends AdminImage {
  /** The record's row number: the listing's order (newest recorded first) and its cursor. */
  rowId: number;
  storageKey: string;
}

/** A user as listed, before plans are resolved. */
export interface UserReportRow {
  userId: string;
  plan: string | null;
  createdAt: string;
  /** Images charged in the period asked for. */
  used: number;
  /** Linked chat identities, in byte order. */
  identities: string[];
}

/** A charged subject of a period, with its account when one exists. */
export interface UsageReportRow {
  userId: string;
  plan: string | null;
  /** Whether an app account exists for it (a chat identity that never linked has none). */
  known: boolean;
  images: number;
  /** What its generations recorded in the period cost; 0 for none. */
  costUsd: number;
}

/** A job still queued or running, as stored. */
export interface UnfinishedJobRow {
  id: string;
  userId: string;
  kind: string;
  source: string;
  status: 'queued' | 'running';
  /** The job's request as JSON text. */
  request: string;
  progress: number | null;
  createdAt: string;
}

/** A half-open range of instants, [from, to), as ISO 8601 UTC text. */
export interface InstantRange {
  from: string;
  to: string;
}

/**
 * The read-only questions the operator console asks across every user, one engine per folder. Texts sort in
 * byte order (SQLite's BINARY, PostgreSQL's "C"), days are UTC, and ties break the same way, so both
 * engines give the same rows in the same order.
 */
export interface AdminReportStore {
  /** Sums of used and reserved images over the counters of `period` whose subject starts with `prefix`. */
  counterTotals(period: string, prefix: string): Promise<{ used: number; reserved: number }>;
  /** What the `subject` counter of `period` has spent, in USD (0 when none). */
  spentUsd(subject: string, period: string): Promise<number>;
  /** Generations recorded in `range`, per UTC day (`YYYY-MM-DD`); days without any are absent. */
  generationsByDay(range: InstantRange): Promise<{ day: string; images: number; costUsd: number }[]>;
  /** Generations recorded in `range`, per model. */
  generationsByModel(range: InstantRange): Promise<{ model: string; images: number }[]>;
  /** Images lost by failed model calls in `range`, per model and provider. */
  failuresByModel(range: InstantRange): Promise<{ model: string; provider: string; images: number }[]>;
  /** The `limit` heaviest subjects starting with `prefix` in `period` (images > 0), ties by subject. */
  topSubjects(period: string, prefix: string, limit: number): Promise<{ subject: string; images: number }[]>;
  /**
   * Users after `after` in id order, up to `limit`, with what they used in `period`; with `contains`, only
   * those whose id or a linked identity contains it (ASCII letters in any case, as SQLite's LIKE).
   */
  users(page: {
    period: string;
    after: string;
    contains: string | undefined;
    limit: number;
  }): Promise<UserReportRow[]>;
  /**
   * One row per `user:` subject charged in `period`, heaviest first then by id, with the cost of what its
   * generations recorded in `range`.
   */
  usage(period: string, range: InstantRange): Promise<UsageReportRow[]>;
  /** Stored images with a row number below `beforeRowId`, newest first, optionally one user's or source's. */
  images(page: {
    userId: string | undefined;
    source: string | undefined;
    beforeRowId: number;
    limit: number;
  }): Promise<AdminImageRecord[]>;
  /** Jobs queued or running, in id order (oldest first: ids are UUIDv7). */
  unfinishedJobs(): Promise<UnfinishedJobRow[]>;
}
