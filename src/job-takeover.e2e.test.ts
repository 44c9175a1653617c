/**
 * Jobs of a killed process are taken over, with real processes: by a sibling sharing the database while it
 * keeps serving (within seconds, without a restart), and by a process restarted at once while the killed one
 * is still an unreaped zombie. Afterwards the ledger, the job rows and the files on disk agree.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config/load-config.ts';
import { createServices } from './services.ts';
import { freePort, type ServerProcess, startServerProcess } from './test-support/server-process.ts';
import { sqliteOf } from './test-support/sqlite-of.ts';

const started: ServerProcess[] = [];
let dataDir: string | undefined;

afterEach(() => {
  for (const server of started.splice(0)) {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    server.process.kill('SIGKILL');
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function startServer(folder: string, port: number, unreaped = false): Promise<ServerProcess> {
  const server = await startServerProcess(
    {
      PORT: String(port),
      DATA_DIR: folder,
      NODE_ENV: 'production',
      CREATE_DEMO_KEY: 'false',
      PLACEHOLDER_DELAY_MS: '1500',
      MAX_JOBS_PER_USER: '20',
      // The test polls every job ten times a second.
      RATE_LIMIT_PER_MINUTE: '100000',
      READ_RATE_LIMIT_PER_MINUTE: '100000',
    },
    { unreaped },
  );
  started.push(server);
  return server;
}

/** A data folder with one user and their key. */
async function prepare(): Promise<{ folder: string; key: string }> {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-takeover-'));
  const setup = await createServices(
    loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }),
    pino({ level: 'silent' }),
  );
  const key = await setup.apiKeys.create('alice', { plan: 'pro' });
  await setup.close();
  return { folder: dataDir, key };
}

async function submitAsync(port: number, key: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/generate/image`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          prefer: 'respond-async',
        },
        body: JSON.stringify({ prompt: `takeover ${index}`, size: '256x256' }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { job_id: string }).job_id;
    }),
  );
}

async function finalStatuses(port: number, key: string, jobIds: string[]): Promise<string[]> {
  return Promise.all(
    jobIds.map(async (jobId) => {
      for (let attempt = 0; attempt < 400; attempt++) {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${jobId}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        const job = (await response.json()) as { status?: string };
        if (job.status === undefined) return `HTTP ${response.status}`;
        if (job.status !== 'queued' && job.status !== 'running') return job.status;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return 'stuck';
    }),
  );
}

/** Every job done, exactly the delivered images charged and stored, nothing held. */
async function expectLedgerJobsAndFilesAgree(folder: string, jobs: number): Promise<void> {
  const check = await createServices(
    loadConfig({ NODE_ENV: 'test', DATA_DIR: folder }),
    pino({ level: 'silent' }),
  );
  const count = (sql: string) => (sqliteOf(check).prepare(sql).get() as { n: number }).n;
  expect(count("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')")).toBe(0);
  expect(count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'succeeded'")).toBe(jobs);
  const delivered = count('SELECT COUNT(*) AS n FROM generations');
  expect(delivered).toBe(jobs);
  expect(await check.ledger.usage('alice', 1000)).toMatchObject({ used: delivered, reserved: 0 });
  expect(await check.ledger.pendingReservationIds()).toEqual([]);
  const files = fs.readdirSync(path.join(folder, 'images'), { recursive: true }).map(String);
  expect(files.filter((name) => name.endsWith('.png'))).toHaveLength(delivered);
  expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  await check.close();
}

describe('job takeover', () => {
  it("a sibling on the same database takes a killed process's jobs over while it keeps serving", async () => {
    const { folder, key } = await prepare();
    const [portA, portB] = [await freePort(), await freePort()];
    const first = await startServer(folder, portA);
    await startServer(folder, portB);
    const jobIds = await submitAsync(portA, key, 10);
    process.kill(first.pid, 'SIGKILL');
    const killedAt = Date.now();

    expect(await finalStatuses(portB, key, jobIds)).toEqual(Array(10).fill('succeeded'));
    // Recovery scans every 5 s and each image takes 1.5 s: far inside the 30 s a stale heartbeat allows.
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    for (const server of started.splice(0)) server.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expectLedgerJobsAndFilesAgree(folder, 10);
  }, 90_000);

  it('a process restarted at once takes up all 20 jobs while the killed one is still a zombie', async () => {
    const { folder, key } = await prepare();
    const port = await freePort();
    const first = await startServer(folder, port, true);
    const jobIds = await submitAsync(port, key, 20);
    process.kill(first.pid, 'SIGKILL');
    // Its parent never reaps it: the killed server stays a zombie, which `kill(pid, 0)` calls alive.
    await expect.poll(() => fs.readFileSync(`/proc/${first.pid}/stat`, 'utf8').split(') ')[1]?.[0]).toBe('Z');

    const restarted = await startServer(folder, port);
    // By the time it listens, start-up recovery has taken every job over.
    const database = await createServices(
      loadConfig({ NODE_ENV: 'test', DATA_DIR: folder }),
      pino({ level: 'silent' }),
    );
    const owners = sqliteOf(database)
      .prepare("SELECT DISTINCT worker_id AS owner FROM jobs WHERE status IN ('queued', 'running')")
      .all() as Array<{ owner: string }>;
    await database.close();
    expect(owners.every((row) => row.owner.split(':')[1] === String(restarted.pid))).toBe(true);

    expect(await finalStatuses(port, key, jobIds)).toEqual(Array(20).fill('succeeded'));
    for (const server of started.splice(0)) {
      server.process.kill('SIGTERM');
      if (server !== restarted) process.kill(server.pid, 'SIGKILL');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expectLedgerJobsAndFilesAgree(folder, 20);
  }, 90_000);
});
