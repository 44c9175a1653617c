import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { openDatabase } from '../database/open-database.ts';
import { SqliteAccountStore } from './sqlite/sqlite-account-store.ts';
import { UserAccounts } from './user-accounts.ts';

function accountsWith(planLimits = '') {
  return new UserAccounts(
    new SqliteAccountStore(openDatabase(':memory:')),
    loadConfig({ PLAN_LIMITS: planLimits }).plans,
  );
}

const role = { plan: 'pro', source: '<@&1> role' };
const usergroup = { plan: 'team', source: '<!subteam^S1> user group' };

describe('plans granted by roles and user groups', async () => {
  it('an unlinked member gets the best plan among their grants, on their own count', async () => {
    const accounts = accountsWith('team=500');
    expect(await accounts.chatCaller('discord:ada', [role])).toMatchObject({
      userId: 'discord:ada',
      plan: { name: 'pro', monthlyImages: 200 },
      linked: false,
      planSource: { kind: 'grant', source: '<@&1> role' },
    });
    expect(await accounts.chatCaller('slack:T:U', [role, usergroup])).toMatchObject({
      plan: { name: 'team' },
      planSource: { kind: 'grant', source: '<!subteam^S1> user group' },
    });
    expect(await accounts.chatCaller('discord:ada')).toMatchObject({
      plan: { name: 'guest' },
      planSource: { kind: 'guest' },
    });
  });

  it('a linked account keeps its own plan when it is better, and draws on its own quota either way', async () => {
    const accounts = accountsWith();
    await accounts.setPlan('app-ada', 'enterprise');
    await accounts.link('discord:ada', 'app-ada');
    expect(await accounts.chatCaller('discord:ada', [role])).toMatchObject({
      userId: 'app-ada',
      plan: { name: 'enterprise' },
      planSource: { kind: 'linked-account' },
    });
    await accounts.setPlan('app-ada', 'free');
    expect(await accounts.chatCaller('discord:ada', [role])).toMatchObject({
      userId: 'app-ada',
      plan: { name: 'pro' },
      linked: true,
      planSource: { kind: 'grant' },
    });
  });

  it('on equal monthly images, a plan without a daily cap beats one with it', async () => {
    const accounts = accountsWith('capped=200/month+10/day');
    expect(
      (await accounts.chatCaller('discord:ada', [{ plan: 'capped', source: 'a' }, role])).plan.name,
    ).toBe('pro');
    expect(
      (await accounts.chatCaller('discord:ada', [role, { plan: 'capped', source: 'a' }])).plan.name,
    ).toBe('pro');
  });
});
