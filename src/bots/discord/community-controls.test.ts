import { ComponentType, InteractionResponseType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceOverrides } from '../../services.ts';
import {
  type Actor,
  buttonPress,
  customIdOf,
  embedOf,
  fieldsOf,
  fixture,
  ids,
  slashCommand,
  webhook,
} from './test-support/discord-test-kit.ts';
import { type TransportHarness, transports } from './test-support/transport-harness.ts';

let current: TransportHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const ada = `discord:${ids.ada}`;
const manageServer = String(PermissionFlagsBits.ManageGuild);

describe.each(transports)('community controls in Discord over %s', (_transport, start) => {
  async function harness(environment: Record<string, string> = {}, overrides: ServiceOverrides = {}) {
    current = await start(environment, overrides);
    return current;
  }

  async function generate(testHarness: TransportHarness, prompt: string, actor: Actor = {}) {
    const interaction = slashCommand('imagine', { prompt }, actor);
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const final = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    expect(await testHarness.send(interaction)).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
    });
    await progress;
    return final;
  }

  /** The private answer a check gives at once, without deferring or generating. */
  async function refusal(testHarness: TransportHarness, prompt: string, actor: Actor = {}) {
    const answer = await testHarness.send(slashCommand('imagine', { prompt }, actor));
    expect(answer).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    return (answer as { data: { content: string } }).data.content;
  }

  it('a cooldown refusal is private and names the seconds left; admins are exempt', async () => {
    let now = new Date('2026-03-10T12:00:00Z');
    const testHarness = await harness(
      { CHAT_COOLDOWN_SECONDS: '60', GUEST_MONTHLY_IMAGES: '10' },
      { now: () => now },
    );
    await generate(testHarness, 'the first fox');
    expect(await refusal(testHarness, 'a second fox')).toBe(
      'Slow down a little: you can make your next image in 60 seconds.',
    );
    now = new Date('2026-03-10T12:00:45Z');
    expect(await refusal(testHarness, 'a second fox')).toBe(
      'Slow down a little: you can make your next image in 15 seconds.',
    );
    // The Reroll button is a generation too.
    const first = await generate(testHarness, 'an admin fox', { permissions: manageServer });
    const reroll = buttonPress(customIdOf((await first).json, 'Reroll'), { userId: ids.ada });
    const answer = await testHarness.send(reroll);
    expect(answer).toMatchObject({
      data: { flags: MessageFlags.Ephemeral, content: expect.stringMatching(/in 15 seconds\.$/) },
    });
    // Someone else has a cooldown of their own.
    await generate(testHarness, 'ben’s fox', { userId: ids.ben });
    now = new Date('2026-03-10T12:01:00Z');
    await generate(testHarness, 'a second fox');
    // An admin (Manage Server) made one in the middle of it all without waiting.
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(3);
  });

  it('a role in DISCORD_ADMIN_ROLES is exempt too, and a failed generation gives the cooldown back', async () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const testHarness = await harness(
      { CHAT_COOLDOWN_SECONDS: '60', GUEST_MONTHLY_IMAGES: '10', DISCORD_ADMIN_ROLES: ids.artistRole },
      { now: () => now },
    );
    await generate(testHarness, 'one', { roles: [ids.artistRole] });
    await generate(testHarness, 'two', { roles: [ids.artistRole] });
    // A prompt the core refuses costs no cooldown: the next command goes ahead at once.
    const tooLong = slashCommand('imagine', { prompt: 'a'.repeat(2001) }, { userId: ids.ben });
    const progress = testHarness.api.expect('PATCH', webhook.original(tooLong.token));
    const removed = testHarness.api.expect('DELETE', webhook.original(tooLong.token));
    const told = testHarness.api.expect('POST', webhook.followUp(tooLong.token));
    await testHarness.send(tooLong);
    await progress;
    await removed;
    expect((await told).json.content).toMatch(/at most 2000 characters/);
    await generate(testHarness, 'ben’s fox', { userId: ids.ben });
    expect(await refusal(testHarness, 'again', { userId: ids.ben })).toMatch(/in 60 seconds\.$/);
  });

  it('a channel outside DISCORD_ALLOWED_CHANNELS is refused privately, naming where the bot works', async () => {
    const elsewhere = '1300000000000000099';
    const testHarness = await harness({ DISCORD_ALLOWED_CHANNELS: elsewhere });
    expect(await refusal(testHarness, 'a fox')).toBe(
      `I make images only in <#${elsewhere}>. Try the command there.`,
    );
    expect(await refusal(testHarness, 'a dm fox', { dm: true })).toMatch(/^I make images only in/);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(0);
    // /usage is not an image command: it works anywhere.
    const usage = await testHarness.send(slashCommand('usage', {}));
    expect(usage).toMatchObject({
      data: { flags: MessageFlags.Ephemeral, embeds: [{ title: 'Your images' }] },
    });
  });

  it('in an allowed channel the command goes ahead', async () => {
    const testHarness = await harness({ DISCORD_ALLOWED_CHANNELS: `1300000000000000099,${ids.channel}` });
    await generate(testHarness, 'a fox');
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });

  it('NSFW_POLICY=nsfw-channels relaxes the blocklist in a channel marked NSFW and posts the result as a spoiler', async () => {
    const testHarness = await harness({ NSFW_POLICY: 'nsfw-channels', BLOCKED_TERMS: 'gore' });
    const inNsfw = slashCommand('imagine', { prompt: 'a gore fest poster' });
    (inNsfw.channel as { nsfw?: boolean }).nsfw = true;
    const progress = testHarness.api.expect('PATCH', webhook.original(inNsfw.token));
    const final = testHarness.api.expect('PATCH', webhook.original(inNsfw.token));
    await testHarness.send(inNsfw);
    await progress;
    const posted = await final;
    expect(posted.files[0]?.filename).toMatch(/^SPOILER_imagine-.+\.png$/);
    expect(posted.json.attachments).toEqual([{ id: 0, filename: posted.files[0]?.filename }]);
    expect(posted.json.embeds?.[0]?.image).toBeUndefined();
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);

    // Anywhere else the operator's blocklist still applies.
    const elsewhere = slashCommand('imagine', { prompt: 'a gore fest poster' });
    const working = testHarness.api.expect('PATCH', webhook.original(elsewhere.token));
    const removed = testHarness.api.expect('DELETE', webhook.original(elsewhere.token));
    const told = testHarness.api.expect('POST', webhook.followUp(elsewhere.token));
    await testHarness.send(elsewhere);
    await working;
    await removed;
    expect((await told).json.content).toMatch(/content policy/);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });

  it('DISCORD_ROLE_PLANS: a member with a mapped role gets that plan; a better linked plan stays', async () => {
    const testHarness = await harness({
      DISCORD_ROLE_PLANS: `${ids.artistRole}=pro`,
      GUEST_MONTHLY_IMAGES: '3',
    });
    const withRole = { roles: [ids.artistRole] };
    const final = await generate(testHarness, 'a member fox', withRole);
    expect(fieldsOf(await final)['Images left']).toBe('199 of 200 this month');
    const usage = await testHarness.send(slashCommand('usage', {}, withRole));
    const description = (usage as { data: { embeds: { description: string }[] } }).data.embeds[0]
      ?.description;
    expect(description).toMatch(
      new RegExp(`^\\*\\*Plan:\\*\\* pro \\(from your <@&${ids.artistRole}> role in this server\\)`),
    );
    // Without the role (or in a DM) the same person is a guest again, on the same count.
    expect(await testHarness.services.chatImages.usage(ada)).toMatchObject({
      plan: 'guest',
      used: 1,
      limit: 3,
    });

    // A linked account on a better plan keeps it; on a worse one the role wins.
    await testHarness.services.accounts.setPlan('ben-app', 'enterprise');
    await testHarness.services.accounts.link(`discord:${ids.ben}`, 'ben-app');
    const ben = await generate(testHarness, 'ben’s fox', { ...withRole, userId: ids.ben });
    expect(fieldsOf(await ben)['Images left']).toBe('1999 of 2000 this month');
    await testHarness.services.accounts.setPlan('ben-app', 'free');
    const place = {
      scopeKey: undefined,
      scopeLimit: undefined,
      planGrants: [{ plan: 'pro', source: 'role' }],
    };
    expect(await testHarness.services.chatImages.usage(`discord:${ids.ben}`, place)).toMatchObject({
      plan: 'pro',
      used: 1,
      linkedTo: 'ben-app',
      planSource: { kind: 'grant', source: 'role' },
    });
  });

  /** A choice in one of the /settings select menus, as Discord delivers it. */
  function settingsChoice(setting: string, value: string) {
    const interaction = buttonPress('unused', { userId: ids.ada });
    (interaction as { data: unknown }).data = {
      custom_id: `settings:${setting}`,
      component_type: ComponentType.StringSelect,
      values: [value],
    };
    return interaction;
  }

  it('/settings saves a default style and aspect ratio that /imagine then uses; an option still wins; reset', async () => {
    const testHarness = await harness();
    const menu = await testHarness.send(slashCommand('settings', {}));
    expect(menu).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    const rows = (menu as { data: { components: { components: { custom_id: string }[] }[] } }).data
      .components;
    expect(rows.map((row) => row.components[0]?.custom_id)).toEqual([
      'settings:style',
      'settings:aspectRatio',
      'settings:model',
      'settings:enhance',
      'settings:private',
    ]);
    const saved = await testHarness.send(settingsChoice('style', 'watercolor'));
    expect(saved).toMatchObject({
      type: InteractionResponseType.UpdateMessage,
      data: { content: expect.stringContaining('Saved.') },
    });
    await testHarness.send(settingsChoice('aspectRatio', '16:9'));
    expect(await testHarness.services.chatImages.settings.get(ada)).toEqual({
      style: 'watercolor',
      aspectRatio: '16:9',
    });

    const final = await generate(testHarness, 'a lighthouse');
    const posted = await final;
    expect(fieldsOf(posted).Size).toBe('1360×768');
    expect(embedOf(posted).description).toMatch(/watercolor painting/);
    // A flag typed in the prompt wins over the setting.
    expect(fieldsOf(await generate(testHarness, 'a lighthouse --ar 1:1')).Size).toBe('1024×1024');

    const reset = await testHarness.send(slashCommand('settings', { reset: true }));
    expect(reset).toMatchObject({ data: { content: expect.stringContaining('back to the defaults') } });
    expect(await testHarness.services.chatImages.settings.get(ada)).toEqual({});
  });

  it('a private result (option or setting) is ephemeral, and its buttons still work for that person', async () => {
    const testHarness = await harness({ GUEST_MONTHLY_IMAGES: '10' });
    const interaction = slashCommand('imagine', { prompt: 'a secret fox', private: true });
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const final = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    expect(await testHarness.send(interaction)).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    await progress;
    const posted = await final;
    expect(posted.files).toHaveLength(1);

    // Reroll under a private result stays private.
    const press = buttonPress(customIdOf(posted.json, 'Reroll'), { userId: ids.ada });
    (press as { message: { flags?: number } }).message.flags = MessageFlags.Ephemeral;
    const rerollProgress = testHarness.api.expect('PATCH', webhook.original(press.token));
    const rerolled = testHarness.api.expect('PATCH', webhook.original(press.token));
    expect(await testHarness.send(press)).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    await rerollProgress;
    expect((await rerolled).files).toHaveLength(1);

    // The setting makes every result private, and private:false still posts publicly.
    await testHarness.send(settingsChoice('private', 'on'));
    const bySetting = slashCommand('imagine', { prompt: 'another secret' });
    const settingProgress = testHarness.api.expect('PATCH', webhook.original(bySetting.token));
    const settingFinal = testHarness.api.expect('PATCH', webhook.original(bySetting.token));
    expect(await testHarness.send(bySetting)).toMatchObject({ data: { flags: MessageFlags.Ephemeral } });
    await settingProgress;
    await settingFinal;
    const publicOne = slashCommand('imagine', { prompt: 'a public fox', private: false });
    const publicProgress = testHarness.api.expect('PATCH', webhook.original(publicOne.token));
    const publicFinal = testHarness.api.expect('PATCH', webhook.original(publicOne.token));
    expect(await testHarness.send(publicOne)).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
    });
    await publicProgress;
    await publicFinal;
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(4);
  });

  /** `/imagine-admin <action>` with its options, as Discord delivers a subcommand. */
  function adminCommand(action: string, options: Record<string, string | number>, actor: Actor = {}) {
    const interaction = slashCommand('imagine-admin', {}, actor);
    const types: Record<string, number> = { user: 6, images: 4, plan: 3, image: 3 };
    (interaction.data as { options?: unknown }).options = [
      {
        type: 1,
        name: action,
        options: Object.entries(options).map(([name, value]) => ({ name, type: types[name], value })),
      },
    ];
    return interaction;
  }

  async function adminReply(testHarness: TransportHarness, interaction: ReturnType<typeof adminCommand>) {
    const answer = await testHarness.send(interaction);
    expect(answer).toMatchObject({ data: { flags: MessageFlags.Ephemeral } });
    return (answer as { data: { content: string } }).data.content;
  }

  it('/imagine-admin: grant, plan, refund, usage, block and unblock, audited; refused for non-admins', async () => {
    const testHarness = await harness({ GUEST_MONTHLY_IMAGES: '1' });
    const admin = { permissions: manageServer };
    const ben = `discord:${ids.ben}`;

    expect(await adminReply(testHarness, adminCommand('grant', { user: ids.ben, images: 2 }))).toMatch(
      /^Only server admins/,
    );
    expect(await adminReply(testHarness, adminCommand('usage', {}, { ...admin, dm: true }))).toMatch(
      /^Only server admins/,
    );

    // grant: Ben's guest month of 1 becomes 3.
    expect(await adminReply(testHarness, adminCommand('grant', { user: ids.ben, images: 2 }, admin))).toBe(
      `Granted <@${ids.ben}> 2 extra images this month (2 extra in all).`,
    );
    const posted = await generate(testHarness, 'ben’s fox', { userId: ids.ben });
    expect(fieldsOf(await posted)['Images left']).toBe('2 of 3 this month');

    // refund: the image Ben made is given back, once.
    const [record] = (await testHarness.services.records.listForUser(ben, { limit: 1, cursor: undefined }))
      .records;
    expect(await adminReply(testHarness, adminCommand('refund', { image: record?.id ?? '' }, admin))).toBe(
      `Refunded one image to \`${ben}\`.`,
    );
    expect(await testHarness.services.chatImages.usage(ben)).toMatchObject({ used: 0, limit: 3 });
    expect(await adminReply(testHarness, adminCommand('refund', { image: record?.id ?? '' }, admin))).toMatch(
      /refunded already/,
    );

    // plan: Ben on pro.
    expect(await adminReply(testHarness, adminCommand('plan', { user: ids.ben, plan: 'pro' }, admin))).toBe(
      `<@${ids.ben}> is now on the **pro** plan.`,
    );
    expect(await testHarness.services.chatImages.usage(ben)).toMatchObject({ plan: 'pro', limit: 202 });

    // usage: this server's month and its top users.
    expect(await adminReply(testHarness, adminCommand('usage', {}, admin))).toMatch(
      new RegExp(
        `^\\*\\*This server, \\d{4}-\\d{2}:\\*\\* 1 images\\n\\*\\*Top users:\\*\\*\\n1\\. <@${ids.ben}>: 1$`,
      ),
    );

    // block: Ben is refused privately; unblock lets him in again.
    expect(await adminReply(testHarness, adminCommand('block', { user: ids.ben }, admin))).toBe(
      `<@${ids.ben}> can no longer make images.`,
    );
    expect(await refusal(testHarness, 'a blocked fox', { userId: ids.ben })).toMatch(
      /^An admin has blocked you/,
    );
    expect(await adminReply(testHarness, adminCommand('unblock', { user: ids.ben }, admin))).toBe(
      `<@${ids.ben}> can make images again.`,
    );
    await generate(testHarness, 'a free fox', { userId: ids.ben });

    expect(
      (await testHarness.services.chatImages.admin.recentActions()).map((action) => [
        action.action,
        action.actor,
      ]),
    ).toEqual([
      ['unblock', ada],
      ['block', ada],
      ['usage', ada],
      ['plan', ada],
      ['refund', ada],
      ['grant', ada],
    ]);
  });

  it('OUTPUT_MODERATION=on: a flagged image is not posted or charged, and the person is told privately', async () => {
    const testHarness = await harness({
      OPENAI_API_KEY: 'sk-test-key',
      MODERATION: 'off',
      OUTPUT_MODERATION: 'on',
    });
    nock('https://api.openai.com')
      .post('/v1/moderations')
      .reply(200, fixture('openai-moderation-image-flagged.json'));
    const interaction = slashCommand('imagine', { prompt: 'a lighthouse' });
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const removed = testHarness.api.expect('DELETE', webhook.original(interaction.token));
    const told = testHarness.api.expect('POST', webhook.followUp(interaction.token));
    await testHarness.send(interaction);
    await progress;
    await removed;
    const notice = await told;
    expect(notice.json).toMatchObject({
      flags: MessageFlags.Ephemeral,
      content:
        'The image that came back did not pass the content policy, so it was not posted. Try another prompt. You were not charged.',
    });
    expect(notice.files).toEqual([]);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(0);
    expect(
      (await testHarness.services.records.listForUser(ada, { limit: 5, cursor: undefined })).records,
    ).toEqual([]);
  });
});
