import { afterEach, beforeEach, expect, it } from 'vitest';
import { accountsOn, defaultPlans } from '../../test-support/accounts-on-stores.ts';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import { openDatabase } from '../database/open-database.ts';
import { PostgresAccountStore } from './postgres/postgres-account-store.ts';
import { SqliteAccountStore } from './sqlite/sqlite-account-store.ts';
import { UserAccounts } from './user-accounts.ts';

// App accounts, their plans, linked chat identities and admins' grants: the same on every engine.
onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let accounts: UserAccounts;
  let now: Date;

  beforeEach(async () => {
    now = new Date('2026-03-10T12:00:00Z');
    opened = await open(() => now);
    accounts = accountsOn(opened.stores, () => now).accounts;
  });

  afterEach(async () => {
    await opened.close();
  });

  it(`creates an account once however many first requests race for it, on ${engine}`, async () => {
    expect(await accounts.exists('alice')).toBe(false);
    await Promise.all(Array.from({ length: 20 }, () => accounts.ensureUser('alice', 'pro')));
    await Promise.all(Array.from({ length: 20 }, () => accounts.ensureUser('bob')));
    expect(await accounts.exists('alice')).toBe(true);
    expect((await accounts.appCaller('alice')).plan.name).toBe('pro');
    expect((await accounts.appCaller('bob')).plan.name).toBe('free');
    // A new account is not a change of plan: nothing cached can have held it.
    expect(accounts.planChanges).toBe(0);
  });

  it(`lets a token's plan claim replace the stored plan, and keeps it when the claim is absent, on ${engine}`, async () => {
    await accounts.setPlan('alice', 'enterprise');
    const changes = accounts.planChanges;
    await accounts.ensureUser('alice', 'pro');
    expect((await accounts.appCaller('alice')).plan.name).toBe('pro');
    expect(accounts.planChanges).toBe(changes + 1);
    await accounts.ensureUser('alice', 'pro');
    await accounts.ensureUser('alice');
    expect((await accounts.appCaller('alice')).plan.name).toBe('pro');
    expect(accounts.planChanges).toBe(changes + 1);
  });

  it(`sets a plan on an existing or new account, and refuses one the catalog lacks, on ${engine}`, async () => {
    await accounts.setPlan('carol', 'pro');
    expect(await accounts.exists('carol')).toBe(true);
    expect((await accounts.appCaller('carol')).plan.name).toBe('pro');
    await expect(accounts.setPlan('carol', 'platinum')).rejects.toThrow(/unknown plan "platinum"/);
    expect((await accounts.appCaller('carol')).plan.name).toBe('pro');
    // Someone who never signed in: the default plan, and no account is made by asking.
    expect((await accounts.appCaller('dave')).plan.name).toBe('free');
    expect(await accounts.exists('dave')).toBe(false);
  });

  it(`links a chat identity, relinks it to another account, and unlinks it, on ${engine}`, async () => {
    await accounts.setPlan('app-ada', 'pro');
    await accounts.setPlan('app-ben', 'enterprise');
    await accounts.link('discord:1', 'app-ada');
    await accounts.link('slack:T1:U1', 'app-ada');
    await accounts.link('discord:Z', 'app-ada');
    expect(await accounts.chatCaller('discord:1')).toMatchObject({
      userId: 'app-ada',
      identity: 'discord:1',
      linked: true,
      plan: { name: 'pro' },
      planSource: { kind: 'linked-account' },
    });
    // Byte order on every engine, whatever the database's locale.
    expect(await accounts.identitiesOf('app-ada')).toEqual(['discord:1', 'discord:Z', 'slack:T1:U1']);

    await accounts.link('discord:1', 'app-ben');
    expect(await accounts.chatCaller('discord:1')).toMatchObject({
      userId: 'app-ben',
      plan: { name: 'enterprise' },
    });
    expect(await accounts.identitiesOf('app-ada')).toEqual(['discord:Z', 'slack:T1:U1']);
    expect(await accounts.identitiesOf('app-ben')).toEqual(['discord:1']);

    expect(await accounts.unlink('discord:1')).toBe(true);
    expect(await accounts.unlink('discord:1')).toBe(false);
    expect(await accounts.chatCaller('discord:1')).toMatchObject({
      userId: 'discord:1',
      linked: false,
      plan: { name: 'guest' },
      planSource: { kind: 'guest' },
    });
    expect(await accounts.identitiesOf('app-ben')).toEqual([]);
  });

  it(`refuses to link an identity to an account that does not exist, on ${engine}`, async () => {
    await expect(accounts.link('discord:1', 'nobody')).rejects.toThrow();
    expect((await accounts.chatCaller('discord:1')).linked).toBe(false);
  });

  it(`follows the linked account's plan as it changes, and an unlinked identity's own plan, on ${engine}`, async () => {
    await accounts.ensureUser('app-ada');
    await accounts.link('discord:ada', 'app-ada');
    expect((await accounts.chatCaller('discord:ada')).plan.name).toBe('free');
    await accounts.setPlan('app-ada', 'pro');
    expect((await accounts.chatCaller('discord:ada')).plan.name).toBe('pro');
    // An admin's plan for an identity nobody linked: that identity's own account.
    await accounts.setPlan('discord:ben', 'pro');
    expect(await accounts.chatCaller('discord:ben')).toMatchObject({
      userId: 'discord:ben',
      linked: false,
      plan: { name: 'pro' },
      planSource: { kind: 'account' },
    });
    // A plan the place grants wins when it is better, on the same quota subject.
    expect(
      await accounts.chatCaller('discord:ada', [{ plan: 'enterprise', source: '<@&1> role' }]),
    ).toMatchObject({ userId: 'app-ada', plan: { name: 'enterprise' }, planSource: { kind: 'grant' } });
  });

  it(`sees a grant made by another process within a quarter second, and one made here at once, on ${engine}`, async () => {
    // Another process: its own connection (SQLite) or its own store over the server (PostgreSQL).
    const otherDatabase = opened.raw.engine === 'sqlite' ? openDatabase(opened.raw.database.name) : undefined;
    const otherStore =
      opened.raw.engine === 'sqlite'
        ? new SqliteAccountStore(otherDatabase as SqliteDatabase)
        : new PostgresAccountStore(opened.raw.sql);
    const otherProcess = new UserAccounts(otherStore, defaultPlans, () => now);
    try {
      await accounts.ensureUser('app-ada', 'pro');
      expect((await accounts.appCaller('app-ada')).plan.monthlyImages).toBe(200);
      await otherProcess.grants.add('app-ada', '2026-03', 7);
      now = new Date(now.getTime() + 300);
      expect((await accounts.appCaller('app-ada')).plan.monthlyImages).toBe(207);
      // Granted here: the next caller has it, with no wait.
      await accounts.grants.add('app-ada', '2026-03', 1);
      expect((await accounts.appCaller('app-ada')).plan.monthlyImages).toBe(208);
      // A new month starts from the plan alone.
      now = new Date('2026-04-01T00:00:00Z');
      expect((await accounts.appCaller('app-ada')).plan.monthlyImages).toBe(200);
    } finally {
      otherDatabase?.close();
    }
  });

  it(`adds this month's granted images to the limit, through every kind of caller, on ${engine}`, async () => {
    await accounts.ensureUser('app-ada', 'pro');
    await accounts.link('discord:ada', 'app-ada');
    await accounts.grants.add('app-ada', '2026-03', 3);
    await Promise.all(Array.from({ length: 20 }, () => accounts.grants.add('app-ada', '2026-03', 1)));
    await accounts.grants.add('app-ada', '2026-04', 50);
    await accounts.grants.add('discord:ben', '2026-03', 2);
    expect(await accounts.grants.extraImages('app-ada', '2026-03')).toBe(23);
    expect(await accounts.grants.extraImages('app-ada', '2026-02')).toBe(0);
    expect((await accounts.appCaller('app-ada')).plan.monthlyImages).toBe(223);
    expect((await accounts.callerWithPlan('app-ada', 'pro')).plan.monthlyImages).toBe(223);
    expect((await accounts.chatCaller('discord:ada')).plan.monthlyImages).toBe(223);
    expect((await accounts.chatCaller('discord:ben')).plan).toMatchObject({
      name: 'guest',
      monthlyImages: 5,
    });
    now = new Date('2026-04-01T00:00:00Z');
    expect((await accounts.appCaller('app-ada')).plan.monthlyImages).toBe(250);
    expect((await accounts.chatCaller('discord:ben')).plan.monthlyImages).toBe(3);
  });
});
