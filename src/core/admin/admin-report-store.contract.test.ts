/**
 * The admin reports' contract: every engine answers the console's questions the same, through the
 * engine-neutral `AdminQueries` — month filters at their exact boundaries, per-day series, failure rates,
 * byte-order paging and search, newest-first images across cursors, and each queued job's place in line.
 */

import { afterEach, beforeEach, expect, it } from 'vitest';
import { imagineRefusal as refusal } from '../../test-support/imagine-refusal.ts';
import {
  seedCounter,
  seedGeneration,
  seedIdentity,
  seedJob,
  seedUser,
} from '../../test-support/seed-rows.ts';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { buildPlanCatalog } from '../quota/plans.ts';
import { AdminQueries } from './admin-queries.ts';
import { GenerationFailures } from './generation-failures.ts';

const plans = buildPlanCatalog({
  limits: {},
  models: {},
  defaultPlan: 'free',
  guestMonthlyImages: undefined,
});
const now = new Date('2026-03-15T10:00:00.000Z');
const providers: Record<string, string> = { 'flux-dev': 'replicate', placeholder: 'placeholder' };

/** A UUIDv7-shaped id whose text sorts by `n`. */
const recordId = (n: number) => `0190c0de-0000-7000-8000-${String(n).padStart(12, '0')}`;

onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let queries: AdminQueries;

  beforeEach(async () => {
    opened = await open(() => now);
    queries = new AdminQueries(opened.stores.adminReports, {
      plans,
      providerOf: (model) => providers[model] ?? 'unknown',
      defaultModel: 'placeholder',
      now: () => now,
    });
  });

  afterEach(async () => {
    await opened.close();
  });

  /** Generations around March 2026, recorded in this order (ids deliberately not in that order). */
  async function seedGenerations(): Promise<void> {
    const rows = [
      { n: 1, userId: 'alice', at: '2026-02-28T23:59:59.999Z', model: 'flux-dev', cost: 1, source: 'api' },
      { n: 2, userId: 'alice', at: '2026-03-01T00:00:00.000Z', model: 'flux-dev', cost: 0.01, source: 'api' },
      {
        n: 4,
        userId: 'Bob',
        at: '2026-03-15T09:00:00.000Z',
        model: 'placeholder',
        cost: 0.02,
        source: 'discord',
      },
      { n: 3, userId: 'alice', at: '2026-03-15T09:30:00.000Z', model: 'flux-dev', cost: 0.03, source: 'api' },
      {
        n: 5,
        userId: 'alice',
        at: '2026-03-31T23:59:59.999Z',
        model: 'flux-dev',
        cost: 0.04,
        source: 'slack',
      },
      { n: 6, userId: 'carol', at: '2026-04-01T00:00:00.000Z', model: 'flux-dev', cost: 1, source: 'api' },
    ];
    for (const row of rows) {
      await seedGeneration(opened.raw, {
        id: recordId(row.n),
        userId: row.userId,
        createdAt: new Date(row.at),
        model: row.model,
        costUsd: row.cost,
        source: row.source,
        prompt: `image ${row.n}`,
      });
    }
  }

  async function seedAccountsAndCounters(): Promise<void> {
    await seedUser(opened.raw, { id: 'alice', plan: 'pro' });
    await seedUser(opened.raw, { id: 'Bob' });
    await seedUser(opened.raw, { id: 'carol', plan: 'no-longer-configured' });
    await seedUser(opened.raw, { id: 'dave_1' });
    await seedUser(opened.raw, { id: 'zed%' });
    await seedUser(opened.raw, { id: 'Émile' });
    await seedIdentity(opened.raw, { identity: 'discord:4242', userId: 'Bob' });
    await seedIdentity(opened.raw, { identity: 'slack:T01:U9ABC', userId: 'carol' });
    await seedIdentity(opened.raw, { identity: 'discord:77', userId: 'carol' });
    await seedIdentity(opened.raw, { identity: 'discord:5', userId: 'carol' });
    const month = '2026-03';
    await seedCounter(opened.raw, { subject: 'user:alice', period: month, used: 3, reserved: 1 });
    await seedCounter(opened.raw, { subject: 'user:Bob', period: month, used: 3 });
    await seedCounter(opened.raw, { subject: 'user:carol', period: month, used: 1 });
    await seedCounter(opened.raw, { subject: 'user:ghost', period: month, used: 2 });
    await seedCounter(opened.raw, { subject: 'user:dave_1', period: month, used: 0, reserved: 2 });
    await seedCounter(opened.raw, { subject: 'user:alice', period: '2026-03-15', used: 2 });
    await seedCounter(opened.raw, { subject: 'user:alice', period: '2026-02', used: 50 });
    await seedCounter(opened.raw, { subject: 'scope:discord:guild1', period: month, used: 4 });
    await seedCounter(opened.raw, { subject: 'scope:slack:T01', period: month, used: 1 });
    await seedCounter(opened.raw, { subject: 'scope:slack:T02', period: '2026-02', used: 9 });
    await seedCounter(opened.raw, { subject: 'budget', period: month, spentUsd: 0.123456789 });
  }

  it(`gives the month's overview on ${engine}: ledger totals, per-day series, failure rates, heaviest first`, async () => {
    await seedAccountsAndCounters();
    await seedGenerations();
    const at = (instant: string) => () => new Date(instant);
    const failure = (model: string, provider: string, images: number) => ({
      userId: 'alice',
      model,
      provider,
      code: 'provider_unavailable',
      images,
    });
    await new GenerationFailures(opened.stores.generationFailures, at('2026-03-10T08:00:00Z')).record(
      failure('flux-dev', 'replicate', 2),
    );
    await new GenerationFailures(opened.stores.generationFailures, at('2026-03-20T08:00:00Z')).record(
      failure('placeholder', 'placeholder', 1),
    );
    await new GenerationFailures(opened.stores.generationFailures, at('2026-03-05T08:00:00Z')).record(
      failure('sdxl', 'comfyui', 1),
    );
    await new GenerationFailures(opened.stores.generationFailures, at('2026-02-27T08:00:00Z')).record(
      failure('flux-dev', 'replicate', 5),
    );

    const overview = await queries.overview('2026-03', 25);
    expect(overview).toMatchObject({
      month: '2026-03',
      images: 9,
      reservedImages: 3,
      costUsd: 0.123457,
      budgetUsd: 25,
      today: { images: 2, costUsd: 0.05 },
    });
    expect(overview.days).toHaveLength(31);
    expect(overview.days.filter((day) => day.images > 0)).toEqual([
      { date: '2026-03-01', images: 1, costUsd: 0.01 },
      { date: '2026-03-15', images: 2, costUsd: 0.05 },
      { date: '2026-03-31', images: 1, costUsd: 0.04 },
    ]);
    expect(overview.days[1]).toEqual({ date: '2026-03-02', images: 0, costUsd: 0 });
    expect(overview.models).toEqual([
      { model: 'flux-dev', provider: 'replicate', images: 3, failures: 2, failureRate: 0.4 },
      { model: 'placeholder', provider: 'placeholder', images: 1, failures: 1, failureRate: 0.5 },
      { model: 'sdxl', provider: 'comfyui', images: 0, failures: 1, failureRate: 1 },
    ]);
    expect(overview.providers).toEqual([
      { provider: 'replicate', images: 3, failures: 2, failureRate: 0.4 },
      { provider: 'placeholder', images: 1, failures: 1, failureRate: 0.5 },
      { provider: 'comfyui', images: 0, failures: 1, failureRate: 1 },
    ]);
    // Ties break in byte order: "Bob" before "alice".
    expect(overview.topUsers).toEqual([
      { userId: 'Bob', images: 3 },
      { userId: 'alice', images: 3 },
      { userId: 'ghost', images: 2 },
      { userId: 'carol', images: 1 },
    ]);
    expect(overview.topScopes).toEqual([
      { scope: 'discord:guild1', images: 4 },
      { scope: 'slack:T01', images: 1 },
    ]);

    const february = await queries.overview('2026-02', undefined);
    expect(february).toMatchObject({ images: 50, reservedImages: 0, costUsd: 0, today: undefined });
    expect(february.days).toHaveLength(28);
    expect(february.days.at(-1)).toEqual({ date: '2026-02-28', images: 1, costUsd: 1 });
    expect(february.models).toEqual([
      { model: 'flux-dev', provider: 'replicate', images: 1, failures: 5, failureRate: 5 / 6 },
    ]);
    expect(february.topScopes).toEqual([{ scope: 'slack:T02', images: 9 }]);
  });

  it(`answers an empty month with zeros on ${engine}`, async () => {
    const overview = await queries.overview('2026-03', undefined);
    expect(overview).toMatchObject({
      images: 0,
      reservedImages: 0,
      costUsd: 0,
      today: { images: 0, costUsd: 0 },
      models: [],
      providers: [],
      topUsers: [],
      topScopes: [],
    });
    expect(await queries.usage('2026-03')).toEqual([]);
    expect((await queries.users({ query: '', cursor: undefined, limit: 10 })).items).toEqual([]);
    expect(
      await queries.images({ userId: undefined, source: undefined, cursor: undefined, limit: 5 }),
    ).toEqual({ items: [], nextCursor: undefined });
    expect(await queries.jobs(undefined)).toEqual([]);
  });

  it(`gives usage per charged user on ${engine}: heaviest first, plans resolved, the month's cost`, async () => {
    await seedAccountsAndCounters();
    await seedGenerations();
    expect(await queries.usage('2026-03')).toEqual([
      { userId: 'Bob', plan: 'free', images: 3, costUsd: 0.02 },
      { userId: 'alice', plan: 'pro', images: 3, costUsd: 0.08 },
      // A subject without an account is a chat identity that never linked: the guest plan.
      { userId: 'ghost', plan: 'guest', images: 2, costUsd: 0 },
      // A plan no longer configured falls back to the default.
      { userId: 'carol', plan: 'free', images: 1, costUsd: 0 },
    ]);
    expect(await queries.usage('2026-02')).toEqual([
      { userId: 'alice', plan: 'pro', images: 50, costUsd: 1 },
    ]);
    expect(await queries.usage('2026-04')).toEqual([]);
  });

  it(`pages through users in byte order on ${engine}, with identities and this month's use`, async () => {
    await seedAccountsAndCounters();
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.users({ query: '', cursor, limit: 2 });
      pages.push(page.items.map((user) => user.userId));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(pages).toEqual([
      ['Bob', 'alice'],
      ['carol', 'dave_1'],
      ['zed%', 'Émile'],
    ]);

    const first = await queries.users({ query: '', cursor: undefined, limit: 3 });
    expect(first.items).toEqual([
      {
        userId: 'Bob',
        plan: 'free',
        linkedIdentities: ['discord:4242'],
        usedThisMonth: 3,
        createdAt: '2026-01-01T00:00:00.000Z',
      },
      {
        userId: 'alice',
        plan: 'pro',
        linkedIdentities: [],
        usedThisMonth: 3,
        createdAt: '2026-01-01T00:00:00.000Z',
      },
      {
        userId: 'carol',
        plan: 'free',
        linkedIdentities: ['discord:5', 'discord:77', 'slack:T01:U9ABC'],
        usedThisMonth: 1,
        createdAt: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  it(`finds users by uid or linked identity on ${engine}: ASCII letters in any case, wildcards literal`, async () => {
    await seedAccountsAndCounters();
    const found = async (query: string) =>
      (await queries.users({ query, cursor: undefined, limit: 10 })).items.map((user) => user.userId);
    expect(await found('ALI')).toEqual(['alice']);
    expect(await found('9abc')).toEqual(['carol']);
    expect(await found('discord')).toEqual(['Bob', 'carol']);
    expect(await found('_')).toEqual(['dave_1']);
    expect(await found('%')).toEqual(['zed%']);
    expect(await found('\\')).toEqual([]);
    // Only ASCII letters fold, on every engine.
    expect(await found('Émile')).toEqual(['Émile']);
    expect(await found('émile')).toEqual([]);
    expect(await found('nobody')).toEqual([]);
    const page = await queries.users({ query: 'discord', cursor: undefined, limit: 1 });
    expect(page.items.map((user) => user.userId)).toEqual(['Bob']);
    const next = await queries.users({ query: 'discord', cursor: page.nextCursor, limit: 1 });
    expect(next.items.map((user) => user.userId)).toEqual(['carol']);
    expect(next.nextCursor).toBeUndefined();
  });

  it(`lists every user's images newest recorded first on ${engine}, filtered and paged by cursor`, async () => {
    await seedGenerations();
    const walk = async (filter: { userId?: string; source?: string }, limit: number) => {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await queries.images({
          userId: filter.userId,
          source: filter.source,
          cursor,
          limit,
        });
        pages.push(page.items.map((image) => image.prompt));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return pages;
    };
    expect(await walk({}, 2)).toEqual([
      ['image 6', 'image 5'],
      ['image 3', 'image 4'],
      ['image 2', 'image 1'],
    ]);
    expect(await walk({ userId: 'alice' }, 3)).toEqual([['image 5', 'image 3', 'image 2'], ['image 1']]);
    expect(await walk({ source: 'discord' }, 3)).toEqual([['image 4']]);
    expect(await walk({ userId: 'alice', source: 'slack' }, 3)).toEqual([['image 5']]);
    expect(await walk({ userId: 'nobody' }, 3)).toEqual([[]]);

    const [newest] = (await queries.images({ userId: 'Bob', source: undefined, cursor: undefined, limit: 1 }))
      .items;
    expect(newest).toEqual({
      id: recordId(4),
      userId: 'Bob',
      source: 'discord',
      prompt: 'image 4',
      model: 'placeholder',
      imageUrl: `http://127.0.0.1/images/${recordId(4)}.png`,
      width: 1024,
      height: 768,
      costUsd: 0.02,
      createdAt: '2026-03-15T09:00:00.000Z',
    });
    const error = await refusal(() =>
      queries.images({ userId: undefined, source: undefined, cursor: 'nonsense', limit: 2 }),
    );
    expect(error.code).toBe('validation_error');
  });

  it(`lists unfinished jobs oldest first on ${engine}, with each queued job's place in its user's line`, async () => {
    const job = (n: number, userId: string, status: 'queued' | 'running' | 'succeeded', request: object) =>
      seedJob(opened.raw, {
        id: recordId(n),
        userId,
        status,
        request: JSON.stringify(request),
        createdAt: new Date(now.getTime() - 30_000 + n),
        ...(status === 'running' ? { progress: 0.5 } : {}),
      });
    await job(1, 'alice', 'succeeded', { prompt: 'x' });
    await job(2, 'alice', 'running', { prompt: 'x', model: 'flux-dev' });
    await job(3, 'alice', 'queued', { prompt: 'x' });
    await job(4, 'Bob', 'queued', { prompt: 'x', model: 'sdxl' });
    await job(5, 'alice', 'queued', { prompt: 'x' });
    const all = await queries.jobs(undefined);
    expect(all.map((row) => [row.id, row.userId, row.status, row.position, row.model])).toEqual([
      [recordId(2), 'alice', 'running', 0, 'flux-dev'],
      [recordId(3), 'alice', 'queued', 1, 'placeholder'],
      [recordId(4), 'Bob', 'queued', 1, 'sdxl'],
      [recordId(5), 'alice', 'queued', 2, 'placeholder'],
    ]);
    expect(all[0]).toMatchObject({
      kind: 'image',
      source: 'api',
      progress: 0.5,
      ageSeconds: 30,
      createdAt: new Date(now.getTime() - 30_000 + 2).toISOString(),
    });
    expect(all[1]?.progress).toBeUndefined();
    expect((await queries.jobs('running')).map((row) => row.id)).toEqual([recordId(2)]);
    // Filtering keeps each job's place in line.
    expect((await queries.jobs('queued')).map((row) => row.position)).toEqual([1, 1, 2]);
  });
});
