/**
 * Fault injection: 20 generations in flight on a slow provider, the server killed with SIGKILL, restarted.
 * Every job ends delivered or refunded, the ledger charges exactly the images delivered, and storage holds
 * no image without its record.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config/load-config.ts';
import { createServices } from './services.ts';
import { freePort, startServerProcess } from './test-support/server-process.ts';
import { sqliteOf } from './test-support/sqlite-of.ts';

const children: ChildProcess[] = [];
let dataDir: string | undefined;

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function startServer(folder: string, port: number): Promise<ChildProcess> {
  const started = await startServerProcess({
    PORT: String(port),
    DATA_DIR: folder,
    NODE_ENV: 'production',
    CREATE_DEMO_KEY: 'false',
    PLACEHOLDER_DELAY_MS: '2500',
  });
  children.push(started.process);
  return started.process;
}

describe('crash recovery', () => {
  it('delivers or refunds every job after SIGKILL, with the ledger exact and nothing orphaned', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-crash-'));
    const setup = await createServices(
      loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }),
      pino({ level: 'silent' }),
    );
    const users = Array.from({ length: 10 }, (_, index) => `user-${index}`);
    const keys = await Promise.all(users.map((user) => setup.apiKeys.create(user, { plan: 'pro' })));
    await setup.close();

    const port = await freePort();
    const first = await startServer(dataDir, port);
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

    await startServer(dataDir, port);
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
      loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }),
      pino({ level: 'silent' }),
    );
    const unfinished = sqliteOf(check)
      .prepare("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')")
      .get() as { n: number };
    expect(unfinished.n).toBe(0);
    const delivered = (
      sqliteOf(check).prepare('SELECT COUNT(*) AS n FROM generations').get() as { n: number }
    ).n;
    let charged = 0;
    for (const user of users) charged += (await check.ledger.usage(user, 200)).used;
    expect(charged).toBe(delivered);
    expect(delivered).toBeGreaterThanOrEqual(15);
    expect(await check.ledger.pendingReservationIds()).toEqual([]);
    const files = fs
      .readdirSync(path.join(dataDir, 'images'), { recursive: true })
      .map(String)
      .filter((name) => name.endsWith('.png'));
    expect(files).toHaveLength(delivered);
    await check.close();
  }, 120_000);
});
