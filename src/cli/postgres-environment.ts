import { ConfigError } from '../config/load-config.ts';
import { defaultPoolSize, type PostgresOptions } from '../core/database/postgres/open-postgres.ts';

/**
 * `DATABASE_URL` and `DATABASE_POOL_SIZE` as `db import-sqlite` reads them. The service's config does not
 * read them yet; when it does, the CLI takes `PostgresOptions` from the loaded config instead of this.
 */
export function postgresFromEnvironment(
  variables: Readonly<Record<string, string | undefined>>,
): PostgresOptions {
  const problems: string[] = [];
  const url = variables.DATABASE_URL?.trim() ?? '';
  if (url === '') {
    problems.push(
      'DATABASE_URL is not set: set it to the PostgreSQL database to import into (postgres://user:password@host:5432/imagine)',
    );
  } else if (!/^postgres(ql)?:\/\//.test(url)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const poolText = variables.DATABASE_POOL_SIZE?.trim() ?? '';
  const poolSize = poolText === '' ? defaultPoolSize : Number(poolText);
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    problems.push(`DATABASE_POOL_SIZE must be a whole number of connections, 1 or more (got "${poolText}")`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { url, poolSize };
}

/** The URL without its password, for messages. */
export function describePostgres(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
