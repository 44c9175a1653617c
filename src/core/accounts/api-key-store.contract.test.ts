import { afterEach, beforeEach, expect, it } from 'vitest';
import { accountsOn } from '../../test-support/accounts-on-stores.ts';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import type { ApiKeyStore } from './api-key-store.ts';
import type { ApiKeys } from './api-keys.ts';
import { hashSecret } from './secret-hash.ts';
import type { UserAccounts } from './user-accounts.ts';

/** The store, with every argument it was ever handed kept, so a test can say what it never saw. */
function recording(store: ApiKeyStore): { store: ApiKeyStore; seen: string[] } {
  const seen: string[] = [];
  const recorded = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        seen.push(JSON.stringify(args));
        return value.apply(target, args);
      };
    },
  });
  return { store: recorded, seen };
}

// API keys: created once, stored only hashed, verified until revoked and never after: on every engine.
onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let accounts: UserAccounts;
  let apiKeys: ApiKeys;
  let seen: string[];
  let now: Date;

  beforeEach(async () => {
    now = new Date('2026-03-10T12:00:00.000Z');
    opened = await open(() => now);
    const store = recording(opened.stores.apiKeys);
    seen = store.seen;
    ({ accounts, apiKeys } = accountsOn({ ...opened.stores, apiKeys: store.store }, () => now));
  });

  afterEach(async () => {
    await opened.close();
  });

  it(`verifies a new key for its owner and plan, and hands the store only its hash, on ${engine}`, async () => {
    const key = await apiKeys.create('alice', { plan: 'pro', label: 'ci' });
    expect(key).toMatch(/^imk_[A-Za-z0-9]{40}$/);
    expect(await apiKeys.authenticate(key)).toMatchObject({
      userId: 'alice',
      planName: 'pro',
      prefix: key.slice(0, 12),
      admin: false,
    });
    expect((await accounts.appCaller('alice')).plan.name).toBe('pro');
    expect(seen.join('\n')).not.toContain(key);
    expect(seen.join('\n')).toContain(hashSecret(key));
    expect(await apiKeys.list()).toEqual([
      {
        prefix: key.slice(0, 12),
        userId: 'alice',
        label: 'ci',
        admin: false,
        createdAt: '2026-03-10T12:00:00.000Z',
        revokedAt: null,
      },
    ]);
  });

  it(`refuses unknown, malformed and altered keys, saying which kind, on ${engine}`, async () => {
    const key = await apiKeys.create('alice');
    expect(await apiKeys.authenticate(`${key}x`)).toBeUndefined();
    expect(await apiKeys.authenticate(`imk_${'A'.repeat(40)}`)).toBeUndefined();
    expect(await apiKeys.authenticate('not-a-key')).toBeUndefined();
    expect(await apiKeys.refusalReason(`${key}x`)).toBe('unknown key');
    expect(await apiKeys.authenticate(key)).toMatchObject({ userId: 'alice', planName: undefined });
  });

  it(`never verifies a revoked key again, even one just verified (and cached), on ${engine}`, async () => {
    const key = await apiKeys.create('alice');
    const other = await apiKeys.create('bob');
    expect(await apiKeys.authenticate(key)).toBeDefined();
    // Verifications in flight while the revoke commits may still see the key; none after it may.
    const during = Array.from({ length: 20 }, () => apiKeys.authenticate(key));
    now = new Date('2026-03-10T12:05:00.000Z');
    expect(await apiKeys.revoke(key.slice(0, 9))).toBe(key.slice(0, 12));
    await Promise.all(during);
    for (let attempt = 0; attempt < 3; attempt++) expect(await apiKeys.authenticate(key)).toBeUndefined();
    expect(await apiKeys.refusalReason(key)).toBe('revoked key');
    expect(await apiKeys.authenticate(other)).toMatchObject({ userId: 'bob' });
    // Revoking again changes nothing: the first revocation's time stays.
    expect(await apiKeys.revoke(key.slice(0, 12))).toBe(key.slice(0, 12));
    const listed = await apiKeys.list();
    expect(listed.find((summary) => summary.userId === 'alice')?.revokedAt).toBe('2026-03-10T12:05:00.000Z');
    expect(listed.find((summary) => summary.userId === 'bob')?.revokedAt).toBeNull();
  });

  it(`revokes by an exact, case-sensitive prefix, refusing one that is short or names several keys, on ${engine}`, async () => {
    await accounts.ensureUser('alice');
    for (const [id, prefix] of [
      ['a', 'imk_abcd1234'],
      ['b', 'imk_abcd5678'],
      ['c', 'imk_a%cd0000'],
    ] as const) {
      await opened.stores.apiKeys.insert({
        id,
        prefix,
        keyHash: hashSecret(id),
        userId: 'alice',
        label: null,
        createdAt: now,
        admin: false,
      });
    }
    await expect(apiKeys.revoke('imk_')).rejects.toThrow(/at least the first 8 characters/);
    await expect(apiKeys.revoke('sk_abcdefgh')).rejects.toThrow(/at least the first 8 characters/);
    await expect(apiKeys.revoke('imk_abcd')).rejects.toThrow(/2 keys start with imk_abcd/);
    await expect(apiKeys.revoke('imk_ABCD1234')).rejects.toThrow(/no API key starts with/);
    // `%` and `_` are characters of a prefix, not patterns.
    await expect(apiKeys.revoke('imk_a_cd')).rejects.toThrow(/no API key starts with/);
    expect(await apiKeys.revoke('imk_a%cd')).toBe('imk_a%cd0000');
    expect(await apiKeys.revoke('imk_abcd5678-and-the-rest')).toBe('imk_abcd5678');
    // Made in one millisecond: listed in the order they were made (by id).
    expect((await apiKeys.list()).map((summary) => [summary.prefix, summary.revokedAt !== null])).toEqual([
      ['imk_abcd1234', false],
      ['imk_abcd5678', true],
      ['imk_a%cd0000', true],
    ]);
  });

  it(`marks admin keys, lists keys oldest first and counts them, on ${engine}`, async () => {
    expect(await apiKeys.count()).toBe(0);
    const admin = await apiKeys.create('ops', { admin: true, label: 'console' });
    now = new Date('2026-03-10T12:00:01.000Z');
    await apiKeys.create('alice');
    expect(await apiKeys.authenticate(admin)).toMatchObject({ userId: 'ops', admin: true });
    expect(
      (await apiKeys.list()).map((summary) => [summary.userId, summary.admin, summary.createdAt]),
    ).toEqual([
      ['ops', true, '2026-03-10T12:00:00.000Z'],
      ['alice', false, '2026-03-10T12:00:01.000Z'],
    ]);
    expect(await apiKeys.count()).toBe(2);
  });

  it(`lists keys made in the same millisecond in the order they were made, on ${engine}`, async () => {
    // The clock stands still: every key has the same created_at.
    const users = ['zoe', 'amy', 'max', 'bea', 'kim', 'ann', 'tom', 'eve'];
    for (const user of users) await apiKeys.create(user);
    expect((await apiKeys.list()).map((summary) => summary.userId)).toEqual(users);
  });

  it(`creates no key for a plan the catalog lacks, on ${engine}`, async () => {
    await expect(apiKeys.create('carol', { plan: 'platinum' })).rejects.toThrow(/unknown plan "platinum"/);
    expect(await apiKeys.count()).toBe(0);
    expect(await accounts.exists('carol')).toBe(false);
  });

  it(`answers the owner's plan as it is now, after a change through the accounts, on ${engine}`, async () => {
    const key = await apiKeys.create('alice', { plan: 'free' });
    expect((await apiKeys.authenticate(key))?.planName).toBe('free');
    await accounts.setPlan('alice', 'pro');
    expect((await apiKeys.authenticate(key))?.planName).toBe('pro');
    await accounts.ensureUser('alice', 'enterprise');
    expect((await apiKeys.authenticate(key))?.planName).toBe('enterprise');
  });
});
