/**
 * imagine's own time per image in front of a self-hosted GPU: POST /api/v1/generate/image through the real
 * AUTOMATIC1111 adapter to a stand-in A1111 that answers at once. Per request, the service's overhead is the
 * time from the request arriving at imagine to its reply leaving, minus the stand-in's own handling time for
 * that request's txt2img call; what is left is everything imagine does, the A1111 call included. The same
 * path with the instant in-memory model, in alternating runs, is the baseline: the difference is the adapter.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pino from 'pino';
import { type Config, loadConfig } from '../src/config/load-config.ts';
import { createAutomatic1111ImageModel } from '../src/core/providers/automatic1111/automatic1111-image-model.ts';
import type { ImageModel } from '../src/core/providers/image-model.ts';
import { buildApp } from '../src/http/build-app.ts';
import { createServices } from '../src/services.ts';
import { instantModel, memoryStorage } from './in-memory-fakes.ts';

/** The target is set at 50 concurrent requests. */
export const selfHostedConnections = 50;
/** Measured runs of each side after a warm-up; each side's run with the median p99 is reported. */
export const selfHostedRounds = 3;
const requestHeader = 'x-bench-request';

/** One run's figures, in milliseconds unless named otherwise. */
export interface SelfHostedFigures {
  /** Requests timed at imagine (and, with the stand-in, at the stand-in too). */
  timed: number;
  requestsPerSecond: number;
  /** Arrival to reply at imagine, minus the stand-in's time for the request (none for the instant model). */
  overheadP50Ms: number;
  overheadP99Ms: number;
  /** Arrival to reply minus the whole time inside the model's generate(): imagine without its adapter. */
  outsideModelP50Ms: number;
  outsideModelP99Ms: number;
  /** The stand-in's own handling time per txt2img call; undefined for the instant model. */
  standInP99Ms: number | undefined;
  /**
   * This process's CPU time (user + system) per answered request, load generator included, stand-in not (it
   * is another process): steadier than latency on a shared machine, whose other work delays a request
   * without spending this process's CPU.
   */
  cpuPerRequestMs: number;
  /** `GET /sdapi/v1/progress` calls the stand-in answered: only a call slower than the poll interval makes one. */
  progressPolls: number;
  /** TCP connections imagine opened to the stand-in: kept alive, about one per concurrent request. */
  standInConnections: number;
  non2xx: number;
  errors: number;
}

/** The value at or below which `fraction` of the sorted values lie (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

function sorted(values: Iterable<number>): number[] {
  return [...values].sort((left, right) => left - right);
}

interface StandIn {
  url: string;
  /** The per-request times kept since the last call, by request id, and the progress polls since then. */
  takeTimings(): Promise<{ times: Map<string, number>; progressPolls: number; connections: number }>;
  stop(): Promise<void>;
}

/**
 * The stand-in runs in its own process, as the GPU box is its own machine: on imagine's event loop its
 * parsing and answering would run between imagine's own steps and be counted as imagine's time, while its
 * own clock (started when its request event fires) would not see the wait; in a worker thread it would
 * still share imagine's process (its heap limits, its libuv thread pool, its CPU accounting). The stand-in's
 * time subtracted from each request is the time it reports for that request.
 */
async function startStandIn(): Promise<StandIn> {
  const child = fork(fileURLToPath(import.meta.resolve('./automatic1111-stand-in.ts')), {
    // tsx's loader, so the child runs the TypeScript as this process does.
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(child, 'message')) as [{ url: string }];
  return {
    url: ready.url,
    async takeTimings() {
      child.send('timings');
      const [answer] = (await once(child, 'message')) as [
        { timings: [string, number][]; progressPolls: number; connections: number },
      ];
      const { progressPolls, connections } = answer;
      return { times: new Map(answer.timings), progressPolls, connections };
    },
    async stop() {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    },
  };
}

/** The bench id a prompt carries. */
function requestIdIn(prompt: string): string | undefined {
  return /bench-\d+/.exec(prompt)?.[0];
}

/** `model`, keeping the time each call spends inside generate(), by the request id in its prompt. */
function timedModel(model: ImageModel, modelTimes: Map<string, number>): ImageModel {
  return {
    ...model,
    async generate(options) {
      const startedAt = performance.now();
      try {
        return await model.generate(options);
      } finally {
        const id = requestIdIn(options.prompt);
        if (id !== undefined) modelTimes.set(id, performance.now() - startedAt);
      }
    },
  };
}

/**
 * imagine listening on 127.0.0.1 with `model`, keeping each request's time from arrival to reply and the
 * time its model call took.
 */
async function startImagine(config: Config, model: ImageModel) {
  const modelTimes = new Map<string, number>();
  const services = await createServices(config, pino({ level: 'silent' }), {
    models: [timedModel(model, modelTimes)],
    storage: memoryStorage(),
  });
  const app = await buildApp(services);
  // Many app users, as in the API benchmark: requests take the keys in turn, so the 50 in flight are 50
  // users', each within the default per-user line (MAX_JOBS_PER_USER).
  const keys: string[] = [];
  for (let user = 0; user < selfHostedConnections; user++) {
    keys.push(await services.apiKeys.create(`bench-user-${user}`, { plan: 'bench' }));
  }
  // Ahead of Fastify's own listener, until the response is handed to the socket (what Fastify's
  // reply.elapsedTime measures too, from a little later).
  const serverTimes = new Map<string, number>();
  app.server.prependListener('request', (request, response) => {
    const arrivedAt = performance.now();
    const id = request.headers[requestHeader];
    if (typeof id !== 'string') return;
    response.on('finish', () => serverTimes.set(id, performance.now() - arrivedAt));
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    address,
    keys,
    serverTimes,
    modelTimes,
    async close() {
      await app.close();
      await services.close();
    },
  };
}

type Imagine = Awaited<ReturnType<typeof startImagine>>;

let nextId = 0;

async function load(imagine: Imagine, seconds: number, standIn: StandIn | undefined) {
  imagine.serverTimes.clear();
  imagine.modelTimes.clear();
  await standIn?.takeTimings();
  const cpuBefore = process.cpuUsage();
  // In imagine's process, as the API benchmark's headline figure: both sides pay the same client cost.
  const result = await autocannon({
    url: `${imagine.address}/api/v1/generate/image`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: selfHostedConnections,
    duration: seconds,
    requests: [
      {
        // Each request names itself, in a header for imagine's side and in the prompt for the stand-in's.
        setupRequest: (request) => {
          const sequence = nextId++;
          const id = `bench-${sequence}`;
          const key = imagine.keys[sequence % imagine.keys.length];
          return {
            ...request,
            headers: { ...request.headers, authorization: `Bearer ${key}`, [requestHeader]: id },
            // The API benchmark's body (what the mobile app sends), the prompt carrying the id.
            body: JSON.stringify({
              prompt: `Flutter logo in office of pakistan ${id}`,
              size: '1024x1024',
              style: 'realistic',
              aspect_ratio: '1:1',
              enhance_prompt: true,
            }),
          };
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpuBefore);
  const standInSide = await standIn?.takeTimings();
  const standInTimes = standInSide?.times;
  const overheads: number[] = [];
  const outsideModel: number[] = [];
  for (const [id, serverMs] of imagine.serverTimes) {
    const standInMs = standInTimes ? standInTimes.get(id) : 0;
    const modelMs = imagine.modelTimes.get(id);
    if (standInMs === undefined || modelMs === undefined) continue;
    overheads.push(serverMs - standInMs);
    outsideModel.push(serverMs - modelMs);
  }
  const overheadsSorted = sorted(overheads);
  const outsideModelSorted = sorted(outsideModel);
  return {
    timed: overheads.length,
    requestsPerSecond: result.requests.average,
    overheadP50Ms: percentile(overheadsSorted, 0.5),
    overheadP99Ms: percentile(overheadsSorted, 0.99),
    outsideModelP50Ms: percentile(outsideModelSorted, 0.5),
    outsideModelP99Ms: percentile(outsideModelSorted, 0.99),
    standInP99Ms: standInTimes ? percentile(sorted(standInTimes.values()), 0.99) : undefined,
    cpuPerRequestMs: (cpu.user + cpu.system) / 1000 / Math.max(1, result.requests.total),
    progressPolls: standInSide?.progressPolls ?? 0,
    standInConnections: standInSide?.connections ?? 0,
    non2xx: result.non2xx,
    errors: result.errors,
  } satisfies SelfHostedFigures;
}

function medianByP99(runs: SelfHostedFigures[]): SelfHostedFigures {
  const ordered = [...runs].sort((left, right) => left.overheadP99Ms - right.overheadP99Ms);
  return ordered[Math.floor(ordered.length / 2)] as SelfHostedFigures;
}

/**
 * Warms both up for a second, then alternates A1111 and instant-model runs of `seconds` each at 50
 * connections, so a slow spell of a shared machine hits both alike. Progress polling stays as configured by
 * default (every second): an instant answer settles each call before its first poll, so each request arms
 * and clears one poll timer, as it would in production in front of a fast GPU.
 */
export async function runSelfHostedBenchmark(seconds: number, rounds = selfHostedRounds) {
  const standIn = await startStandIn();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-selfhosted-bench-'));
  const config = (folder: string) =>
    loadConfig({
      NODE_ENV: 'production',
      DATA_DIR: path.join(dataDir, folder),
      LOG_LEVEL: 'silent',
      PLAN_LIMITS: 'bench=1000000000',
      RATE_LIMIT_PER_MINUTE: '1000000000',
      CREATE_DEMO_KEY: 'false',
    });
  const a1111Config = config('automatic1111');
  // Built straight from the factory and registered under the default model's id, so routing picks it.
  const a1111 = await startImagine(
    a1111Config,
    createAutomatic1111ImageModel({
      modelId: a1111Config.generation.defaultModel,
      baseUrl: standIn.url,
      vendorModel: undefined,
      maxImagesPerCall: 4,
      timeoutMs: 60_000,
      options: {},
      env: {},
    }),
  );
  const instantConfig = config('instant');
  const instant = await startImagine(instantConfig, instantModel(instantConfig.generation.defaultModel));
  try {
    await load(a1111, 1, standIn);
    await load(instant, 1, undefined);
    const a1111Runs: SelfHostedFigures[] = [];
    const instantRuns: SelfHostedFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      a1111Runs.push(await load(a1111, seconds, standIn));
      instantRuns.push(await load(instant, seconds, undefined));
    }
    return { automatic1111: medianByP99(a1111Runs), instant: medianByP99(instantRuns) };
  } finally {
    await a1111.close();
    await instant.close();
    await standIn.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
