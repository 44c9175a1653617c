import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { openDatabase } from '../database/open-database.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { ApiKeys } from './api-keys.ts';
import { LinkCodes } from './link-codes.ts';
import { UserAccounts } from './user-accounts.ts';

function setUp(start = '2026-05-01T10:00:00Z') {
  let now = new Date(start);
  const clock = () => now;
  const database = openDatabase(':memory:');
  const accounts = new UserAccounts(database, loadConfig({}).plans, clock);
  return {
    database,
    accounts,
    apiKeys: new ApiKeys(database, accounts, clock),
    linkCodes: new LinkCodes(database, accounts, clock),
    advance: (milliseconds: number) => (now = new Date(now.getTime() + milliseconds)),
  };
}

describe('API keys', () => {
  it('authenticates a new key and stores only its hash', () => {
    const { apiKeys, database } = setUp();
    const key = apiKeys.create('alice', { plan: 'pro' });
    expect(key).toMatch(/^imk_[A-Za-z0-9]{40}$/);
    expect(apiKeys.authenticate(key)).toMatchObject({ userId: 'alice', planName: 'pro', admin: false });
    const stored = JSON.stringify(database.prepare('SELECT * FROM api_keys').all());
    expect(stored).not.toContain(key);
    expect(stored).toContain(key.slice(0, 12));
  });

  it('rejects unknown, malformed and revoked keys', () => {
    const { apiKeys } = setUp();
    const key = apiKeys.create('alice');
    expect(apiKeys.authenticate(`${key}x`)).toBeUndefined();
    expect(apiKeys.authenticate('not-a-key')).toBeUndefined();
    expect(apiKeys.revoke(key.slice(0, 10))).toBe(key.slice(0, 12));
    expect(apiKeys.authenticate(key)).toBeUndefined();
    expect(apiKeys.list()[0]?.revokedAt).not.toBeNull();
  });

  it('refuses a revoke prefix that is too short or matches nothing', () => {
    const { apiKeys } = setUp();
    apiKeys.create('alice');
    expect(() => apiKeys.revoke('imk_')).toThrow(/at least the first 8 characters/);
    expect(() => apiKeys.revoke('imk_%%%%')).toThrow(/no API key starts with/);
  });

  it('sets the plan given at creation', () => {
    const { apiKeys, accounts } = setUp();
    apiKeys.create('bob', { plan: 'enterprise' });
    expect(accounts.appCaller('bob').plan.name).toBe('enterprise');
    expect(() => apiKeys.create('carol', { plan: 'platinum' })).toThrow(/unknown plan "platinum"/);
  });
});

describe('chat identities and link codes', () => {
  it('gives unlinked chat users the guest plan on their own count', () => {
    const { accounts } = setUp();
    expect(accounts.chatCaller('discord:123')).toMatchObject({
      userId: 'discord:123',
      linked: false,
      plan: { name: 'guest', monthlyImages: 3 },
    });
  });

  it('links a chat identity to the app account that issued the code, once', () => {
    const { accounts, linkCodes } = setUp();
    accounts.setPlan('app-user', 'pro');
    const { code, expiresAt } = linkCodes.create('app-user');
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    expect(expiresAt.toISOString()).toBe('2026-05-01T10:10:00.000Z');
    expect(linkCodes.redeem(` ${code.toLowerCase()} `, 'slack:T1:U1')).toBe('app-user');
    expect(accounts.chatCaller('slack:T1:U1')).toMatchObject({
      userId: 'app-user',
      linked: true,
      plan: { name: 'pro' },
    });
    expect(accounts.identitiesOf('app-user')).toEqual(['slack:T1:U1']);
    expect(() => linkCodes.redeem(code, 'discord:9')).toThrow(ImagineError);
    expect(accounts.chatCaller('discord:9').linked).toBe(false);
  });

  it('refuses a code after ten minutes', () => {
    const { linkCodes, advance } = setUp();
    const { code } = linkCodes.create('app-user');
    advance(10 * 60 * 1000 + 1);
    let error: unknown;
    try {
      linkCodes.redeem(code, 'discord:1');
    } catch (caught) {
      error = caught;
    }
    expect(ImagineError.isInstance(error) && error.code).toBe('link_code_invalid');
  });

  it('unlinks, returning the identity to the guest plan', () => {
    const { accounts, linkCodes } = setUp();
    linkCodes.redeem(linkCodes.create('app-user').code, 'discord:1');
    expect(accounts.unlink('discord:1')).toBe(true);
    expect(accounts.unlink('discord:1')).toBe(false);
    expect(accounts.chatCaller('discord:1').plan.name).toBe('guest');
  });

  it("lets a token's plan claim replace the stored plan", () => {
    const { accounts } = setUp();
    accounts.ensureUser('firebase-user', 'pro');
    expect(accounts.appCaller('firebase-user').plan.name).toBe('pro');
    accounts.ensureUser('firebase-user');
    expect(accounts.appCaller('firebase-user').plan.name).toBe('pro');
    accounts.ensureUser('firebase-user', 'enterprise');
    expect(accounts.appCaller('firebase-user').plan.name).toBe('enterprise');
  });

  it('stops accepting a key within a quarter second of another process revoking it, and sees plan changes', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-'));
    const file = path.join(folder, 'shared.sqlite');
    const plans = loadConfig({}).plans;
    const serverDatabase = openDatabase(file);
    let now = new Date('2026-05-01T10:00:00Z');
    const later = () => {
      now = new Date(now.getTime() + 300);
    };
    const server = new ApiKeys(serverDatabase, new UserAccounts(serverDatabase, plans), () => now);
    const cliDatabase = openDatabase(file);
    const cliAccounts = new UserAccounts(cliDatabase, plans);
    const cli = new ApiKeys(cliDatabase, cliAccounts);
    const key = cli.create('alice', { plan: 'free' });
    expect(server.authenticate(key)).toMatchObject({ userId: 'alice', planName: 'free' });
    cliAccounts.setPlan('alice', 'pro');
    // Other processes' writes are noticed within a quarter of a second.
    later();
    expect(server.authenticate(key)?.planName).toBe('pro');
    cli.revoke(key.slice(0, 12));
    later();
    expect(server.authenticate(key)).toBeUndefined();
    serverDatabase.close();
    cliDatabase.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
