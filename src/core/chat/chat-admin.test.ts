import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { SqliteAccountStore } from '../accounts/sqlite/sqlite-account-store.ts';
import { UserAccounts } from '../accounts/user-accounts.ts';
import { openDatabase } from '../database/open-database.ts';
import { QuotaLedger } from '../quota/quota-ledger.ts';
import { ChatAdmin, placeSubject } from './chat-admin.ts';
import { SqliteChatAdminStore } from './sqlite/sqlite-chat-admin-store.ts';

function setUp() {
  const database = openDatabase(':memory:');
  const accounts = new UserAccounts(new SqliteAccountStore(database), loadConfig({}).plans);
  let now = new Date('2026-03-10T12:00:00Z');
  const admin = new ChatAdmin(new SqliteChatAdminStore(database), accounts, () => now);
  const ledger = new QuotaLedger(database, () => now);
  /** A generation at `scopeKey` by `identity`, charged `charged` of the images it held. */
  const chargeAt = (scopeKey: string, identity: string, held: number, charged = held) => {
    const hold = ledger.reserve({
      userId: identity,
      userLimit: 100,
      scope: undefined,
      images: held,
      estimatedUsd: 0,
      budgetUsd: undefined,
      tally: placeSubject(scopeKey, identity),
    });
    ledger.commit(hold.id, { images: charged, costUsd: 0 });
  };
  return { accounts, admin, chargeAt, setNow: (instant: string) => (now = new Date(instant)) };
}

const actor = { identity: 'discord:admin', scopeKey: 'discord-guild:1' };

describe('ChatAdmin', async () => {
  it('grants extra images for this month only, to the quota the person draws on, and audits it', async () => {
    const { accounts, admin, setNow } = setUp();
    await accounts.ensureUser('app-ada');
    await accounts.link('discord:ada', 'app-ada');
    (await expect(await admin.grant(actor, 'discord:ada', 5))).toEqual({ userId: 'app-ada', extra: 5 });
    (await expect((await admin.grant(actor, 'discord:ada', 2)).extra)).toBe(7);
    setNow('2026-04-01T00:00:00Z');
    (await expect(await admin.extraImages('app-ada'))).toBe(0);
    (await expect((await admin.recentActions())[0])).toMatchObject({
      actor: 'discord:admin',
      place: 'discord-guild:1',
      action: 'grant',
      target: 'discord:ada',
      detail: { images: 2, userId: 'app-ada', period: '2026-03' },
    });
    await expect(admin.grant(actor, 'discord:ada', 0)).rejects.toThrow(/whole number/);
  });

  it('sets the plan of an unlinked person on their own identity, and refuses an unknown plan', async () => {
    const { accounts, admin } = setUp();
    await admin.setPlan(actor, 'discord:ben', 'pro');
    (await expect(await accounts.chatCaller('discord:ben'))).toMatchObject({
      userId: 'discord:ben',
      plan: { name: 'pro' },
    });
    await expect(admin.setPlan(actor, 'discord:ben', 'gold')).rejects.toThrow(/unknown plan "gold"/);
    (await expect((await admin.recentActions()).map((action) => action.action))).toEqual(['plan']);
  });

  it('blocks and unblocks, and counts a place’s month with its top users from what the ledger charged', async () => {
    const { admin, chargeAt } = setUp();
    await admin.block(actor, 'discord:ben');
    (await expect(await admin.isBlocked('discord:ben'))).toBe(true);
    (await expect(await admin.unblock(actor, 'discord:ben'))).toBe(true);
    (await expect(await admin.isBlocked('discord:ben'))).toBe(false);
    chargeAt('discord-guild:1', 'discord:ada', 3);
    chargeAt('discord-guild:1', 'discord:ben', 2, 1); // one of two images failed: one charged
    chargeAt('discord-guild:1', 'discord:ben', 1, 0); // nothing made, nothing charged
    chargeAt('discord-guild:10', 'discord:ben', 9);
    (await expect(await admin.placeUsage(actor))).toEqual({
      period: '2026-03',
      images: 4,
      top: [
        { identity: 'discord:ada', images: 3 },
        { identity: 'discord:ben', images: 1 },
      ],
    });
    (await expect((await admin.recentActions()).map((action) => action.action))).toEqual([
      'usage',
      'unblock',
      'block',
    ]);
  });
});
