import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import autocannon from 'autocannon';
import pino from 'pino';
import { loadConfig } from '../src/config/load-config.ts';
import { buildApp } from '../src/http/build-app.ts';
import { createServices } from '../src/services.ts';
import { instantModel, memoryStorage } from './in-memory-fakes.ts';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-'));
const config = loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir, LOG_LEVEL: 'silent', PLAN_LIMITS: 'bench=1000000000', RATE_LIMIT_PER_MINUTE: '1000000000', CREATE_DEMO_KEY: 'false' });
const services = await createServices(config, pino({ level: 'silent' }), { models: [instantModel()], storage: memoryStorage() });
const key = services.apiKeys.create('bench-user', { plan: 'bench' });
const caller = services.accounts.appCaller('bench-user');
const body = { prompt: 'Flutter logo in office of pakistan', size: '1024x1024', style: 'realistic', aspect_ratio: '1:1', enhance_prompt: true };
const canned = await services.generator.generate(body as never, { caller, scope: undefined, source: 'api', abortSignal: undefined });
if (process.env.STUB) (services.generator as any).generate = async () => canned;
const app = await buildApp(services);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
for (let r = 0; r < 2; r++) {
const result = await autocannon({ url: `${address}/api/v1/generate/image`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body), connections: 10, duration: 3 });
console.log(process.env.STUB ? 'stubbed core' : 'real core', result.requests.average, result.non2xx);
}
await app.close(); await services.close();
