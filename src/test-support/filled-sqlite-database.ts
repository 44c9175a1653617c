/**
 * An SQLite database with a row in EVERY table, written by today's classes exactly as the service writes
 * them, for the `db import-sqlite` tests. All seeding is here, so a class that changes its shape (sync to
 * async, a new constructor argument) is adjusted in this one file. The calls are awaited already: a method
 * that becomes async keeps working unchanged.
 */
import { loadConfig } from '../config/load-config.ts';
import { ApiKeys } from '../core/accounts/api-keys.ts';
import { LinkCodes } from '../core/accounts/link-codes.ts';
import { UserAccounts } from '../core/accounts/user-accounts.ts';
import { AuditLog } from '../core/admin/audit-log.ts';
import { ConsoleSessions } from '../core/admin/console-sessions.ts';
import { GenerationFailures } from '../core/admin/generation-failures.ts';
import { ChatAdmin } from '../core/chat/chat-admin.ts';
import { ChatCooldowns } from '../core/chat/chat-cooldowns.ts';
import { PersonalSettingsStore } from '../core/chat/personal-settings.ts';
import { ProcessedEvents } from '../core/chat/processed-events.ts';
import type { SqliteDatabase } from '../core/database/open-database.ts';
import { newRecordId } from '../core/database/record-id.ts';
import { openSqliteStores } from '../core/database/sqlite/sqlite-stores.ts';
import { WriteBatcher } from '../core/database/write-batcher.ts';
import { type GenerationRecord, GenerationRecords } from '../core/generation/generation-records.ts';
import { IdempotencyKeys } from '../core/jobs/idempotency-keys.ts';
import { SqliteQuotaLedger } from '../core/quota/sqlite/sqlite-quota-ledger.ts';

/** The instant the database was filled at ("now" for the import, so its month's counters are current). */
export const filledAt = new Date('2026-03-14T15:09:26.535Z');

/** What the tests look for after an import. */
export interface FilledDatabase {
  /** The generation with the awkward values (a float cost, a seed, JSON warnings, a lineage). */
  generationId: string;
  /** A job that succeeded with a JSON result. */
  jobId: string;
}

/**
 * Fills every table of `database` (opened with `openDatabase` on a file, migrated to today's schema) with
 * the clock at `filledAt`, plus a counter of an earlier month and a hold still in flight.
 */
export async function fillEverySqliteTable(database: SqliteDatabase): Promise<FilledDatabase> {
  let instant = filledAt;
  const now = () => instant;
  const plans = loadConfig({}).plans;
  const writes = new WriteBatcher(database);
  const stores = openSqliteStores({ database, writes, now });

  // users, identities, api_keys, link_codes
  const accounts = new UserAccounts(stores.accounts, plans, now);
  const apiKeys = new ApiKeys(stores.apiKeys, accounts, now);
  const linkCodes = new LinkCodes(stores.linkCodes, accounts, now);
  await accounts.ensureUser('alice', 'pro');
  await accounts.ensureUser('bob');
  const adminKey = await apiKeys.create('ops', { admin: true, label: 'operator key' });
  const revoked = await apiKeys.create('alice', { label: 'old script' });
  await apiKeys.revoke(revoked.slice(0, 12));
  await apiKeys.create('bob', { plan: 'enterprise' });
  await accounts.link('discord:111', 'alice');
  await accounts.link('slack:T1:U2', 'bob');
  const code = await linkCodes.create('alice');
  await linkCodes.redeem(code.code, 'discord:222');
  await linkCodes.create('bob'); // still unused

  // quota_counters (user month and day, scope, budget, tally, grant; an earlier month) and reservations
  const ledger = new SqliteQuotaLedger(database, now);
  instant = new Date('2026-02-20T08:00:00.000Z');
  const february = await ledger.reserve(holdFor('alice', 2));
  await ledger.commit(february.id, { images: 2, costUsd: 0.08 });
  instant = filledAt;
  const jobId = newRecordId(instant);
  const march = await ledger.reserve({
    ...holdFor('alice', 3),
    userDailyLimit: 10,
    scope: { key: 'discord-guild:42', limit: 100 },
    budgetUsd: 50,
    jobId,
    tally: 'place:discord-guild:42:discord:111',
  });
  await ledger.commit(march.id, { images: 3, costUsd: 0.1 + 0.2 });
  // A hold in flight when the service stopped: a crash left it.
  await ledger.reserve({ ...holdFor('bob', 1), imageIds: [newRecordId(instant)] });

  // generations: one plain, one made from it with every optional column set
  const generations = new GenerationRecords(stores.generations);
  const parentId = newRecordId(instant);
  await generations.insert([generation(parentId, 'alice', { batchId: jobId })]);
  const generationId = newRecordId(new Date(instant.getTime() + 1));
  await generations.insert([
    generation(generationId, 'alice', {
      batchId: jobId,
      negativePrompt: 'blurry, "low" quality',
      style: 'realistic',
      seed: 4_294_967_295,
      costUsd: 0.1 + 0.2,
      providerRequestId: 'pred_abc123',
      warnings: [{ type: 'mapped', feature: 'aspectRatio', detail: '16:9 → 1344×768 ✓' }],
      parentId,
      kind: 'variation',
    }),
  ]);

  // jobs (finished only: an import refuses unfinished ones) and idempotency_keys
  const jobs = stores.jobs;
  await jobs.insert({
    id: jobId,
    userId: 'alice',
    kind: 'batch',
    source: 'api',
    delivery: 'rest-async',
    request: { prompt: 'a lighthouse at dusk', n: 2, extra: { nested: [1, 2.5, null] } },
    status: 'queued',
    workerId: 'worker-a',
    now: instant,
  });
  await jobs.start(jobId, instant);
  await jobs.setProviderRequest(jobId, 'pred_abc123');
  await jobs.setProgress(jobId, 0.75);
  await jobs.finish(
    jobId,
    { status: 'succeeded', httpStatus: 201, result: { images: [generationId] } },
    instant,
  );
  const failedJob = newRecordId(new Date(instant.getTime() + 2));
  await jobs.insert({
    id: failedJob,
    userId: 'bob',
    kind: 'image',
    source: 'discord',
    delivery: 'chat',
    request: { prompt: 'a cat' },
    status: 'running',
    workerId: 'worker-b',
    now: instant,
  });
  await jobs.finish(failedJob, { status: 'failed' }, instant);
  await new IdempotencyKeys(stores.idempotencyKeys, now).claim('alice', 'retry-1', 'a'.repeat(64), jobId);

  // processed_events, personal_settings, chat_cooldowns
  await new ProcessedEvents(stores.processedEvents, now).claim('discord:interaction:999');
  await new PersonalSettingsStore(stores.personalSettings, now).update('discord:111', {
    aspectRatio: '16:9',
    enhance: true,
    private: true,
  });
  await new ChatCooldowns(stores.chatCooldowns, now).claim('discord:111', 30);

  // admin_actions, chat_blocks, and the grant's quota_counters row
  const chatAdmin = new ChatAdmin(stores.chatAdmin, accounts, now);
  const actor = { identity: 'discord:1', scopeKey: 'discord-guild:42' };
  await chatAdmin.grant(actor, 'discord:111', 5);
  await chatAdmin.block(actor, 'discord:666');
  await chatAdmin.refund(actor, generationId);

  // admin_audit, console_sessions, generation_failures, health_probe
  await new AuditLog(stores.audit, now).record({
    actor: 'imk_abcd1234 (ops)',
    action: 'plan.set',
    target: 'alice',
    before: { plan: 'free' },
    after: { plan: 'pro' },
  });
  const adminKeyId = (await apiKeys.authenticate(adminKey))?.keyId ?? '';
  await new ConsoleSessions(stores.consoleSessions, { lifetimeHours: 12, now }).create(adminKeyId);
  await new GenerationFailures(stores.generationFailures, now).record({
    userId: 'bob',
    model: 'flux-schnell',
    provider: 'replicate',
    code: 'provider_unavailable',
    images: 1,
  });
  await stores.health.probe();
  writes.flushNow();

  return { generationId, jobId };
}

function holdFor(userId: string, images: number) {
  return {
    userId,
    userLimit: 200,
    scope: undefined,
    images,
    estimatedUsd: images * 0.04,
    budgetUsd: undefined,
  };
}

function generation(id: string, userId: string, extra: Partial<GenerationRecord>): GenerationRecord {
  return {
    id,
    userId,
    batchId: undefined,
    source: 'api',
    prompt: 'a lighthouse at dusk',
    promptUsed: 'a lighthouse at dusk, golden hour',
    negativePrompt: undefined,
    style: undefined,
    model: 'flux-schnell',
    seed: undefined,
    width: 1024,
    height: 1024,
    quality: 'standard',
    costUsd: 0.003,
    generationMs: 1234,
    storageKey: `images/${id}.png`,
    imageUrl: `http://localhost:8000/images/${id}.png`,
    contentType: 'image/png',
    providerRequestId: undefined,
    warnings: [],
    createdAt: filledAt,
    parentId: undefined,
    kind: undefined,
    ...extra,
  };
}
