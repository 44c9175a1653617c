/**
 * Two server processes on one database share quota exactly: 1000 concurrent requests from 50 users with
 * 5 images each give exactly 250 × 201 and 750 × 402, no 5xx, and the ledger agrees. On SQLite they share
 * the file; on PostgreSQL they share nothing but DATABASE_URL (a DATA_DIR, and so an image folder, each).
 */
import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config/load-config.ts';
import { createServices } from './services.ts';
import { freePort, startServerProcess } from './test-support/server-process.ts';
import {
  createSharedDatabase,
  type SharedDatabase,
  sharedDatabaseEngines,
  storedPngs,
} from './test-support/shared-database.ts';

const servers: ChildProcess[] = [];
const printed: (() => string)[] = [];
let database: SharedDatabase | undefined;

afterEach(async () => {
  for (const server of servers.splice(0)) server.kill('SIGKILL');
  printed.splice(0);
  await database?.close();
  database = undefined;
});

async function startServer(environment: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = await startServerProcess({
    ...environment,
    PORT: String(port),
    NODE_ENV: 'production',
    CREATE_DEMO_KEY: 'false',
  });
  servers.push(started.process);
  printed.push(started.output);
  return port;
}

describe.each(sharedDatabaseEngines)('two processes, one database on %s', (engine) => {
  it('share quota exactly under 1000 concurrent requests', async () => {
    const shared = await createSharedDatabase(engine);
    database = shared;
    const setup = await createServices(
      loadConfig({ NODE_ENV: 'test', ...shared.environment(0) }),
      pino({ level: 'silent' }),
    );
    const users = Array.from({ length: 50 }, (_, index) => `user-${index}`);
    const keys = await Promise.all(users.map((user) => setup.apiKeys.create(user, { plan: 'free' })));
    await setup.close();

    const ports = await Promise.all([startServer(shared.environment(0)), startServer(shared.environment(1))]);
    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, index) =>
        fetch(`http://127.0.0.1:${ports[index % 2]}/api/v1/generate/image`, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys[index % 50]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `load ${index}`, size: '256x256' }),
        }).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as { error?: string },
        })),
      ),
    );
    const counts = new Map<number, number>();
    for (const response of responses) counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
    // What the servers logged is the message when a request failed: the cause of a 5xx, not just its count.
    expect(Object.fromEntries(counts), printed.map((output) => output()).join('\n')).toEqual({
      201: 250,
      402: 750,
    });
    expect(
      responses
        .filter((response) => response.status === 402)
        .every((response) => response.body.error === 'graphics_limit_reached'),
    ).toBe(true);

    for (const server of servers.splice(0)) server.kill('SIGTERM');
    const check = await createServices(
      loadConfig({ NODE_ENV: 'test', ...shared.environment(0) }),
      pino({ level: 'silent' }),
    );
    for (const user of users)
      expect(await check.ledger.usage(user, 5), user).toMatchObject({ used: 5, reserved: 0 });
    await check.close();
    expect(await shared.count('SELECT COUNT(*) AS n FROM generations')).toBe(250);
    expect(storedPngs(shared.dataDirs())).toHaveLength(250);
  }, 180_000);
});
