import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../database/open-database.ts';
import { ChatCooldowns } from '../chat-cooldowns.ts';
import { SqliteCooldownStore } from '../sqlite/sqlite-cooldown-store.ts';
import { runChatChecks } from './chat-check.ts';
import { createChatChecks, imageMakingChecks } from './chat-checks.ts';

function checksAt(instant: string, settings: { cooldownSeconds?: number; allowedChannels?: string[] } = {}) {
  let now = new Date(instant);
  const database = openDatabase(':memory:');
  const checks = createChatChecks({
    cooldowns: new ChatCooldowns(new SqliteCooldownStore(database), () => now),
    cooldownSeconds: settings.cooldownSeconds ?? 0,
    allowedChannels: settings.allowedChannels ?? [],
    admin: { isBlocked: async (identity) => identity === 'discord:blocked' },
  });
  const secondCopy = new ChatCooldowns(new SqliteCooldownStore(database), () => now);
  return {
    checks,
    secondCopy,
    advance: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)),
  };
}

const ada = { identity: 'discord:ada', isAdmin: false, channelId: 'C1' };

describe('chat checks', async () => {
  it('a cooldown counts down on the clock, per platform identity, and lets admins through', async () => {
    const { checks, advance } = checksAt('2026-03-10T12:00:00Z', { cooldownSeconds: 30 });
    expect((await runChatChecks(checks, ['cooldown'], ada)).ok).toBe(true);
    expect(await runChatChecks(checks, ['cooldown'], ada)).toEqual({
      ok: false,
      identifier: 'cooldown',
      message: 'Slow down a little: you can make your next image in 30 seconds.',
      context: { seconds_left: 30, cooldown_seconds: 30 },
    });
    advance(29.2);
    expect(await runChatChecks(checks, ['cooldown'], ada)).toMatchObject({
      message: 'Slow down a little: you can make your next image in 1 second.',
    });
    // The same person from Slack, and anyone else, have cooldowns of their own; an admin has none.
    expect((await runChatChecks(checks, ['cooldown'], { ...ada, identity: 'slack:T1:U1' })).ok).toBe(true);
    expect((await runChatChecks(checks, ['cooldown'], { ...ada, isAdmin: true })).ok).toBe(true);
    advance(0.8);
    expect((await runChatChecks(checks, ['cooldown'], ada)).ok).toBe(true);
  });

  it('a cooldown of 0 is off', async () => {
    const { checks } = checksAt('2026-03-10T12:00:00Z');
    for (let attempt = 0; attempt < 3; attempt++)
      expect((await runChatChecks(checks, ['cooldown'], ada)).ok).toBe(true);
  });

  it('a command that fails gives its cooldown back, and never one a later command took', async () => {
    const { checks, secondCopy, advance } = checksAt('2026-03-10T12:00:00Z', { cooldownSeconds: 30 });
    const first = await runChatChecks(checks, ['cooldown'], ada);
    if (!first.ok) throw new Error('expected the first command to pass');
    await first.undo();
    const second = await runChatChecks(checks, ['cooldown'], ada);
    expect(second.ok).toBe(true);
    // Another process sharing the file sees the same cooldown.
    expect(await secondCopy.claim(ada.identity, 30)).toEqual({ claimed: false, secondsLeft: 30 });
    advance(31);
    const third = await runChatChecks(checks, ['cooldown'], ada);
    if (!second.ok || !third.ok) throw new Error('expected both to pass');
    await second.undo(); // late: the third command's cooldown stays
    expect((await runChatChecks(checks, ['cooldown'], ada)).ok).toBe(false);
  });

  it('channel rules name where the bot works, and a refusal gives back what earlier checks took', async () => {
    const { checks } = checksAt('2026-03-10T12:00:00Z', {
      cooldownSeconds: 30,
      allowedChannels: ['C7', 'C8'],
    });
    const refused = await runChatChecks(checks, ['cooldown', 'allowed-channel'], ada);
    expect(refused).toEqual({
      ok: false,
      identifier: 'channel_not_allowed',
      message: 'I make images only in these channels: <#C7>, <#C8>. Try the command in one of them.',
      context: { channel: 'C1', allowed_channels: ['C7', 'C8'] },
    });
    // The cooldown the refused command claimed first was given back.
    expect((await runChatChecks(checks, imageMakingChecks, { ...ada, channelId: 'C8' })).ok).toBe(true);
    expect((await runChatChecks(checks, ['allowed-channel'], { ...ada, channelId: undefined })).ok).toBe(
      false,
    );
  });

  it('a blocked identity is refused before anything else is taken', async () => {
    const { checks } = checksAt('2026-03-10T12:00:00Z', { cooldownSeconds: 30 });
    expect(
      await runChatChecks(checks, imageMakingChecks, { ...ada, identity: 'discord:blocked', isAdmin: true }),
    ).toMatchObject({
      ok: false,
      identifier: 'blocked',
    });
    expect((await runChatChecks(checks, imageMakingChecks, ada)).ok).toBe(true);
  });
});
