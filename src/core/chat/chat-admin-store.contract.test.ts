/**
 * The chat admin store's contract, on every engine, through `ChatAdmin`: blocks, this place's month, the
 * audit log (newest first, with who, where and what), and a refund that lands once per image however many
 * admins press it at once.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { imagineRefusal as refusal } from '../../test-support/imagine-refusal.ts';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { UserAccounts } from '../accounts/user-accounts.ts';
import type { Stores } from '../database/stores.ts';
import { QuotaLedger } from '../quota/quota-ledger.ts';
import { ChatAdmin, placeSubject } from './chat-admin.ts';

const moderator = { identity: 'discord:mod', scopeKey: 'discord-guild:1' };

/** `ChatAdmin` over the engine's stores, as the service builds it. */
function chatAdminOver(stores: Stores, now: () => Date): ChatAdmin {
  return new ChatAdmin(stores.chatAdmin, new UserAccounts(stores.accounts, loadConfig({}).plans), now);
}

/** Charges `images` to `userId`, counted at `scopeKey` when given, as a chat generation does. */
async function charge(ledger: QuotaLedger, userId: string, images: number, scopeKey?: string) {
  const hold = await ledger.reserve({
    userId,
    userLimit: 100,
    scope: undefined,
    images,
    estimatedUsd: 0,
    budgetUsd: undefined,
    tally: scopeKey === undefined ? undefined : placeSubject(scopeKey, userId),
  });
  await ledger.commit(hold.id, { images, costUsd: 0 });
}

onEveryStoreEngine((engine, open) => {
  describe(`ChatAdminStore contract on ${engine}`, () => {
    let opened: StoresUnderTest;
    let now: Date;
    let admin: ChatAdmin;
    let ledger: QuotaLedger;

    beforeEach(async () => {
      now = new Date('2026-03-10T12:00:00Z');
      opened = await open(() => now);
      admin = chatAdminOver(opened.stores, () => now);
      ledger = new QuotaLedger(opened.stores.quota, () => now);
    });

    afterEach(async () => {
      await opened.close();
    });

    it('blocks and unblocks, and audits each with who did it, where, and whether a block was lifted', async () => {
      expect(await admin.isBlocked('discord:ben')).toBe(false);
      await admin.block(moderator, 'discord:ben');
      await admin.block({ identity: 'slack:T1:U9', scopeKey: undefined }, 'discord:ben');
      expect(await admin.isBlocked('discord:ben')).toBe(true);
      expect(await admin.isBlocked('discord:ada')).toBe(false);
      now = new Date('2026-03-10T12:05:00Z');
      expect(await admin.unblock(moderator, 'discord:ben')).toBe(true);
      expect(await admin.unblock(moderator, 'discord:ben')).toBe(false);
      expect(await admin.isBlocked('discord:ben')).toBe(false);
      expect(await admin.recentActions()).toEqual([
        {
          at: '2026-03-10T12:05:00.000Z',
          actor: 'discord:mod',
          place: 'discord-guild:1',
          action: 'unblock',
          target: 'discord:ben',
          detail: { wasBlocked: false },
        },
        {
          at: '2026-03-10T12:05:00.000Z',
          actor: 'discord:mod',
          place: 'discord-guild:1',
          action: 'unblock',
          target: 'discord:ben',
          detail: { wasBlocked: true },
        },
        {
          at: '2026-03-10T12:00:00.000Z',
          actor: 'slack:T1:U9',
          place: undefined,
          action: 'block',
          target: 'discord:ben',
          detail: {},
        },
        {
          at: '2026-03-10T12:00:00.000Z',
          actor: 'discord:mod',
          place: 'discord-guild:1',
          action: 'block',
          target: 'discord:ben',
          detail: {},
        },
      ]);
      expect((await admin.recentActions(1)).map((action) => action.detail)).toEqual([{ wasBlocked: false }]);
    });

    it('counts this place’s month and its top five from what the ledger charged there, and audits it', async () => {
      for (const [index, images] of [3, 7, 1, 5, 2, 4].entries()) {
        await charge(ledger, `discord:u${index}`, images, 'discord-guild:1');
      }
      // Another place whose key starts the same, another month, and a charge outside any place.
      await charge(ledger, 'discord:u0', 9, 'discord-guild:10');
      await charge(ledger, 'discord:u1', 9);
      now = new Date('2026-04-01T00:00:00Z');
      await charge(ledger, 'discord:u2', 9, 'discord-guild:1');
      now = new Date('2026-03-31T23:59:59Z');
      expect(await admin.placeUsage(moderator)).toEqual({
        period: '2026-03',
        images: 22,
        top: [
          { identity: 'discord:u1', images: 7 },
          { identity: 'discord:u3', images: 5 },
          { identity: 'discord:u5', images: 4 },
          { identity: 'discord:u0', images: 3 },
          { identity: 'discord:u4', images: 2 },
        ],
      });
      expect(await admin.placeUsage({ identity: 'slack:T1:U1', scopeKey: 'slack-team:T1' })).toEqual({
        period: '2026-03',
        images: 0,
        top: [],
      });
      expect(await admin.recentActions()).toMatchObject([
        { action: 'usage', target: 'slack-team:T1', actor: 'slack:T1:U1' },
        { action: 'usage', target: 'discord-guild:1', actor: 'discord:mod', detail: {} },
      ]);
    });

    it('refuses to refund an image that does not exist, and audits nothing', async () => {
      const error = await refusal(() => admin.refund(moderator, ' 0190-nothing '));
      expect(error.code).toBe('not_found');
      expect(error.message).toBe('No image has the id 0190-nothing.');
      expect(await admin.recentActions()).toEqual([]);
    });
  });
});

/** An image on record, as the generator records one, for the refund cases. */
function addGeneration(stores: Stores, id: string, userId: string, createdAt: string): Promise<void> {
  return stores.generations.insert([
    {
      id,
      userId,
      batchId: undefined,
      source: 'discord',
      prompt: 'a fox',
      promptUsed: 'a fox',
      negativePrompt: undefined,
      style: undefined,
      model: 'flux-schnell',
      seed: undefined,
      width: 1024,
      height: 1024,
      quality: 'standard',
      costUsd: 0,
      generationMs: 1,
      storageKey: id,
      imageUrl: id,
      contentType: 'image/png',
      providerRequestId: undefined,
      warnings: [],
      createdAt: new Date(createdAt),
      parentId: undefined,
      kind: undefined,
    },
  ]);
}

onEveryStoreEngine((engine, open) => {
  describe(`ChatAdminStore refunds on ${engine}`, () => {
    let opened: StoresUnderTest;
    let now: Date;
    let admin: ChatAdmin;
    let ledger: QuotaLedger;

    beforeEach(async () => {
      now = new Date('2026-04-02T09:00:00Z');
      opened = await open(() => now);
      admin = chatAdminOver(opened.stores, () => now);
      ledger = new QuotaLedger(opened.stores.quota, () => now);
      // Charged in March; refunded in April, to March.
      now = new Date('2026-03-20T10:00:00Z');
      await charge(ledger, 'app-ada', 3);
      await addGeneration(opened.stores, 'img-1', 'app-ada', '2026-03-20T10:00:00.000Z');
      await addGeneration(opened.stores, 'img-2', 'app-ada', '2026-03-20T10:00:00.000Z');
      now = new Date('2026-04-02T09:00:00Z');
    });

    afterEach(async () => {
      await opened.close();
    });

    const usedInMarch = async () => (await opened.stores.quota.counter('user:app-ada', '2026-03')).usedImages;

    it('gives back one image, to the month it was charged in, once per image, and audits it', async () => {
      expect(await admin.refund(moderator, ' img-1 ')).toEqual({ userId: 'app-ada' });
      expect(await usedInMarch()).toBe(2);
      const again = await refusal(() => admin.refund(moderator, 'img-1'));
      expect(again.code).toBe('validation_error');
      expect(again.message).toBe('That image was refunded already.');
      expect(await usedInMarch()).toBe(2);
      expect(await admin.refund(moderator, 'img-2')).toEqual({ userId: 'app-ada' });
      expect(await usedInMarch()).toBe(1);
      expect(await admin.recentActions()).toEqual([
        expect.objectContaining({ action: 'refund', target: 'img-2' }),
        {
          at: '2026-04-02T09:00:00.000Z',
          actor: 'discord:mod',
          place: 'discord-guild:1',
          action: 'refund',
          target: 'img-1',
          detail: { userId: 'app-ada', period: '2026-03' },
        },
      ]);
    });

    it('of 20 refunds of one image at once, exactly one lands and one image comes back', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => admin.refund(moderator, 'img-1')),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'validation_error' });
      }
      expect(await usedInMarch()).toBe(2);
      expect((await admin.recentActions()).filter((action) => action.action === 'refund')).toHaveLength(1);
    });

    it('never takes a month below zero', async () => {
      now = new Date('2026-03-20T10:00:00Z');
      // A generation that made nothing: the month's row exists, with nothing charged.
      const hold = await ledger.reserve({
        userId: 'app-ben',
        userLimit: 100,
        scope: undefined,
        images: 1,
        estimatedUsd: 0,
        budgetUsd: undefined,
      });
      await ledger.commit(hold.id, { images: 0, costUsd: 0 });
      now = new Date('2026-04-02T09:00:00Z');
      await addGeneration(opened.stores, 'img-3', 'app-ben', '2026-03-20T10:00:00.000Z');
      expect(await admin.refund(moderator, 'img-3')).toEqual({ userId: 'app-ben' });
      expect((await opened.stores.quota.counter('user:app-ben', '2026-03')).usedImages).toBe(0);
    });
  });
});
