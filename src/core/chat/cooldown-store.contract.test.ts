/**
 * The cooldown store's contract, on every engine, through `ChatCooldowns`: a start inside the window is
 * refused with the time left, one after it is allowed, and of starts at once only one wins.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { ChatCooldowns } from './chat-cooldowns.ts';

onEveryStoreEngine((engine, open) => {
  describe(`CooldownStore contract on ${engine}`, () => {
    let opened: StoresUnderTest;
    let now: Date;
    let cooldowns: ChatCooldowns;
    const advance = (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    };

    beforeEach(async () => {
      now = new Date('2026-03-10T12:00:00Z');
      opened = await open(() => now);
      cooldowns = new ChatCooldowns(opened.stores.chatCooldowns, () => now);
    });

    afterEach(async () => {
      await opened.close();
    });

    it('refuses a start inside the window with the seconds left, and allows one after it', async () => {
      expect(await cooldowns.claim('discord:ada', 30)).toEqual({ claimed: true, startedMs: now.getTime() });
      expect(await cooldowns.claim('discord:ada', 30)).toEqual({ claimed: false, secondsLeft: 30 });
      advance(29.2);
      expect(await cooldowns.claim('discord:ada', 30)).toEqual({ claimed: false, secondsLeft: 1 });
      // Another identity has a cooldown of its own.
      expect((await cooldowns.claim('slack:T1:U1', 30)).claimed).toBe(true);
      advance(0.8);
      expect(await cooldowns.claim('discord:ada', 30)).toEqual({ claimed: true, startedMs: now.getTime() });
    });

    it('of 20 starts at once for one identity, exactly one wins; the rest are told the full wait', async () => {
      const claims = await Promise.all(Array.from({ length: 20 }, () => cooldowns.claim('discord:ada', 30)));
      expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
      expect(claims.filter((claim) => !claim.claimed)).toEqual(
        Array.from({ length: 19 }, () => ({ claimed: false, secondsLeft: 30 })),
      );
    });

    it('a start given back frees the identity at once, and a late give-back leaves a newer start alone', async () => {
      const first = await cooldowns.claim('discord:ada', 30);
      if (!first.claimed) throw new Error('expected the first start to win');
      await cooldowns.giveBack('discord:ada', first.startedMs);
      const second = await cooldowns.claim('discord:ada', 30);
      if (!second.claimed) throw new Error('expected the start after a give-back to win');
      advance(31);
      expect((await cooldowns.claim('discord:ada', 30)).claimed).toBe(true);
      await cooldowns.giveBack('discord:ada', second.startedMs);
      expect(await cooldowns.claim('discord:ada', 30)).toEqual({ claimed: false, secondsLeft: 30 });
    });
  });
});
