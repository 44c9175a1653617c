import { ImagineError } from './imagine-error.ts';

/** How long a caller refused for a full or failing disk should wait: an operator has to free space. */
export const storageRetryAfterSeconds = 30;

// SQLite's result codes for a disk that will not take a write (better-sqlite3 puts the extended code on
// `code`), and the system errors of a file write that cannot land.
const sqliteCodes = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB)/;
const systemCodes = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

/** Whether `error` says the disk (or the database file on it) cannot be written, rather than a bug. */
export function isStorageFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (ImagineError.isInstance(error)) return error.code === 'storage_unavailable';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (sqliteCodes.test(code) || systemCodes.has(code));
}

/** The contract's 503 for a write the disk refused, keeping the system's error as the cause for logs. */
export function storageUnavailable(cause: unknown): ImagineError {
  if (ImagineError.isInstance(cause) && cause.code === 'storage_unavailable') return cause;
  return new ImagineError(
    'storage_unavailable',
    undefined,
    { retry_after: storageRetryAfterSeconds },
    { cause },
  );
}
