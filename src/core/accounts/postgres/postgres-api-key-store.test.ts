import { beforeEach, describe, expect, it } from 'vitest';
import { accountsOn } from '../../../test-support/accounts-on-stores.ts';
import { postgresPerTest } from '../../../test-support/store-engines.ts';
import { openPostgresStores } from '../../database/postgres/postgres-stores.ts';

/**
 * What only PostgreSQL's store has to prove on its own: that a process notices keys revoked and plans
 * changed by another (SQLite's `data_version` does that there, see `accounts.test.ts`), and what its rows
 * hold. The two "processes" are two sets of stores and classes sharing nothing but the database.
 */
function runOn(label: string, engine: 'auto' | 'pglite'): void {
  describe(label, () => {
    const postgres = postgresPerTest(engine);
    let now: Date;
    const later = () => {
      now = new Date(now.getTime() + 300);
    };
    const process = () => accountsOn(openPostgresStores({ sql: postgres.sql, now: () => now }), () => now);

    beforeEach(() => {
      now = new Date('2026-05-01T10:00:00Z');
    });

    it(`stops accepting a key within a quarter second of another process revoking it, and sees plan changes, on ${label}`, async () => {
      const server = process();
      const cli = process();
      const key = await cli.apiKeys.create('alice', { plan: 'free' });
      const other = await cli.apiKeys.create('bob', { plan: 'free' });
      expect(await server.apiKeys.authenticate(key)).toMatchObject({ userId: 'alice', planName: 'free' });
      expect(await server.apiKeys.authenticate(other)).toMatchObject({ userId: 'bob' });
      await cli.accounts.setPlan('alice', 'pro');
      later();
      expect((await server.apiKeys.authenticate(key))?.planName).toBe('pro');
      await cli.apiKeys.revoke(key.slice(0, 12));
      later();
      expect(await server.apiKeys.authenticate(key)).toBeUndefined();
      expect(await server.apiKeys.authenticate(other)).toMatchObject({ userId: 'bob' });
    });

    it(`keeps only a key's hash and prefix, on ${label}`, async () => {
      const key = await process().apiKeys.create('alice', { admin: true });
      const stored = JSON.stringify(await postgres.sql`SELECT * FROM api_keys`);
      expect(stored).not.toContain(key);
      expect(stored).toContain(key.slice(0, 12));
    });
  });
}

// The server when one answers at 127.0.0.1:5432, PGlite when not; and PGlite always.
runOn('PostgreSQL', 'auto');
runOn('PGlite', 'pglite');
