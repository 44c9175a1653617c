/**
 * The quick start, end to end: the real server process on embedded defaults (no .env), called over a real
 * socket with the key and body it prints, then stopped with SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startServerProcess } from './test-support/server-process.ts';

let server: ChildProcess | undefined;
let dataDir: string | undefined;

afterEach(() => {
  server?.kill('SIGKILL');
  server = undefined;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/** Starts the server as `npm start` does on a fresh machine: no .env, only the port and data folder. */
async function startServer(port: number, folder: string, extra: Record<string, string> = {}) {
  const started = await startServerProcess({ PORT: String(port), DATA_DIR: folder, ...extra });
  return started;
}

async function waitFor<T>(
  probe: () => T | undefined,
  timeoutMs: number,
  describeFailure: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out: ${describeFailure()}`);
}

describe('the quick start', () => {
  it('serves the reference request with the printed key, stores a real PNG, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-e2e-'));
    const started = await startServer(port, dataDir);
    server = started.process;

    const key = await waitFor(
      () => /Bearer (imk_[A-Za-z0-9]{40})/.exec(started.output())?.[1],
      30_000,
      () => `no demo key in the banner:\n${started.output()}`,
    );
    expect(started.output()).toContain(`curl -s -X POST http://localhost:${port}/api/v1/generate/image`);
    // One address throughout the banner: the one the image links below are handed out under.
    const printedOrigins = [...started.output().matchAll(/https?:\/\/[^\s'"]+/g)].map(
      (match) => new URL(match[0]).origin,
    );
    expect(new Set(printedOrigins)).toEqual(new Set([`http://localhost:${port}`]));

    const response = await fetch(`http://127.0.0.1:${port}/api/v1/generate/image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'Flutter logo in office of pakistan',
        size: '1024x1024',
        style: 'realistic',
        aspect_ratio: '1:1',
        enhance_prompt: true,
      }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      success: true,
      model: 'placeholder',
      cost: 0,
      size: '1024x1024',
      quality: 'high',
      prompt_used: expect.stringMatching(/^Flutter logo in office of pakistan, photorealistic/),
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      generation_time: expect.any(Number),
    });

    const imageUrl = String(body.image_url);
    expect(imageUrl).toMatch(new RegExp(`^http://localhost:${port}/images/demo/.+\\.png$`));
    const image = await fetch(imageUrl.replace('localhost', '127.0.0.1'));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('cache-control')).toContain('immutable');
    const metadata = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect({ format: metadata.format, width: metadata.width, height: metadata.height }).toEqual({
      format: 'png',
      width: 1024,
      height: 1024,
    });

    const exitCode = new Promise<number | null>((resolve) => started.process.once('exit', resolve));
    started.process.kill('SIGTERM');
    expect(await exitCode).toBe(0);
    server = undefined;
  }, 60_000);

  it('finishes a request in flight when SIGTERM arrives, refuses new ones, then exits', async () => {
    const port = await freePort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-e2e-'));
    const started = await startServer(port, dataDir, { PLACEHOLDER_DELAY_MS: '1500' });
    server = started.process;
    const key = await waitFor(
      () => /Bearer (imk_[A-Za-z0-9]{40})/.exec(started.output())?.[1],
      30_000,
      () => `no demo key in the banner:\n${started.output()}`,
    );
    const inFlight = fetch(`http://127.0.0.1:${port}/api/v1/generate/image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse at dusk', size: '256x256' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exitCode = new Promise<number | null>((resolve) => started.process.once('exit', resolve));
    started.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A new connection is refused (the listener is closed) or answered 503 while draining.
    const late = await fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' } }).then(
      (reply) => reply.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    const response = await inFlight;
    expect(response.status).toBe(201);
    expect(((await response.json()) as { usage: { used: number } }).usage.used).toBe(1);
    expect(await exitCode).toBe(0);
    server = undefined;
  }, 60_000);
});
