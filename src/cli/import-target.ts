import { type Config, ConfigError } from '../config/load-config.ts';
import type { PostgresOptions } from '../core/database/postgres/open-postgres.ts';

/**
 * The PostgreSQL database `db import-sqlite` fills: the service's own (`DATABASE_URL`, `DATABASE_POOL_SIZE`
 * as the config read them), so the import lands where the service will look. Unset, the command has
 * nowhere to go: a `ConfigError`, which the CLI prints and exits 78 on, as for any other bad setting.
 */
export function importTarget(config: Pick<Config, 'postgres'>): PostgresOptions {
  if (!config.postgres) {
    throw new ConfigError([
      'DATABASE_URL is not set: set it to the PostgreSQL database to import into (postgres://user:password@host:5432/imagine)',
    ]);
  }
  return { url: config.postgres.url, poolSize: config.postgres.poolSize };
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
