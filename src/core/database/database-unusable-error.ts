const marker = Symbol.for('imagine.database-unusable');

/**
 * The database under DATA_DIR cannot be used as it is (damaged, not a database, not writable). Its message
 * names the file and what the operator should do; the server and CLI print it and exit 78, as for a bad
 * setting, instead of a stack.
 */
export class DatabaseUnusableError extends Error {
  readonly [marker] = true;
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnusableError';
    this.file = file;
  }

  /** True for this error from any copy of this module. */
  static isInstance(value: unknown): value is DatabaseUnusableError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}
