/**
 * Fault injection: 20 generations in flight on a slow provider, the server killed with SIGKILL, and a fresh
 * process started on the same database and DATA_DIR. Every job ends delivered or refunded, the ledger
 * charges exactly the images delivered, and storage holds no image without its record. On SQLite and on
 * PostgreSQL.
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

const children: ChildProcess[] = [];
let database: SharedDatabase | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await database?.close();
  database = undefined;
});

async function startServer(environment: Record<string, string>, port: number): Promise<ChildProcess> {
  const started = await startServerProcess({
    ...environment,
    PORT: String(port),
    NODE_ENV: 'production',
    CREATE_DEMO_KEY: 'false',
    PLACEHOLDER_DELAY_MS: '2500',
  });
  children.push(started.process);
  return started.process;
}

describe.each(sharedDatabaseEngines)('crash recovery on %s', (engine) => {
  it('delivers or refunds every job after SIGKILL, with the ledger exact and nothing orphaned', async () => {
    const shared = await createSharedDatabase(engine);
    database = shared;
    // The killed process and the one that recovers: the same database and the same DATA_DIR.
    const environment = shared.environment(0);
    const setup = await createServices(
      loadConfig({ NODE_ENV: 'test', ...environment }),
      pino({ level: 'silent' }),
    );
    const users = Array.from({ length: 10 }, (_, index) => `user-${index}`);
    const keys = await Promise.all(users.map((user) => setup.apiKeys.create(user, { plan: 'pro' })));
    await setup.close();

    const port = await freePort();
    const first = await startServer(environment, port);
    const post = (index: number, async: boolean) =>
      fetch(`http://127.0.0.1:${port}/api/v1/generate/image`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${keys[index % 10]}`,
          'content-type': 'application/json',
          ...(async ? { prefer: 'respond-async' } : {}),
        },
        body: JSON.stringify({ prompt: `crash ${index}`, size: '256x256' }),
      });
    // 15 polled jobs and 5 callers waiting on their connection.
    const accepted = await Promise.all(
      Array.from({ length: 15 }, (_, index) =>
        post(index, true).then((response) => response.json() as Promise<{ job_id: string }>),
      ),
    );
    const waiting = Array.from({ length: 5 }, (_, index) =>
      post(15 + index, false).then(
        (response) => response.status,
        () => 'connection lost',
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 800));
    first.kill('SIGKILL');
    expect(await Promise.all(waiting)).toEqual(Array(5).fill('connection lost'));

    await startServer(environment, port);
    const finals = await Promise.all(
      accepted.map(async ({ job_id: jobId }, index) => {
        for (let attempt = 0; attempt < 300; attempt++) {
          const job = (await (
            await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${jobId}`, {
              headers: { authorization: `Bearer ${keys[index % 10]}` },
            })
          ).json()) as { status: string };
          if (job.status === 'succeeded' || job.status === 'failed') return job.status;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return 'stuck';
      }),
    );
    expect(finals).toEqual(Array(15).fill('succeeded'));
    for (const child of children.splice(0)) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const check = await createServices(
      loadConfig({ NODE_ENV: 'test', ...environment }),
      pino({ level: 'silent' }),
    );
    let charged = 0;
    for (const user of users) charged += (await check.ledger.usage(user, 200)).used;
    const pending = await check.ledger.pendingReservationIds();
    await check.close();
    expect(await shared.count("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')")).toBe(
      0,
    );
    const delivered = await shared.count('SELECT COUNT(*) AS n FROM generations');
    expect(charged).toBe(delivered);
    expect(delivered).toBeGreaterThanOrEqual(15);
    expect(pending).toEqual([]);
    expect(storedPngs(shared.dataDirs())).toHaveLength(delivered);
  }, 120_000);
});
