/** Idle and loaded RSS of the full service, built as deployed (`npm run build`, `node dist/server.js`). */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pino from 'pino';
import { loadConfig } from '../src/config/load-config.ts';
import { createServices } from '../src/services.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

function residentMegabytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kilobytes / 1024;
}

/** Starts the built server on a fresh data folder, measures RSS idle, under load, and idle again. */
export async function runMemoryBenchmark(seconds: number) {
  // As `npm run build`: the compiled server serves the console's static assets, copied beside it.
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: projectRoot, stdio: 'inherit' });
  execFileSync(process.execPath, ['dist/copy-static-assets.js'], { cwd: projectRoot, stdio: 'inherit' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-memory-'));
  const environment = { DATA_DIR: dataDir, PLAN_LIMITS: 'bench=1000000000', NODE_ENV: 'production' };
  const setup = await createServices(loadConfig(environment), pino({ level: 'silent' }));
  const key = await setup.apiKeys.create('bench-user', { plan: 'bench' });
  await setup.close();

  const port = 8000 + Math.floor(Math.random() * 1000) + 1000;
  const server = spawn(process.execPath, ['dist/server.js'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      ...environment,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      CREATE_DEMO_KEY: 'false',
      RATE_LIMIT_PER_MINUTE: '1000000000',
      ENV_FILE: 'none',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      server.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('imagine is listening')) resolve();
      });
      server.once('exit', () => reject(new Error(`server exited:\n${output}`)));
    });
    const pid = server.pid ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleMb = residentMegabytes(pid);

    let peakMb = idleMb;
    const sampler = setInterval(() => {
      peakMb = Math.max(peakMb, residentMegabytes(pid));
    }, 100);
    const load = await autocannon({
      url: `http://127.0.0.1:${port}/api/v1/generate/image`,
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse at dusk', size: '512x512', style: 'watercolor' }),
      connections: 50,
      duration: seconds,
      workers: 1,
    });
    clearInterval(sampler);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const afterMb = residentMegabytes(pid);
    return {
      idleMb,
      peakMb,
      afterMb,
      requestsPerSecond: load.requests.average,
      non2xx: load.non2xx,
      images: fs.readdirSync(path.join(dataDir, 'images'), { recursive: true }).length,
    };
  } finally {
    server.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
