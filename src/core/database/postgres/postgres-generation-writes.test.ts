import pino from 'pino';
import type { Sql } from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { imagineRefusal as refusal } from '../../../test-support/imagine-refusal.ts';
import { postgresPerTest } from '../../../test-support/store-engines.ts';
import type { GenerationRecord } from '../../generation/generation-records.ts';
import { PostgresGenerationStore } from '../../generation/postgres/postgres-generation-store.ts';
import type { JobRowWithHold } from '../../jobs/new-job-row.ts';
import type { ReservationRequest } from '../../quota/quota-accounting.ts';
import { createPostgresPool } from './open-postgres.ts';
import { PostgresGenerationWrites } from './postgres-generation-writes.ts';
import { PostgresWriteBatcher } from './postgres-write-batcher.ts';

const now = new Date('2026-03-10T12:00:00.000Z');

const request = (userId: string, extra: Partial<ReservationRequest> = {}): ReservationRequest => ({
  userId,
  userLimit: 5,
  scope: undefined,
  images: 1,
  estimatedUsd: 0,
  budgetUsd: undefined,
  ...extra,
});

const jobRow = (id: string, userId: string, maxRunning = 10): JobRowWithHold => ({
  row: {
    id,
    userId,
    kind: 'image',
    source: 'api',
    delivery: 'rest',
    request: { prompt: 'a lighthouse' },
    status: 'running',
    workerId: 'worker-a',
    now,
  },
  maxRunning,
});

const record = (id: string, userId: string): GenerationRecord => ({
  id,
  userId,
  batchId: undefined,
  source: 'api',
  prompt: 'a lighthouse',
  promptUsed: 'a lighthouse',
  negativePrompt: undefined,
  style: undefined,
  model: 'placeholder',
  seed: 7,
  width: 256,
  height: 256,
  quality: 'standard',
  costUsd: 0,
  generationMs: 5,
  storageKey: `${id}.png`,
  imageUrl: `http://images.invalid/${id}.png`,
  contentType: 'image/png',
  providerRequestId: undefined,
  warnings: [],
  createdAt: now,
  parentId: undefined,
  kind: undefined,
});

// The request path's writes on PostgreSQL, each one round trip: the hold with its job row (the advisory
// lock sent together with one statement), the charge with its records and the job's end (one statement).
// The server when one answers at 127.0.0.1:5432, PGlite when not.
describe('PostgresGenerationWrites', () => {
  const postgres = postgresPerTest();
  let writes: PostgresGenerationWrites;
  const open = (pool: Sql) =>
    new PostgresGenerationWrites({
      sql: pool,
      writes: new PostgresWriteBatcher(pool),
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
  beforeAll(() => {
    writes = open(postgres.sql);
  });

  const jobStatuses = async () =>
    (await postgres.sql<{ id: string; status: string }[]>`SELECT id, status FROM jobs ORDER BY id`).map(
      (row) => `${row.id}:${row.status}`,
    );
  const counter = async (subject: string, period: string) =>
    (
      await postgres.sql<{ used_images: number; reserved_images: number }[]>`
        SELECT used_images, reserved_images FROM quota_counters WHERE subject = ${subject} AND period = ${period}`
    )[0];

  it('holds with the job row, and a refusal in the same group writes neither row nor counter', async () => {
    for (let index = 0; index < 4; index++) {
      await writes.hold(request('alice', { userLimit: 5 }), jobRow(`old-${index}`, 'alice'));
    }
    // Queued in one turn: one group, whose refused write loses only itself.
    const refused = refusal(() => writes.hold(request('alice', { images: 2 }), jobRow('job-a', 'alice')));
    const held = writes.hold(request('bob'), jobRow('job-b', 'bob'));
    expect((await refused).code).toBe('graphics_limit_reached');
    expect((await refused).context).toEqual({ used: 4, limit: 5 });
    expect(await held).toMatchObject({ userId: 'bob', images: 1 });
    expect(await jobStatuses()).toEqual([
      'job-b:running',
      'old-0:running',
      'old-1:running',
      'old-2:running',
      'old-3:running',
    ]);
    expect(await counter('user:alice', '2026-03')).toEqual({ used_images: 0, reserved_images: 4 });
  });

  it('undoes the month it held when the daily allowance refuses, job row and all', async () => {
    await writes.hold(request('alice', { userDailyLimit: 1 }), jobRow('job-1', 'alice'));
    const error = await refusal(() =>
      writes.hold(request('alice', { userDailyLimit: 1 }), jobRow('job-2', 'alice')),
    );
    expect(error.message).toBe('Daily graphics limit reached: 1 images');
    expect(error.context).toMatchObject({ used: 1, limit: 1, limit_period: 'day' });
    expect(await jobStatuses()).toEqual(['job-1:running']);
    expect(await counter('user:alice', '2026-03')).toEqual({ used_images: 0, reserved_images: 1 });
    expect(await counter('user:alice', '2026-03-10')).toEqual({ used_images: 0, reserved_images: 1 });
  });

  it('counts MAX_JOBS_PER_USER across processes: at the limit the row goes in queued and nothing is held', async () => {
    // Two pools, as two processes: each group waits on the user's advisory lock, then counts afresh.
    const other = createPostgresPool({ url: postgres.url, poolSize: 4 });
    try {
      const otherWrites = open(other);
      const outcomes = await Promise.all(
        Array.from({ length: 24 }, async (_, index) => {
          // Spread over event-loop turns, so the holds land in several groups on each pool.
          await new Promise((resolve) => setTimeout(resolve, index % 6));
          const through = index % 2 === 0 ? writes : otherWrites;
          return through.hold(request('alice', { userLimit: 100 }), jobRow(`job-${index}`, 'alice', 3));
        }),
      );
      expect(outcomes.filter((outcome) => outcome === 'job-queued')).toHaveLength(21);
      const [{ running, queued, held } = { running: 0, queued: 0, held: 0 }] = await postgres.sql<
        { running: number; queued: number; held: number }[]
      >`
        SELECT count(*) FILTER (WHERE status = 'running')::int AS running,
          count(*) FILTER (WHERE status = 'queued')::int AS queued,
          (SELECT count(*)::int FROM reservations) AS held
        FROM jobs`;
      expect({ running, queued, held }).toEqual({ running: 3, queued: 21, held: 3 });
      expect(await counter('user:alice', '2026-03')).toEqual({ used_images: 0, reserved_images: 3 });
    } finally {
      await other.end();
    }
  });

  it('charges with the records and the job’s end, keeping a result that quotes the standing', async () => {
    const reservation = await writes.hold(request('alice', { images: 2 }), jobRow('job-1', 'alice'));
    if (reservation === 'job-queued') throw new Error('not queued');
    // Every column's value, awkward ones too, arrives as the record had it.
    const records = [
      {
        ...record('image-1', 'alice'),
        batchId: 'batch-1',
        prompt: 'a "quoted" lighthouse, 灯台 \\ ',
        negativePrompt: 'fog',
        style: 'realistic',
        seed: 4_294_967_295,
        quality: 'high' as const,
        costUsd: 0.0123,
        providerRequestId: 'provider-1',
        warnings: [{ type: 'unsupported' as const, feature: 'seed', detail: 'ignored' }],
        parentId: 'image-0',
        kind: 'variation' as const,
      },
      record('image-2', 'alice'),
    ];
    const usage = await writes.charge({
      reservation,
      records,
      charge: { images: 2, costUsd: 0 },
      userLimit: 5,
      userDailyLimit: undefined,
      job: {
        id: 'job-1',
        result: (standing) => ({ httpStatus: 201, result: { remaining: standing.remaining } }),
      },
    });
    expect(usage).toMatchObject({ used: 2, reserved: 0, remaining: 3 });
    expect(await postgres.sql`SELECT status, http_status, result FROM jobs`).toEqual([
      { status: 'succeeded', http_status: 201, result: '{"remaining":3}' },
    ]);
    const stored = new PostgresGenerationStore(postgres.sql);
    expect(await stored.get('alice', 'image-1')).toEqual(records[0]);
    expect(await stored.get('alice', 'image-2')).toEqual(records[1]);
    expect(await postgres.sql`SELECT id FROM reservations`).toEqual([]);
  });

  it('refuses to charge a hold given back: no record, the job unfinished, nothing charged', async () => {
    const reservation = await writes.hold(request('alice'), jobRow('job-1', 'alice'));
    if (reservation === 'job-queued') throw new Error('not queued');
    await writes.release(reservation.id);
    const error = await refusal(() =>
      writes.charge({
        reservation,
        records: [record('image-1', 'alice')],
        charge: { images: 1, costUsd: 0 },
        userLimit: 5,
        userDailyLimit: undefined,
        job: { id: 'job-1', result: () => undefined },
      }),
    );
    expect(error.code).toBe('generation_failed');
    expect(await postgres.sql`SELECT id FROM generations`).toEqual([]);
    expect(await jobStatuses()).toEqual(['job-1:running']);
    expect(await counter('user:alice', '2026-03')).toEqual({ used_images: 0, reserved_images: 0 });
  });

  it('settles every counter a hold moved, and every counter of a hold whose counters it was not told', async () => {
    const moving = request('alice', {
      userDailyLimit: 4,
      scope: { key: 'guild-1', limit: 10 },
      tally: 'tally:guild-1:alice',
      estimatedUsd: 0.04,
      budgetUsd: 100,
    });
    const charged = async (told: boolean, jobId: string) => {
      const held = await writes.hold(moving, jobRow(jobId, 'alice'));
      if (held === 'job-queued') throw new Error('not queued');
      // A reservation read back from elsewhere carries no word of what its hold moved.
      const { moved: _moved, ...untold } = held;
      await writes.charge({
        reservation: told ? held : untold,
        records: [record(`image-${jobId}`, 'alice')],
        charge: { images: 1, costUsd: 0.04 },
        userLimit: 5,
        userDailyLimit: 4,
        job: { id: jobId, result: () => undefined },
      });
    };
    await charged(true, 'job-1');
    await charged(false, 'job-2');
    const settled = { used_images: 2, reserved_images: 0 };
    expect(await counter('user:alice', '2026-03')).toEqual(settled);
    expect(await counter('user:alice', '2026-03-10')).toEqual(settled);
    expect(await counter('scope:guild-1', '2026-03')).toEqual(settled);
    expect(await counter('tally:guild-1:alice', '2026-03')).toEqual({ used_images: 2, reserved_images: 0 });
    expect(
      await postgres.sql`SELECT spent_usd, reserved_usd FROM quota_counters WHERE subject = 'budget' AND period = '2026-03'`,
    ).toEqual([{ spent_usd: 0.08, reserved_usd: 0 }]);
    expect(await postgres.sql`SELECT id FROM reservations`).toEqual([]);
  });

  it('counts a paid image’s spending though its hold held no budget', async () => {
    const held = await writes.hold(request('alice', { estimatedUsd: 0.04 }), jobRow('job-1', 'alice'));
    if (held === 'job-queued') throw new Error('not queued');
    await writes.charge({
      reservation: held,
      records: [record('image-1', 'alice')],
      charge: { images: 1, costUsd: 0.04 },
      userLimit: 5,
      userDailyLimit: undefined,
      job: { id: 'job-1', result: () => undefined },
    });
    expect(
      await postgres.sql`SELECT spent_usd, reserved_usd FROM quota_counters WHERE subject = 'budget' AND period = '2026-03'`,
    ).toEqual([{ spent_usd: 0.04, reserved_usd: 0 }]);
  });
});
