/**
 * Discord HTTP interactions under load: the time from a signed interaction arriving at the server to the
 * deferred response leaving it, for bursts of 100 interactions sent at once (target p99 < 50 ms). The
 * generations and their webhook edits run as in production, against a stand-in for Discord's API, so the
 * deferral is measured while the follow-up work competes for the same event loop. The load generator and
 * the stand-in run in a worker thread, so the server's thread does only the server's work.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { createDiscordBot } from '../src/bots/discord/discord-bot.ts';
import { interactionsPath } from '../src/bots/discord/http-interactions.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { buildApp } from '../src/http/build-app.ts';
import { createServices } from '../src/services.ts';
import { instantModel, memoryStorage } from './in-memory-fakes.ts';

/** Latency of the deferred answer. */
export interface DiscordBenchmarkFigures {
  /** Server side: request received → deferred response finished (what the target is about). */
  p50Ms: number;
  p99Ms: number;
  count: number;
  /** Client side: request sent → response read, with loopback and queueing behind the burst. */
  clientP50Ms: number;
  clientP99Ms: number;
}

const applicationId = '1300000000000000001';

/**
 * The worker (plain JavaScript, so it needs no loader): a stand-in for Discord's API that answers every
 * webhook call at once and counts them, and a client that sends each burst of signed `/imagine`
 * interactions, then waits for their two edits each (progress, result) before the next burst.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { createPrivateKey, sign } = require('node:crypto');
const privateKey = createPrivateKey(workerData.privateKeyPem);
let calls = 0;
const discord = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    calls += 1;
    if (request.method === 'DELETE') return response.writeHead(204).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1300000000000000092"}');
  });
});
function interaction(round, index) {
  const userId = String(1300000000000100000n + BigInt(index));
  const body = JSON.stringify({
    app_permissions: '2248473465835073', application_id: workerData.applicationId, attachment_size_limit: 26214400,
    authorizing_integration_owners: { 0: '1300000000000000002' },
    channel: { id: '1300000000000000003', type: 0, guild_id: '1300000000000000002', name: 'art' },
    channel_id: '1300000000000000003', context: 0,
    data: { id: '1300000000000000050', name: 'imagine', type: 1,
      options: [{ name: 'prompt', type: 3, value: 'benchmark fox ' + round + '-' + index + ' --ar 16:9' }] },
    entitlements: [], guild_id: '1300000000000000002',
    id: String(1500000000000000000n + BigInt(round * 100000 + index)), locale: 'en-US',
    member: { roles: [], permissions: '1153434192661185', joined_at: '2024-05-01T10:00:00.000000+00:00',
      deaf: false, mute: false, flags: 0,
      user: { id: userId, username: 'bench' + index, discriminator: '0', global_name: null, avatar: null } },
    token: 'bench-token-' + round + '-' + index, type: 2, version: 1,
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  return { body, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
    'x-signature-ed25519': sign(null, Buffer.from(timestamp + body), privateKey).toString('hex'),
    'x-signature-timestamp': timestamp } };
}
async function run({ url, rounds, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const samples = [];
  for (let round = 0; round <= rounds; round++) {
    const burst = Array.from({ length: concurrency }, (_, index) => interaction(round, index));
    const before = calls;
    const statuses = await Promise.all(burst.map((item) => new Promise((resolve, reject) => {
      const sent = performance.now();
      const request = http.request(url, { method: 'POST', agent, headers: item.headers }, (response) => {
        response.resume();
        response.on('end', () => { if (round > 0) samples.push(performance.now() - sent); resolve(response.statusCode); });
      });
      request.on('error', reject);
      request.end(item.body);
    })));
    const failed = statuses.filter((status) => status !== 200).length;
    if (failed > 0) throw new Error(failed + ' interactions were not answered 200');
    const deadline = Date.now() + 30000;
    while (calls - before < concurrency * 2) {
      if (Date.now() > deadline) throw new Error('the follow-up edits did not all arrive within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  agent.destroy();
  return samples;
}
discord.listen(0, '127.0.0.1', () => {
  parentPort.postMessage({ discordUrl: 'http://127.0.0.1:' + discord.address().port + '/api' });
});
parentPort.on('message', (message) => {
  run(message).then(
    (samples) => parentPort.postMessage({ samples }),
    (error) => parentPort.postMessage({ error: String(error && error.stack || error) }),
  ).finally(() => discord.close());
  discord.closeIdleConnections?.();
});
`;

function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 100) / 100;
}

/**
 * Sends `rounds` bursts of `concurrency` signed interactions (after one unmeasured warm-up burst) to the
 * real app listening on a port, and reports p50/p99 of the deferred response's latency.
 */
export async function runDiscordBenchmark(
  settings: { concurrency?: number; rounds?: number } = {},
): Promise<DiscordBenchmarkFigures> {
  const concurrency = settings.concurrency ?? 100;
  const rounds = settings.rounds ?? 5;
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyDer = publicKey.export({ format: 'der', type: 'spki' });
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { applicationId, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) },
  });
  const { discordUrl } = await nextMessage<{ discordUrl: string }>(worker);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-discord-bench-'));
  const config = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    CREATE_DEMO_KEY: 'false',
    GUEST_MONTHLY_IMAGES: '1000000000',
    DISCORD_MODE: 'http',
    DISCORD_BOT_TOKEN: 'bench-bot-token',
    DISCORD_APPLICATION_ID: applicationId,
    DISCORD_PUBLIC_KEY: publicKeyDer.subarray(publicKeyDer.length - 32).toString('hex'),
    DISCORD_API_BASE_URL: discordUrl,
  });
  const services = await createServices(config, pino({ level: 'silent' }), {
    models: [instantModel()],
    storage: memoryStorage(),
  });
  const discordSettings = config.discord;
  if (!discordSettings) throw new Error('the benchmark configuration turns the Discord bot on');
  const bot = createDiscordBot(services, discordSettings);
  const app = await buildApp(services, { chatBots: [bot] });
  const serverSamples: number[] = [];
  app.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (request.url !== interactionsPath) return;
    const arrived = performance.now();
    response.once('finish', () => serverSamples.push(performance.now() - arrived));
  });
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    worker.postMessage({ url: `${address}${interactionsPath}`, rounds, concurrency });
    const result = await nextMessage<{ samples?: number[]; error?: string }>(worker);
    if (result.error) throw new Error(result.error);
    const server = serverSamples.slice(concurrency).sort((left, right) => left - right);
    const client = [...(result.samples ?? [])].sort((left, right) => left - right);
    return {
      p50Ms: percentile(server, 0.5),
      p99Ms: percentile(server, 0.99),
      count: server.length,
      clientP50Ms: percentile(client, 0.5),
      clientP99Ms: percentile(client, 0.99),
    };
  } finally {
    await worker.terminate();
    await bot.stop();
    await app.close();
    await services.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await runDiscordBenchmark();
  console.log(
    `Discord HTTP interactions, bursts of 100: deferred response p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms ` +
      `over ${figures.count} (target p99 < 50 ms); as the client sees it: p50 ${figures.clientP50Ms} ms, ` +
      `p99 ${figures.clientP99Ms} ms`,
  );
}
