/**
 * The real server with REDIS_URL pointing where no Redis answers: it starts, serves past the rate limit
 * (which fails open) with one warning in its log and the password nowhere, and stops cleanly on SIGTERM.
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

let server: ChildProcess | undefined;
let dataDir: string | undefined;

afterEach(() => {
  server?.kill('SIGKILL');
  server = undefined;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

describe('the server without its Redis', () => {
  it('starts, serves with rate limits failing open, warns without a line per request, and exits 0 on SIGTERM', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-redis-'));
    const setup = await createServices(
      loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }),
      pino({ level: 'silent' }),
    );
    const key = await setup.apiKeys.create('alice', { plan: 'pro' });
    await setup.close();

    const [port, redisPort] = [await freePort(), await freePort()];
    const started = await startServerProcess({
      PORT: String(port),
      DATA_DIR: dataDir,
      NODE_ENV: 'production',
      CREATE_DEMO_KEY: 'false',
      REDIS_URL: `redis://:hunter2-redis-password@127.0.0.1:${redisPort}`,
      RATE_LIMIT_PER_MINUTE: '1',
    });
    server = started.process;
    const statuses = [];
    for (let index = 0; index < 3; index++) {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/generate/image`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `lighthouse ${index}`, size: '256x256' }),
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([201, 201, 201]);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', redis: 'unreachable' });

    const exitCode = new Promise<number | null>((resolve) => started.process.once('exit', resolve));
    started.process.kill('SIGTERM');
    expect(await exitCode).toBe(0);
    const warnings = started.output().match(/redis unreachable/g) ?? [];
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length).toBeLessThan(statuses.length);
    expect(started.output()).not.toContain('hunter2');
  });
});
