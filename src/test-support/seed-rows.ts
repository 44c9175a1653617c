/**
 * Raw rows for a contract suite that reads tables another family's store writes (the admin reports read
 * users, identities, API keys, generations, jobs and quota counters). One INSERT per row on either engine,
 * with each table's other columns given plain defaults, so a suite need not wait for those stores.
 */
import { isoTimestamp } from '../core/database/iso-timestamp.ts';
import type { RawDatabase } from './store-engines.ts';

type Value = string | number | boolean | Date | null;

/** Inserts `row` into `table` as it is (column names are the keys). */
export async function insertRow(raw: RawDatabase, table: string, row: Record<string, Value>): Promise<void> {
  if (raw.engine === 'postgres') {
    await raw.sql`INSERT INTO ${raw.sql(table)} ${raw.sql(row)}`;
    return;
  }
  const columns = Object.keys(row);
  raw.database
    .prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
    .run(...columns.map((column) => sqliteValue(row[column] ?? null)));
}

/** How many rows `table` holds. */
export async function countRows(raw: RawDatabase, table: string): Promise<number> {
  if (raw.engine === 'postgres') {
    const [row] = await raw.sql<
      { count: number }[]
    >`SELECT COUNT(*)::integer AS count FROM ${raw.sql(table)}`;
    return row?.count ?? 0;
  }
  return (raw.database.prepare(`SELECT COUNT(*) AS count FROM ${table}`).get() as { count: number }).count;
}

// SQLite keeps instants as ISO text and booleans as 0/1, as the stores write them.
function sqliteValue(value: Value): string | number | null {
  if (value instanceof Date) return isoTimestamp(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

const seededAt = new Date('2026-01-01T00:00:00.000Z');

export function seedUser(
  raw: RawDatabase,
  user: { id: string; plan?: string | null; createdAt?: Date },
): Promise<void> {
  return insertRow(raw, 'users', {
    id: user.id,
    plan: user.plan ?? null,
    created_at: user.createdAt ?? seededAt,
  });
}

export function seedIdentity(
  raw: RawDatabase,
  identity: { identity: string; userId: string },
): Promise<void> {
  return insertRow(raw, 'identities', {
    identity: identity.identity,
    user_id: identity.userId,
    linked_at: seededAt,
  });
}

export function seedApiKey(
  raw: RawDatabase,
  key: { id: string; prefix: string; userId: string; admin: boolean; revokedAt?: Date },
): Promise<void> {
  return insertRow(raw, 'api_keys', {
    id: key.id,
    prefix: key.prefix,
    key_hash: `hash-of-${key.id}`,
    user_id: key.userId,
    label: null,
    created_at: seededAt,
    revoked_at: key.revokedAt ?? null,
    admin: key.admin,
  });
}

export function seedGeneration(
  raw: RawDatabase,
  generation: {
    id: string;
    userId: string;
    createdAt: Date;
    model?: string;
    source?: string;
    prompt?: string;
    costUsd?: number;
  },
): Promise<void> {
  const prompt = generation.prompt ?? 'a lighthouse at dusk';
  return insertRow(raw, 'generations', {
    id: generation.id,
    user_id: generation.userId,
    batch_id: null,
    source: generation.source ?? 'api',
    prompt,
    prompt_used: prompt,
    negative_prompt: null,
    style: null,
    model: generation.model ?? 'placeholder',
    seed: 42,
    width: 1024,
    height: 768,
    quality: 'standard',
    cost_usd: generation.costUsd ?? 0,
    generation_ms: 1200,
    storage_key: `images/${generation.id}.png`,
    image_url: `http://127.0.0.1/images/${generation.id}.png`,
    content_type: 'image/png',
    provider_request_id: null,
    warnings: '[]',
    created_at: generation.createdAt,
  });
}

export function seedJob(
  raw: RawDatabase,
  job: {
    id: string;
    userId: string;
    status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
    request: string;
    createdAt: Date;
    progress?: number;
  },
): Promise<void> {
  return insertRow(raw, 'jobs', {
    id: job.id,
    user_id: job.userId,
    kind: 'image',
    source: 'api',
    delivery: 'rest-async',
    request: job.request,
    status: job.status,
    http_status: null,
    result: null,
    worker_id: 'worker-1',
    heartbeat_at: job.createdAt,
    created_at: job.createdAt,
    started_at: null,
    finished_at: null,
    provider_request_id: null,
    progress: job.progress ?? null,
  });
}

export function seedCounter(
  raw: RawDatabase,
  counter: { subject: string; period: string; used?: number; reserved?: number; spentUsd?: number },
): Promise<void> {
  return insertRow(raw, 'quota_counters', {
    subject: counter.subject,
    period: counter.period,
    used_images: counter.used ?? 0,
    reserved_images: counter.reserved ?? 0,
    spent_usd: counter.spentUsd ?? 0,
    reserved_usd: 0,
  });
}
