/**
 * Does latency grow with the data? p99 of `POST /api/v1/generate/image` and of `GET /api/v1/images` on a
 * database holding many users' generations, beside the same on one holding only the benchmarked user's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import postgres, { type Sql, type TransactionSql } from 'postgres';
import { loadConfig } from '../src/config/load-config.ts';
import type { SqliteDatabase } from '../src/core/database/open-database.ts';
import { buildApp } from '../src/http/build-app.ts';
import { createServices, type Services } from '../src/services.ts';
import { createPostgresTestDatabase } from '../src/test-support/postgres-test-database.ts';
import type { BenchEngine } from './api-benchmark.ts';
import { instantModel, memoryStorage } from './in-memory-fakes.ts';

/** How big the grown database is. */
export interface GrowthSize {
  generations: number;
  users: number;
}

/** The issue's figure (`npm run bench -- --growth`), and the default run's tenth of it. */
export const fullGrowth: GrowthSize = { generations: 1_000_000, users: 100_000 };
export const quickGrowth: GrowthSize = { generations: 100_000, users: 10_000 };

/** The benchmarked user's own history, in both databases: a heavy user's month (about 13 images a day). */
const benchHistory = 400;
const benchUser = 'bench-user';
/**
 * A moderate, fixed load (few connections, a set rate): what should not grow is a request's own latency,
 * and a saturated queue would measure the queue (and, on a shared machine, the neighbours) instead.
 */
const growthConnections = 4;
const growthRequestsPerSecond = 400;
const dayMs = 86_400_000;
const windowMs = 30 * dayMs;

const generateBody = JSON.stringify({
  prompt: 'Flutter logo in office of pakistan',
  size: '1024x1024',
  style: 'realistic',
  aspect_ratio: '1:1',
  enhance_prompt: true,
});

interface BenchService {
  app: FastifyInstance;
  services: Services;
  address: string;
  key: string;
  close(): Promise<void>;
}

/** p99 of each route on one side, in ms. */
export interface GrowthLatencies {
  generateP99Ms: number;
  imagesP99Ms: number;
}

async function openService(engine: BenchEngine): Promise<BenchService & { postgresUrl: string | undefined }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-growth-'));
  const database = engine === 'postgres' ? await createPostgresTestDatabase() : undefined;
  const config = loadConfig({
    ...(database
      ? { DATABASE_URL: database.url, DATABASE_POOL_SIZE: String(Math.min(database.poolSize, 10)) }
      : {}),
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PLAN_LIMITS: 'bench=1000000000',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    READ_RATE_LIMIT_PER_MINUTE: '1000000000',
    MAX_JOBS_PER_USER: '1000000',
    CREATE_DEMO_KEY: 'false',
  });
  const services = await createServices(config, pino({ level: 'silent' }), {
    models: [instantModel()],
    storage: memoryStorage(),
  });
  const app = await buildApp(services);
  const key = await services.apiKeys.create(benchUser, { plan: 'bench' });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    services,
    address,
    key,
    postgresUrl: database?.url,
    async close() {
      await app.close();
      await services.close();
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The bench user's history plus, for `others`, the other users' generations: `generations` rows spread
 * evenly over the other users and the last 30 days (older first, as they were made), each other user with
 * a key and this month's counter. One set-based statement per table, in one transaction, so nothing is
 * held in JavaScript and a million rows take seconds.
 */
function fillSqlite(database: SqliteDatabase, others: GrowthSize | undefined, nowMs: number): void {
  const startMs = nowMs - windowMs;
  const period = new Date(nowMs).toISOString().slice(0, 7);
  const insertGenerations = database.prepare(`
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @count),
    rows AS (SELECT i, @startMs + i * @stepMs AS ms FROM n)
    INSERT INTO generations (id, user_id, source, prompt, prompt_used, style, model, seed, width, height,
      quality, cost_usd, generation_ms, storage_key, image_url, content_type, created_at)
    SELECT id, user_id, 'api', 'a bench prompt ' || i, 'a bench prompt ' || i || ', realistic', 'realistic',
      'placeholder', i, 1024, 1024, 'standard', 0.003, 900, id || '.png',
      'http://bench.invalid/' || id || '.png', 'image/png',
      strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch')
    FROM (SELECT i, ms,
        printf('%08x-%04x-7%03x-%04x-%012x', ms / 65536, ms % 65536, i % 4096, 32768 + (i % 16384), @salt + i) AS id,
        CASE WHEN @users = 0 THEN @benchUser ELSE 'user-' || (i % @users) END AS user_id
      FROM rows)`);
  database.transaction(() => {
    insertGenerations.run({
      count: benchHistory,
      startMs,
      stepMs: windowMs / benchHistory,
      users: 0,
      benchUser,
      salt: 0,
    });
    database
      .prepare(
        'INSERT INTO quota_counters (subject, period, used_images) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET used_images = excluded.used_images',
      )
      .run(`user:${benchUser}`, period, benchHistory);
    if (!others) return;
    const createdAt = new Date(startMs).toISOString();
    database
      .prepare(`
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @users)
        INSERT INTO users (id, plan, created_at) SELECT 'user-' || i, NULL, @createdAt FROM n`)
      .run({ users: others.users, createdAt });
    database
      .prepare(`
        INSERT INTO api_keys (id, prefix, key_hash, user_id, label, created_at)
        SELECT 'key-' || id, 'imk_g' || substr(id, 6), 'hash-' || id, id, NULL, created_at FROM users
        WHERE id LIKE 'user-%'`)
      .run();
    database
      .prepare(`
        INSERT INTO quota_counters (subject, period, used_images)
        SELECT 'user:' || id, @period, @perUser FROM users WHERE id LIKE 'user-%'`)
      .run({ period, perUser: Math.ceil(others.generations / others.users) });
    insertGenerations.run({
      count: others.generations - benchHistory,
      startMs,
      stepMs: windowMs / others.generations,
      users: others.users,
      benchUser,
      salt: 1_000_000_000,
    });
  })();
}

/** The same rows as `fillSqlite`, from `generate_series`, then ANALYZE as autovacuum would in time. */
async function fillPostgres(url: string, others: GrowthSize | undefined, nowMs: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const startMs = nowMs - windowMs;
  const period = new Date(nowMs).toISOString().slice(0, 7);
  const insertGenerations = (
    on: Sql | TransactionSql,
    count: number,
    stepMs: number,
    users: number,
    salt: number,
  ) => on`
    INSERT INTO generations (id, user_id, source, prompt, prompt_used, style, model, seed, width, height,
      quality, cost_usd, generation_ms, storage_key, image_url, content_type, created_at)
    SELECT id, user_id, 'api', 'a bench prompt ' || i, 'a bench prompt ' || i || ', realistic', 'realistic',
      'placeholder', i, 1024, 1024, 'standard', 0.003, 900, id || '.png',
      'http://bench.invalid/' || id || '.png', 'image/png', to_timestamp(ms / 1000.0)
    FROM (
      SELECT i, ms,
        lpad(to_hex(ms >> 16), 8, '0') || '-' || lpad(to_hex(ms & 65535), 4, '0') || '-7' ||
        lpad(to_hex(i & 4095), 3, '0') || '-' || to_hex(32768 | (i & 16383)) || '-' ||
        lpad(to_hex(${salt}::bigint + i), 12, '0') AS id,
        CASE WHEN ${users}::integer = 0 THEN ${benchUser} ELSE 'user-' || (i % greatest(${users}::integer, 1)) END AS user_id
      FROM (SELECT i, (${startMs}::bigint + floor(i * ${stepMs}::double precision))::bigint AS ms
        FROM generate_series(0, ${count - 1}::integer) AS i) AS timed
    ) AS rows`;
  try {
    await sql.begin(async (transaction) => {
      await transaction`
        INSERT INTO quota_counters (subject, period, used_images) VALUES (${`user:${benchUser}`}, ${period}, ${benchHistory})
        ON CONFLICT (subject, period) DO UPDATE SET used_images = excluded.used_images`;
      await insertGenerations(transaction, benchHistory, windowMs / benchHistory, 0, 0);
      if (!others) return;
      const createdAt = new Date(startMs);
      await transaction`
        INSERT INTO users (id, plan, created_at)
        SELECT 'user-' || i, NULL, ${createdAt} FROM generate_series(0, ${others.users - 1}::integer) AS i`;
      await transaction`
        INSERT INTO api_keys (id, prefix, key_hash, user_id, label, created_at)
        SELECT 'key-' || id, 'imk_g' || substr(id, 6), 'hash-' || id, id, NULL, created_at FROM users
        WHERE id LIKE 'user-%'`;
      await transaction`
        INSERT INTO quota_counters (subject, period, used_images)
        SELECT 'user:' || id, ${period}, ${Math.ceil(others.generations / others.users)} FROM users
        WHERE id LIKE 'user-%'`;
    });
    if (others) {
      // Its own statement: one INSERT … SELECT streams in the server, whatever the count.
      await insertGenerations(
        sql,
        others.generations - benchHistory,
        windowMs / others.generations,
        others.users,
        1_000_000_000,
      );
    }
    await sql`ANALYZE`;
  } finally {
    await sql.end();
  }
}

/** The response times (ms, fractional) of one closed-loop autocannon run, as its p99. */
async function p99Of(service: BenchService, method: 'POST' | 'GET', url: string, seconds: number) {
  const times: number[] = [];
  let failures = 0;
  const instance = autocannon({
    url: `${service.address}${url}`,
    method,
    headers: {
      authorization: `Bearer ${service.key}`,
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    ...(method === 'POST' ? { body: generateBody } : {}),
    connections: growthConnections,
    overallRate: growthRequestsPerSecond,
    duration: seconds,
  });
  (instance as unknown as autocannon.Instance).on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 300) failures++;
    times.push(responseTime);
  });
  await instance;
  times.sort((left, right) => left - right);
  return { p99Ms: times[Math.floor(times.length * 0.99)] ?? Number.NaN, count: times.length, failures };
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Both databases are open side by side (each with its own service), and the runs alternate between them
 * in rounds (empty, then grown, per route), so a slow spell of a shared machine falls on both alike; each
 * side's p99 is the median of its rounds, and the ratio the median of the rounds' ratios.
 */
export const growthRounds = 5;

export async function runGrowthBenchmark(
  engine: BenchEngine,
  size: GrowthSize,
  seconds: number,
  rounds = growthRounds,
) {
  const nowMs = Date.now();
  const empty = await openService(engine);
  const grown = await openService(engine);
  try {
    const fillStartedAt = performance.now();
    if (engine === 'sqlite') {
      fillSqlite(empty.services.database as SqliteDatabase, undefined, nowMs);
      fillSqlite(grown.services.database as SqliteDatabase, size, nowMs);
    } else {
      await fillPostgres(empty.postgresUrl as string, undefined, nowMs);
      await fillPostgres(grown.postgresUrl as string, size, nowMs);
    }
    const fillSeconds = (performance.now() - fillStartedAt) / 1000;
    const sides = { empty, grown };
    const runs = { empty: [] as GrowthLatencies[], grown: [] as GrowthLatencies[] };
    let failures = 0;
    for (const side of [empty, grown]) {
      await p99Of(side, 'POST', '/api/v1/generate/image', 1);
      await p99Of(side, 'GET', '/api/v1/images', 1);
    }
    for (let round = 0; round < rounds; round++) {
      for (const name of ['empty', 'grown'] as const) {
        const generate = await p99Of(sides[name], 'POST', '/api/v1/generate/image', seconds);
        const images = await p99Of(sides[name], 'GET', '/api/v1/images', seconds);
        failures += generate.failures + images.failures;
        runs[name].push({ generateP99Ms: generate.p99Ms, imagesP99Ms: images.p99Ms });
      }
    }
    const ratio = (pick: (latencies: GrowthLatencies) => number) =>
      median(runs.grown.map((run, round) => pick(run) / pick(runs.empty[round] as GrowthLatencies)));
    const sideFigures = (name: 'empty' | 'grown'): GrowthLatencies => ({
      generateP99Ms: median(runs[name].map((run) => run.generateP99Ms)),
      imagesP99Ms: median(runs[name].map((run) => run.imagesP99Ms)),
    });
    return {
      fillSeconds,
      empty: sideFigures('empty'),
      grown: sideFigures('grown'),
      generateRatio: ratio((run) => run.generateP99Ms),
      imagesRatio: ratio((run) => run.imagesP99Ms),
      failures,
    };
  } finally {
    await empty.close();
    await grown.close();
  }
}
