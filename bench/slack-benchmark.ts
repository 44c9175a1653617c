/**
 * Slack slash-command acknowledgement latency under 100 concurrent commands, against the API server
 * listening with the Slack app in HTTP mode. Each round, 100 `/imagine` commands, signed as Slack signs
 * them, are written at once on 100 open connections; what is timed is what Slack times: the command sent →
 * the acknowledgement's last byte received. Target: p99 < 50 ms.
 *
 * The load generator runs in its own thread on raw sockets (Slack is not in our process, and a heavy
 * client would be measured instead of the server). Everything each command starts afterwards really runs
 * in the server's thread, competing with the acks: the generation (an instant model, in-memory storage),
 * the upload flow and the response_url replacement, against a stand-in for Slack that answers without a
 * network after `slackLatencyMs`. A round starts when the previous round's images are all delivered.
 *
 * Run alone: `npx tsx bench/slack-benchmark.ts`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { createSlackApp } from '../src/bots/slack/slack-app.ts';
import { signSlackRequest } from '../src/bots/slack/slack-signature.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { buildApp } from '../src/http/build-app.ts';
import { createServices } from '../src/services.ts';
import { instantModel, memoryStorage } from './in-memory-fakes.ts';

/** Commands written at once in each round. */
export const concurrentCommands = 100;
const rounds = 5;
const warmupRounds = 1;
const signingSecret = 'bench-signing-secret';

/** The figures: ack latency percentiles in ms, over `count` commands. */
export interface SlackBenchmarkFigures {
  p50Ms: number;
  p99Ms: number;
  count: number;
}

/**
 * The load generator, as a worker script: opens `connections` keep-alive sockets, then per round writes
 * one request on each at the same instant and reports each socket's time to a complete response.
 */
const loadGenerator = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { port, connections } = workerData;
const sockets = [];
function open() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}
function roundTrip(socket, request) {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const startedAt = performance.now();
    const onData = (chunk) => {
      received = Buffer.concat([received, chunk]);
      const headerEnd = received.indexOf('\\r\\n\\r\\n');
      if (headerEnd < 0) return;
      const head = received.subarray(0, headerEnd).toString('latin1');
      const length = Number((/content-length: *(\\d+)/i.exec(head) || [])[1] || 0);
      if (received.length < headerEnd + 4 + length) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(head.split('\\r\\n')[0]));
      resolve(performance.now() - startedAt);
    };
    socket.on('data', onData);
    socket.write(request);
  });
}
parentPort.on('message', async (requests) => {
  try {
    while (sockets.length < connections) sockets.push(await open());
    const latencies = await Promise.all(requests.map((request, index) => roundTrip(sockets[index], request)));
    parentPort.postMessage({ latencies });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});
`;

function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return Math.round((sorted[index] ?? 0) * 10) / 10;
}

/**
 * p50 / p99 of slash-command ack latency over `rounds` bursts of 100 concurrent commands.
 * `slackLatencyMs` is how long the stand-in Slack takes to answer each Web API call, upload or
 * response_url post (0: at once, the harshest case for the acks, since all image work lands among them).
 */
export async function runSlackBenchmark(
  options: { slackLatencyMs?: number } = {},
): Promise<SlackBenchmarkFigures> {
  const slackLatencyMs = options.slackLatencyMs ?? 0;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-slack-bench-'));
  const config = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    CREATE_DEMO_KEY: 'false',
    GUEST_MONTHLY_IMAGES: '1000000',
    SLACK_MODE: 'http',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: signingSecret,
  });
  const services = await createServices(config, pino({ level: 'silent' }), {
    models: [instantModel()],
    storage: memoryStorage(),
  });
  const settings = config.slack;
  if (!settings) throw new Error('the Slack settings are missing');

  let finished = 0;
  const slackStandIn: typeof fetch = async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    if (slackLatencyMs > 0) await sleep(slackLatencyMs);
    const json = (body: object) =>
      new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    if (url.endsWith('/files.getUploadURLExternal'))
      return json({ ok: true, upload_url: 'https://files.slack.com/upload/v1/bench', file_id: 'FBENCH' });
    if (url.startsWith('https://files.slack.com/')) return new Response('OK', { status: 200 });
    if (url.startsWith('https://hooks.slack.com/')) {
      finished++;
      return new Response('ok', { status: 200 });
    }
    return json({ ok: true });
  };

  const slack = createSlackApp(services, settings, { fetch: slackStandIn });
  const app = await buildApp(services, { chatBots: [slack] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const worker = new Worker(loadGenerator, {
    eval: true,
    workerData: { port, connections: concurrentCommands },
  });

  let sent = 0;
  const signedCommand = (): string => {
    sent++;
    const body = new URLSearchParams({
      team_id: 'TBENCH',
      user_id: `U${sent % 500}`,
      channel_id: 'CBENCH',
      command: '/imagine',
      text: `a lighthouse at dusk number ${sent} --ar 16:9`,
      trigger_id: `bench.${sent}.${Date.now()}`,
      response_url: `https://hooks.slack.com/commands/TBENCH/${sent}/bench`,
    }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    return [
      'POST /slack/events HTTP/1.1',
      `host: 127.0.0.1:${port}`,
      'content-type: application/x-www-form-urlencoded',
      `content-length: ${Buffer.byteLength(body)}`,
      `x-slack-request-timestamp: ${timestamp}`,
      `x-slack-signature: ${signSlackRequest(signingSecret, timestamp, body)}`,
      '',
      body,
    ].join('\r\n');
  };
  const burst = async (): Promise<number[]> => {
    const requests = Array.from({ length: concurrentCommands }, signedCommand);
    const reply = new Promise<{ latencies?: number[]; error?: string }>((resolve) =>
      worker.once('message', resolve),
    );
    worker.postMessage(requests);
    const { latencies, error } = await reply;
    if (!latencies) throw new Error(`the load generator failed: ${error}`);
    // Every command's image is delivered (its "working on it" replaced) before the next burst.
    while (finished < sent) await sleep(5);
    return latencies;
  };

  try {
    for (let round = 0; round < warmupRounds; round++) await burst();
    const latencies: number[] = [];
    for (let round = 0; round < rounds; round++) latencies.push(...(await burst()));
    latencies.sort((left, right) => left - right);
    return { p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), count: latencies.length };
  } finally {
    await worker.terminate();
    await app.close();
    await services.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let missed = false;
  for (const slackLatencyMs of [0, 50]) {
    const figures = await runSlackBenchmark({ slackLatencyMs });
    console.log(
      `Slack slash-command ack, ${concurrentCommands} concurrent, Slack answering in ${slackLatencyMs} ms: p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms over ${figures.count} commands (target p99 < 50 ms)`,
    );
    missed ||= figures.p99Ms >= 50;
  }
  if (missed) process.exitCode = 1;
}
