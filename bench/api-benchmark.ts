/** Requests/s and latency of POST /api/v1/generate/image beside a bare Fastify route parsing the same JSON. */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/load-config.ts';
import { buildApp } from '../src/http/build-app.ts';
import { createServices } from '../src/services.ts';
import { createPostgresTestDatabase } from '../src/test-support/postgres-test-database.ts';
import { instantModel, memoryStorage } from './in-memory-fakes.ts';

/** One autocannon run's figures. */
export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

// The body from the integration note: what the mobile app sends.
const referenceBody = JSON.stringify({
  prompt: 'Flutter logo in office of pakistan',
  size: '1024x1024',
  style: 'realistic',
  aspect_ratio: '1:1',
  enhance_prompt: true,
});

/** Concurrent connections: enough that the server, not the round trip, is what is measured. */
export const connections = 100;

/** Load before each measured run, on the same instance, not counted. */
export const warmUpSeconds = 1;

/**
 * Where the load generator runs. `in-process`: autocannon's usual programmatic setup, sharing the server's
 * thread, so both sides pay the same client cost per request. `own-thread`: a worker thread, so the server
 * has a core to itself; stricter, and on a 2-core machine the bare route then waits on the client.
 */
export type ClientPlacement = 'in-process' | 'own-thread';

/** Sets each connection's API key: one app user per connection (see `measureImagineApi`). */
const oneUserPerConnectionPath = fileURLToPath(import.meta.resolve('./one-user-per-connection.cjs'));
type SetupClient = NonNullable<autocannon.Options['setupClient']>;

/**
 * The setup function in the load generator's own thread; in a worker thread, the file's path, which is how
 * autocannon takes functions there (its types know only the function).
 */
function oneUserPerConnection(placement: ClientPlacement): SetupClient {
  return placement === 'own-thread'
    ? (oneUserPerConnectionPath as unknown as SetupClient)
    : (createRequire(import.meta.url)(oneUserPerConnectionPath) as SetupClient);
}

async function load(
  app: FastifyInstance,
  url: string,
  keys: readonly string[],
  seconds: number,
  placement: ClientPlacement,
) {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.env.IMAGINE_BENCH_KEYS = JSON.stringify(keys);
  const run = (duration: number) =>
    autocannon({
      url: `${address}${url}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: referenceBody,
      connections,
      duration,
      ...(keys.length > 0 ? { setupClient: oneUserPerConnection(placement) } : {}),
      ...(placement === 'own-thread' ? { workers: 1 } : {}),
    });
  // A service runs for days: its first second (a fresh pool's connections, each new PostgreSQL backend
  // faulting in shared buffers and loading its catalog caches, a fresh SQLite file's first pages) is not
  // what it does under load. Each side gets the same warm-up on its own instance, unmeasured.
  await run(warmUpSeconds);
  const result = await run(seconds);
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  } satisfies LoadFigures;
}

/** A Fastify app with one route that parses the body and answers 201 with a small JSON: the ceiling. */
export async function measureBareFastify(seconds: number, placement: ClientPlacement): Promise<LoadFigures> {
  const app = Fastify({ logger: false });
  app.post('/bare', async (request, reply) => {
    const body = request.body as { prompt: string };
    return reply.code(201).send({ success: true, prompt: body.prompt });
  });
  try {
    return await load(app, '/bare', [], seconds, placement);
  } finally {
    await app.close();
  }
}

/** Where the service keeps its stores: the SQLite file under DATA_DIR, or a fresh PostgreSQL database. */
export type BenchEngine = 'sqlite' | 'postgres';

/**
 * The real app and pipeline (auth, validation, rate limit, ledger, records) with an instant model, on a
 * fresh SQLite file or a fresh PostgreSQL database (`createPostgresTestDatabase`: the server at
 * 127.0.0.1:5432 when it answers, else PGlite).
 */
export async function measureImagineApi(
  seconds: number,
  placement: ClientPlacement,
  engine: BenchEngine = 'sqlite',
): Promise<LoadFigures> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-bench-'));
  const postgres = engine === 'postgres' ? await createPostgresTestDatabase() : undefined;
  const config = loadConfig({
    ...(postgres
      ? { DATABASE_URL: postgres.url, DATABASE_POOL_SIZE: String(Math.min(postgres.poolSize, 10)) }
      : {}),
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PLAN_LIMITS: 'bench=1000000000',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    CREATE_DEMO_KEY: 'false',
  });
  const services = await createServices(config, pino({ level: 'silent' }), {
    models: [instantModel()],
    storage: memoryStorage(),
  });
  const app = await buildApp(services);
  // The mobile app's traffic: many users, each waiting for its own image. One connection per user keeps each
  // within the default per-user line (MAX_JOBS_PER_USER), so what is measured is the machinery, not that policy.
  const keys: string[] = [];
  for (let user = 0; user < connections; user++) {
    keys.push(await services.apiKeys.create(`bench-user-${user}`, { plan: 'bench' }));
  }
  try {
    return await load(app, '/api/v1/generate/image', keys, seconds, placement);
  } finally {
    await app.close();
    await services.close();
    await postgres?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function medianRun(runs: LoadFigures[]): LoadFigures {
  const sorted = [...runs].sort((left, right) => left.requestsPerSecond - right.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] as LoadFigures;
}

/** Alternating runs of each side per benchmark: enough for a median that one noisy run cannot move. */
export const apiRounds = 5;

/**
 * Warms both up, then alternates bare and imagine runs. The ratio is the median of each round's pair (a bare
 * run and the imagine run right after it), so a slow spell of a shared machine, which slows both sides of a
 * pair alike, does not decide it; the figures shown for each side are its median run.
 */
export async function runApiBenchmark(seconds: number, placement: ClientPlacement, rounds = apiRounds) {
  await measureBareFastify(1, placement);
  await measureImagineApi(1, placement);
  const bareRuns: LoadFigures[] = [];
  const imagineRuns: LoadFigures[] = [];
  for (let round = 0; round < rounds; round++) {
    bareRuns.push(await measureBareFastify(seconds, placement));
    imagineRuns.push(await measureImagineApi(seconds, placement));
  }
  const ratios = imagineRuns
    .map((run, round) => run.requestsPerSecond / (bareRuns[round] as LoadFigures).requestsPerSecond)
    .sort((left, right) => left - right);
  return {
    bare: medianRun(bareRuns),
    imagine: medianRun(imagineRuns),
    ratio: ratios[Math.floor(ratios.length / 2)] as number,
  };
}

/** Alternating SQLite and PostgreSQL runs of the API. */
export const engineRounds = 3;

/**
 * The same API run on SQLite and on PostgreSQL, alternating (SQLite first in each round, on a fresh file;
 * PostgreSQL on a fresh database each run). The ratio is the median of the rounds' pairs, as above.
 */
export async function runEngineApiBenchmark(seconds: number, rounds = engineRounds) {
  await measureImagineApi(1, 'in-process', 'sqlite');
  await measureImagineApi(1, 'in-process', 'postgres');
  const sqliteRuns: LoadFigures[] = [];
  const postgresRuns: LoadFigures[] = [];
  for (let round = 0; round < rounds; round++) {
    sqliteRuns.push(await measureImagineApi(seconds, 'in-process', 'sqlite'));
    postgresRuns.push(await measureImagineApi(seconds, 'in-process', 'postgres'));
  }
  const ratios = postgresRuns
    .map((run, round) => run.requestsPerSecond / (sqliteRuns[round] as LoadFigures).requestsPerSecond)
    .sort((left, right) => left - right);
  return {
    engine: (await postgresEngine()) as 'server' | 'pglite',
    sqlite: medianRun(sqliteRuns),
    postgres: medianRun(postgresRuns),
    ratio: ratios[Math.floor(ratios.length / 2)] as number,
  };
}

/** Which PostgreSQL the runs got: the server when it answers, else PGlite. */
async function postgresEngine(): Promise<'server' | 'pglite'> {
  const database = await createPostgresTestDatabase();
  await database.drop();
  return database.engine;
}
