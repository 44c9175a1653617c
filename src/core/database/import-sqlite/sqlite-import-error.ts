const marker = Symbol.for('imagine.sqlite-import');

/** Why `db import-sqlite` stopped; every one leaves the PostgreSQL database without a row of the import. */
export type SqliteImportErrorCode =
  /** The target already has rows: the import only fills an empty database. */
  | 'target_not_empty'
  /** The file is not an imagine SQLite database, or one this version cannot read. */
  | 'unreadable_source'
  /** Jobs still queued or running: the SQLite service must be stopped with its work done. */
  | 'unfinished_jobs'
  /** The file and PostgreSQL's schema do not match table for table, column for column. */
  | 'schema_mismatch'
  /** PostgreSQL refused a row (or a value could not be converted); the transaction was rolled back. */
  | 'copy_failed'
  /** A table's count in PostgreSQL differs from SQLite's after copying; the transaction was rolled back. */
  | 'count_mismatch';

/** The import refused or failed; its message names the table, the file or the database and what to do. */
export class SqliteImportError extends Error {
  readonly [marker] = true;
  readonly code: SqliteImportErrorCode;

  constructor(code: SqliteImportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SqliteImportError';
    this.code = code;
  }

  /** True for this error from any copy of this module. */
  static isInstance(value: unknown): value is SqliteImportError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}
