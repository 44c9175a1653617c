/**
 * Two server processes on one SQLite file share quota exactly: 1000 concurrent requests from 50 users with
 * 5 images each give exactly 250 × 201 and 750 × 402, no 5xx, and the ledger agrees.
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

const servers: ChildProcess[] = [];
let dataDir: string | undefined;

afterEach(() => {
  for (const server of servers.splice(0)) server.kill('SIGKILL');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function startServer(folder: string): Promise<number> {
  const port = await freePort();
  const started = await startServerProcess({
    PORT: String(port),
    DATA_DIR: folder,
    NODE_ENV: 'production',
    CREATE_DEMO_KEY: 'false',
  });
  servers.push(started.process);
  return port;
}

describe('two processes, one database', () => {
  it('share quota exactly under 1000 concurrent requests', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-two-'));
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
    const setup = await createServices(config, pino({ level: 'silent' }));
    const users = Array.from({ length: 50 }, (_, index) => `user-${index}`);
    const keys = await Promise.all(users.map((user) => setup.apiKeys.create(user, { plan: 'free' })));
    await setup.close();

    const ports = await Promise.all([startServer(dataDir), startServer(dataDir)]);
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
    expect(Object.fromEntries(counts)).toEqual({ 201: 250, 402: 750 });
    expect(
      responses
        .filter((response) => response.status === 402)
        .every((response) => response.body.error === 'graphics_limit_reached'),
    ).toBe(true);

    for (const server of servers.splice(0)) server.kill('SIGTERM');
    const check = await createServices(
      loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }),
      pino({ level: 'silent' }),
    );
    for (const user of users)
      expect(await check.ledger.usage(user, 5), user).toMatchObject({ used: 5, reserved: 0 });
    const images = fs
      .readdirSync(path.join(dataDir, 'images'), { recursive: true })
      .map(String)
      .filter((name) => name.endsWith('.png'));
    expect(images).toHaveLength(250);
    await check.close();
  }, 90_000);
});
