import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config/load-config.ts';
import { createServices } from '../src/services.ts';
import { instantModel, memoryStorage } from './in-memory-fakes.ts';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-'));
const config = loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir, LOG_LEVEL: 'silent', PLAN_LIMITS: 'bench=1000000000', CREATE_DEMO_KEY: 'false' });
const services = await createServices(config, pino({ level: 'silent' }), { models: [instantModel()], storage: memoryStorage() });
if (process.env.CP) services.database.pragma(`wal_autocheckpoint = ${process.env.CP}`);
services.apiKeys.create('bench-user', { plan: 'bench' });
const caller = services.accounts.appCaller('bench-user');
const input = { prompt: 'Flutter logo in office of pakistan', size: '1024x1024', style: 'realistic', aspect_ratio: '1:1', enhance_prompt: true };
for (let round = 0; round < 3; round++) {
  const n = 5000; const t = performance.now();
  for (let i = 0; i < n; i++) await services.generator.generate(input as never, { caller, scope: undefined, source: 'api', abortSignal: undefined });
  console.log('generate() per second', Math.round(n / ((performance.now() - t) / 1000)));
}
await services.close(); fs.rmSync(dataDir, { recursive: true });
