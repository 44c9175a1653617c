import { afterEach, beforeEach, expect, it } from 'vitest';
import { accountsOn } from '../../test-support/accounts-on-stores.ts';
import { rejectionOf } from '../../test-support/rejection.ts';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { type LinkCodes, linkCodeLifetimeMs } from './link-codes.ts';
import type { UserAccounts } from './user-accounts.ts';

async function refusalCode(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await rejectionOf(promise);
  return ImagineError.isInstance(error) ? error.code : String(error);
}

// Link codes: single use, expiring, one winner however many redeem at once: on every engine.
onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let accounts: UserAccounts;
  let linkCodes: LinkCodes;
  let now: Date;

  beforeEach(async () => {
    now = new Date('2026-03-10T12:00:00.000Z');
    opened = await open(() => now);
    ({ accounts, linkCodes } = accountsOn(opened.stores, () => now));
  });

  afterEach(async () => {
    await opened.close();
  });

  it(`links the identity that redeems a code to the account that issued it, on ${engine}`, async () => {
    await accounts.setPlan('app-ada', 'pro');
    const { code, expiresAt } = await linkCodes.create('app-ada');
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    expect(expiresAt.toISOString()).toBe('2026-03-10T12:10:00.000Z');
    // As people type it: lower case, spaces, a dash.
    const typed = ` ${code.slice(0, 4).toLowerCase()}-${code.slice(4)} `;
    expect(await linkCodes.redeem(typed, 'discord:1')).toBe('app-ada');
    expect(await accounts.chatCaller('discord:1')).toMatchObject({
      userId: 'app-ada',
      linked: true,
      plan: { name: 'pro' },
    });
    expect(await accounts.identitiesOf('app-ada')).toEqual(['discord:1']);
  });

  it(`creates the issuing account if it is new, on ${engine}`, async () => {
    const { code } = await linkCodes.create('firebase-uid');
    expect(await accounts.exists('firebase-uid')).toBe(true);
    expect(await linkCodes.redeem(code, 'slack:T1:U1')).toBe('firebase-uid');
  });

  it(`never accepts a used code again, by anyone, on ${engine}`, async () => {
    await accounts.ensureUser('app-ben');
    const { code } = await linkCodes.create('app-ada');
    expect(await linkCodes.redeem(code, 'discord:1')).toBe('app-ada');
    expect(await refusalCode(linkCodes.redeem(code, 'discord:1'))).toBe('link_code_invalid');
    expect(await refusalCode(linkCodes.redeem(code, 'discord:2'))).toBe('link_code_invalid');
    await accounts.link('discord:1', 'app-ben');
    expect(await refusalCode(linkCodes.redeem(code, 'discord:1'))).toBe('link_code_invalid');
    expect((await accounts.chatCaller('discord:1')).userId).toBe('app-ben');
    expect((await accounts.chatCaller('discord:2')).linked).toBe(false);
  });

  it(`accepts a code until the end of its ten minutes and not at that instant, on ${engine}`, async () => {
    const first = await linkCodes.create('app-ada');
    const second = await linkCodes.create('app-ada');
    now = new Date(first.expiresAt.getTime() - 1);
    expect(await linkCodes.redeem(first.code, 'discord:1')).toBe('app-ada');
    now = new Date(now.getTime() + 1);
    expect(now.getTime() - new Date('2026-03-10T12:00:00.000Z').getTime()).toBe(linkCodeLifetimeMs);
    expect(await refusalCode(linkCodes.redeem(second.code, 'discord:2'))).toBe('link_code_invalid');
    expect((await accounts.chatCaller('discord:2')).linked).toBe(false);
  });

  it(`refuses an unknown code the same way as a used or expired one, on ${engine}`, async () => {
    await linkCodes.create('app-ada');
    expect(await refusalCode(linkCodes.redeem('ABCDEFGH', 'discord:1'))).toBe('link_code_invalid');
    expect(await refusalCode(linkCodes.redeem('', 'discord:1'))).toBe('link_code_invalid');
  });

  it(`lets exactly one of 20 redemptions of one code sent at once win, on ${engine}`, async () => {
    const { code } = await linkCodes.create('app-ada');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) => linkCodes.redeem(code, `discord:${index}`)),
    );
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(won).toEqual([{ status: 'fulfilled', value: 'app-ada' }]);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(ImagineError.isInstance(outcome.reason) && outcome.reason.code).toBe('link_code_invalid');
      }
    }
    expect(await accounts.identitiesOf('app-ada')).toHaveLength(1);
  });

  it(`moves an identity to the account of the next code it redeems, on ${engine}`, async () => {
    const ada = await linkCodes.create('app-ada');
    const ben = await linkCodes.create('app-ben');
    await linkCodes.redeem(ada.code, 'discord:1');
    expect(await linkCodes.redeem(ben.code, 'discord:1')).toBe('app-ben');
    expect(await accounts.identitiesOf('app-ada')).toEqual([]);
    expect(await accounts.identitiesOf('app-ben')).toEqual(['discord:1']);
  });
});
