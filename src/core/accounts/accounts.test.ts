import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { openDatabase, type SqliteDatabase } from '../database/open-database.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { ApiKeys } from './api-keys.ts';
import { LinkCodes } from './link-codes.ts';
import { SqliteAccountStore } from './sqlite/sqlite-account-store.ts';
import { SqliteApiKeyStore } from './sqlite/sqlite-api-key-store.ts';
import { SqliteLinkCodeStore } from './sqlite/sqlite-link-code-store.ts';
import { UserAccounts } from './user-accounts.ts';

const plans = loadConfig({}).plans;

/** The accounts classes over one SQLite connection, as one process has them. */
function accountsOn(database: SqliteDatabase, clock: () => Date = () => new Date()) {
  const accounts = new UserAccounts(new SqliteAccountStore(database), plans, clock);
  return {
    accounts,
    apiKeys: new ApiKeys(new SqliteApiKeyStore(database, clock), accounts, clock),
    linkCodes: new LinkCodes(new SqliteLinkCodeStore(database), accounts, clock),
  };
}

function setUp(start = '2026-05-01T10:00:00Z') {
  let now = new Date(start);
  const database = openDatabase(':memory:');
  return {
    database,
    ...accountsOn(database, () => now),
    advance: (milliseconds: number) => (now = new Date(now.getTime() + milliseconds)),
  };
}

describe('API keys', () => {
  it('authenticates a new key and stores only its hash', async () => {
    const { apiKeys, database } = setUp();
    const key = await apiKeys.create('alice', { plan: 'pro' });
    expect(key).toMatch(/^imk_[A-Za-z0-9]{40}$/);
    expect(await apiKeys.authenticate(key)).toMatchObject({ userId: 'alice', planName: 'pro', admin: false });
    const stored = JSON.stringify(database.prepare('SELECT * FROM api_keys').all());
    expect(stored).not.toContain(key);
    expect(stored).toContain(key.slice(0, 12));
  });

  it('rejects unknown, malformed and revoked keys', async () => {
    const { apiKeys } = setUp();
    const key = await apiKeys.create('alice');
    expect(await apiKeys.authenticate(`${key}x`)).toBeUndefined();
    expect(await apiKeys.authenticate('not-a-key')).toBeUndefined();
    expect(await apiKeys.revoke(key.slice(0, 10))).toBe(key.slice(0, 12));
    expect(await apiKeys.authenticate(key)).toBeUndefined();
    expect((await apiKeys.list())[0]?.revokedAt).not.toBeNull();
  });

  it('refuses a revoke prefix that is too short or matches nothing', async () => {
    const { apiKeys } = setUp();
    await apiKeys.create('alice');
    await expect(apiKeys.revoke('imk_')).rejects.toThrow(/at least the first 8 characters/);
    await expect(apiKeys.revoke('imk_%%%%')).rejects.toThrow(/no API key starts with/);
  });

  it('sets the plan given at creation', async () => {
    const { apiKeys, accounts } = setUp();
    await apiKeys.create('bob', { plan: 'enterprise' });
    expect((await accounts.appCaller('bob')).plan.name).toBe('enterprise');
    await expect(apiKeys.create('carol', { plan: 'platinum' })).rejects.toThrow(/unknown plan "platinum"/);
  });
});

describe('chat identities and link codes', () => {
  it('gives unlinked chat users the guest plan on their own count', async () => {
    const { accounts } = setUp();
    expect(await accounts.chatCaller('discord:123')).toMatchObject({
      userId: 'discord:123',
      linked: false,
      plan: { name: 'guest', monthlyImages: 3 },
    });
  });

  it('links a chat identity to the app account that issued the code, once', async () => {
    const { accounts, linkCodes } = setUp();
    await accounts.setPlan('app-user', 'pro');
    const { code, expiresAt } = await linkCodes.create('app-user');
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    expect(expiresAt.toISOString()).toBe('2026-05-01T10:10:00.000Z');
    expect(await linkCodes.redeem(` ${code.toLowerCase()} `, 'slack:T1:U1')).toBe('app-user');
    expect(await accounts.chatCaller('slack:T1:U1')).toMatchObject({
      userId: 'app-user',
      linked: true,
      plan: { name: 'pro' },
    });
    expect(await accounts.identitiesOf('app-user')).toEqual(['slack:T1:U1']);
    await expect(linkCodes.redeem(code, 'discord:9')).rejects.toThrow(ImagineError);
    expect((await accounts.chatCaller('discord:9')).linked).toBe(false);
  });

  it('refuses a code after ten minutes', async () => {
    const { linkCodes, advance } = setUp();
    const { code } = await linkCodes.create('app-user');
    advance(10 * 60 * 1000 + 1);
    let error: unknown;
    try {
      await linkCodes.redeem(code, 'discord:1');
    } catch (caught) {
      error = caught;
    }
    expect(ImagineError.isInstance(error) && error.code).toBe('link_code_invalid');
  });

  it('unlinks, returning the identity to the guest plan', async () => {
    const { accounts, linkCodes } = setUp();
    await linkCodes.redeem((await linkCodes.create('app-user')).code, 'discord:1');
    expect(await accounts.unlink('discord:1')).toBe(true);
    expect(await accounts.unlink('discord:1')).toBe(false);
    expect((await accounts.chatCaller('discord:1')).plan.name).toBe('guest');
  });

  it("lets a token's plan claim replace the stored plan", async () => {
    const { accounts } = setUp();
    await accounts.ensureUser('firebase-user', 'pro');
    expect((await accounts.appCaller('firebase-user')).plan.name).toBe('pro');
    await accounts.ensureUser('firebase-user');
    expect((await accounts.appCaller('firebase-user')).plan.name).toBe('pro');
    await accounts.ensureUser('firebase-user', 'enterprise');
    expect((await accounts.appCaller('firebase-user')).plan.name).toBe('enterprise');
  });

  it('stops accepting a key within a quarter second of another process revoking it, and sees plan changes', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-'));
    const file = path.join(folder, 'shared.sqlite');
    const serverDatabase = openDatabase(file);
    let now = new Date('2026-05-01T10:00:00Z');
    const later = () => {
      now = new Date(now.getTime() + 300);
    };
    const server = accountsOn(serverDatabase, () => now).apiKeys;
    const cliDatabase = openDatabase(file);
    const { accounts: cliAccounts, apiKeys: cli } = accountsOn(cliDatabase);
    const key = await cli.create('alice', { plan: 'free' });
    expect(await server.authenticate(key)).toMatchObject({ userId: 'alice', planName: 'free' });
    await cliAccounts.setPlan('alice', 'pro');
    // Other processes' writes are noticed within a quarter of a second.
    later();
    expect((await server.authenticate(key))?.planName).toBe('pro');
    await cli.revoke(key.slice(0, 12));
    later();
    expect(await server.authenticate(key)).toBeUndefined();
    serverDatabase.close();
    cliDatabase.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
