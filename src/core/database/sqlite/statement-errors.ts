import type { SqliteDatabase } from '../open-database.ts';

// Where a statement steps, and so reads pages. (`iterate` steps in its iterator; only the import uses it.)
const statementMethods = ['run', 'get', 'all'] as const;

/**
 * Shows `onError` every error a statement of `database` throws, and rethrows it unchanged. A damaged page
 * can surface in any store, from a request, a bot or a background duty, each with its own way of handling
 * errors; watching the connection is the one place all of them pass. Statements prepared before this call
 * are not watched, so call it before the stores prepare theirs. (BEGIN and COMMIT are not statements of
 * ours; the group commit reports its own failures.)
 */
export function reportStatementErrors(database: SqliteDatabase, onError: (error: unknown) => void): void {
  const prepare = database.prepare.bind(database);
  database.prepare = ((source: string) =>
    watchStatement(prepare(source), onError)) as typeof database.prepare;
  const exec = database.exec.bind(database);
  database.exec = (source) => {
    try {
      return exec(source);
    } catch (error) {
      onError(error);
      throw error;
    }
  };
  const pragma = database.pragma.bind(database);
  database.pragma = ((source: string, options?: { simple?: boolean }) => {
    try {
      return pragma(source, options);
    } catch (error) {
      onError(error);
      throw error;
    }
  }) as typeof database.pragma;
}

/** Replaces the statement's own methods (not the shared prototype's), so nothing else is affected. */
function watchStatement<T extends object>(statement: T, onError: (error: unknown) => void): T {
  const methods = statement as unknown as Record<string, (...parameters: unknown[]) => unknown>;
  for (const name of statementMethods) {
    const method = methods[name];
    if (typeof method !== 'function') continue;
    methods[name] = function watched(this: unknown, ...parameters: unknown[]) {
      try {
        return method.apply(this, parameters);
      } catch (error) {
        onError(error);
        throw error;
      }
    };
  }
  return statement;
}
