/** Community controls in Slack, over HTTP and Socket Mode, with Slack's Web API stood in. */
import { afterEach, describe, expect, it } from 'vitest';
import { allTasksPlaceholder } from '../../test-support/image-input-stand-ins.ts';
import {
  alice,
  aliceIdentity,
  appHomeOpened,
  bob,
  bobIdentity,
  buttonPress,
  channelId,
  fixture,
  HttpTransport,
  SlackStandIn,
  type SlackTransport,
  SocketTransport,
  sizedPngModel,
  slashCommand,
  teamId,
} from './__fixtures__/slack-stand-in.ts';

const transports = { http: HttpTransport.start, socket: SocketTransport.start } as const;

let current: SlackTransport | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

type Block = { type: string; [key: string]: unknown };

function blockText(blocks: Block[]): string {
  return JSON.stringify(blocks);
}

function buttons(blocks: Block[]): { text: string; actionId: string; value: string }[] {
  return blocks
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements as { text: { text: string }; action_id: string; value: string }[])
    .map((element) => ({ text: element.text.text, actionId: element.action_id, value: element.value }));
}

describe.each(['http', 'socket'] as const)('community controls in Slack over %s', (mode) => {
  it('a cooldown refusal is ephemeral and names the seconds left; SLACK_ADMIN_USERS are exempt', async () => {
    let now = new Date('2026-03-10T12:00:00Z');
    const transport = await transports[mode](
      { CHAT_COOLDOWN_SECONDS: '30', GUEST_MONTHLY_IMAGES: '10', SLACK_ADMIN_USERS: 'U0003ADMIN' },
      [sizedPngModel()],
      { now: () => now },
    );
    current = transport;
    // Alice is no workspace admin (asked once: the answer is kept).
    const slack = new SlackStandIn()
      .method('users.info', { ok: true, user: { id: alice, is_admin: false, is_owner: false } })
      .uploadFlow()
      .responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse' }));
    await slack.until(() => slack.responses.length === 1);
    expect(await transport.command(slashCommand({ text: 'another lighthouse' }))).toEqual({
      response_type: 'ephemeral',
      text: 'Slow down a little: you can make your next image in 30 seconds.',
    });

    // A button that generates is held to the same cooldown, and told privately.
    const reroll = buttons(SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[0]))[0];
    now = new Date('2026-03-10T12:00:20Z');
    slack.responseUrls();
    await transport.action(
      buttonPress({ actionId: reroll?.actionId ?? '', value: reroll?.value ?? '' }, { user: alice }),
    );
    await slack.until(() => slack.responses.length === 2);
    expect(slack.responses[1]?.body).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'Slow down a little: you can make your next image in 10 seconds.',
    });

    // An admin is never held back.
    slack.uploadFlow(2).responseUrls(2);
    await transport.command(slashCommand({ text: 'admin one', user_id: 'U0003ADMIN' }));
    await transport.command(slashCommand({ text: 'admin two', user_id: 'U0003ADMIN' }));
    await slack.until(() => slack.responses.length === 4);
    expect((await transport.services.chatImages.usage('slack:T0001TEAM:U0003ADMIN')).used).toBe(2);

    now = new Date('2026-03-10T12:00:30Z');
    slack.uploadFlow().responseUrls();
    await transport.command(slashCommand({ text: 'a third lighthouse' }));
    await slack.until(() => slack.responses.length === 5);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(2);
    expect(slack.callsTo('users.info').map((call) => call.args.user)).toEqual([alice]);
  });

  it('workspace admins and owners (users.info) have no cooldown; a failed lookup counts as not an admin', async () => {
    const transport = await transports[mode]({ CHAT_COOLDOWN_SECONDS: '30', GUEST_MONTHLY_IMAGES: '10' });
    current = transport;
    // Alice owns the workspace; for Bob, Slack refuses the lookup (the app lacks users:read).
    const slack = new SlackStandIn()
      .method('users.info', { ok: true, user: { id: alice, is_admin: false, is_owner: true } })
      .method('users.info', { ok: false, error: 'missing_scope', needed: 'users:read' })
      .uploadFlow(3)
      .responseUrls(3);
    await transport.command(slashCommand({ text: 'owner one' }));
    await transport.command(slashCommand({ text: 'owner two' }));
    await slack.until(() => slack.responses.length === 2);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(2);

    await transport.command(slashCommand({ text: 'bob one', user_id: bob }));
    await slack.until(() => slack.responses.length === 3);
    expect(await transport.command(slashCommand({ text: 'bob two', user_id: bob }))).toEqual({
      response_type: 'ephemeral',
      text: 'Slow down a little: you can make your next image in 30 seconds.',
    });
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(1);
    // Each answer, the failed one too, is kept: Slack was asked once per person.
    expect(slack.callsTo('users.info').map((call) => call.args.user)).toEqual([alice, bob]);

    // The owner counts as an admin for /imagine-admin as well.
    const answer = (await transport.command(
      slashCommand({ command: '/imagine-admin', text: `grant <@${bob}|bob> 1` }),
    )) as { text: string };
    expect(answer.text).toBe(`Granted <@${bob}> 1 extra images this month (1 extra in all).`);
  });

  it('the Remix form runs the checks on submission: a cooldown or a block refuses it in the form, uncharged', async () => {
    let now = new Date('2026-03-10T12:00:00Z');
    const model = allTasksPlaceholder();
    const transport = await transports[mode](
      { CHAT_COOLDOWN_SECONDS: '30', GUEST_MONTHLY_IMAGES: '10' },
      [model],
      { now: () => now },
    );
    current = transport;
    const slack = new SlackStandIn()
      .method('users.info', { ok: true, user: { id: alice, is_admin: false, is_owner: false } })
      .uploadFlow()
      .responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse' }));
    await slack.until(() => slack.responses.length === 1);
    const remix = buttons(SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[0])).find(
      (button) => button.text === '🖌️ Remix',
    );
    const openForm = async (user: string) => {
      slack.method('views.open');
      const press = buttonPress({ actionId: remix?.actionId ?? '', value: remix?.value ?? '' }, { user });
      const opened = slack.callsTo('views.open').length;
      await transport.action(press);
      await slack.until(() => slack.callsTo('views.open').length === opened + 1);
      const view = JSON.parse(slack.callsTo('views.open')[opened]?.args.view ?? '{}');
      return (prompt: string) =>
        transport.action({
          type: 'view_submission',
          team: { id: teamId, domain: 'example' },
          user: { id: user, team_id: teamId, name: user },
          api_app_id: press.api_app_id,
          token: press.token,
          trigger_id: `${Date.now()}.1000000000.remix`,
          view: {
            id: 'V0001REMIX',
            type: 'modal',
            team_id: teamId,
            callback_id: view.callback_id,
            private_metadata: view.private_metadata,
            state: { values: { prompt: { prompt: { type: 'plain_text_input', value: prompt } } } },
          },
        });
    };

    // Opening the form takes no cooldown; submitting it inside Alice's cooldown is refused in the form.
    now = new Date('2026-03-10T12:00:10Z');
    const aliceSubmits = await openForm(alice);
    expect(await aliceSubmits('a lighthouse, in ink')).toEqual({
      response_action: 'errors',
      errors: { prompt: 'Slow down a little: you can make your next image in 20 seconds.' },
    });
    expect(model.calls).toHaveLength(1);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);

    // Bob opened the form, then an admin blocked him: his submission is refused.
    const bobSubmits = await openForm(bob);
    transport.services.chatImages.admin.block(
      { identity: 'slack:T0001TEAM:U0003ADMIN', scopeKey: `slack-team:${teamId}` },
      bobIdentity,
    );
    slack.method('users.info', { ok: true, user: { id: bob, is_admin: false, is_owner: false } });
    expect(await bobSubmits('a lighthouse, in ink')).toEqual({
      response_action: 'errors',
      errors: {
        prompt: 'An admin has blocked you from making images here. Ask them if you think that is a mistake.',
      },
    });
    expect(model.calls).toHaveLength(1);
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(0);
    expect(slack.callsTo('users.info').map((call) => call.args.user)).toEqual([alice, bob]);

    // Once the cooldown is over, the same form goes through and is charged.
    now = new Date('2026-03-10T12:00:30Z');
    slack.uploadFlow().method('chat.postEphemeral');
    expect(await aliceSubmits('a lighthouse, in ink')).toBeUndefined();
    await slack.until(() => slack.callsTo('files.completeUploadExternal').length === 2);
    expect(model.calls).toHaveLength(2);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(2);
  });

  it('a channel outside SLACK_ALLOWED_CHANNELS is refused privately, naming where the app works', async () => {
    const transport = await transports[mode]({ SLACK_ALLOWED_CHANNELS: 'C0009ART,C0010MORE' });
    current = transport;
    expect(await transport.command(slashCommand({ text: 'a lighthouse' }))).toEqual({
      response_type: 'ephemeral',
      text: 'I make images only in these channels: <#C0009ART>, <#C0010MORE>. Try the command in one of them.',
    });
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(0);
    const slack = new SlackStandIn().uploadFlow().responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse', channel_id: 'C0009ART' }));
    await slack.until(() => slack.responses.length === 1);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(0);
    expect(channelId).not.toBe('C0009ART');
  });

  it('SLACK_USERGROUP_PLANS: a member of a mapped group gets its plan, read once with usergroups.users.list', async () => {
    const transport = await transports[mode]({ SLACK_USERGROUP_PLANS: 'S0001ARTISTS=pro' });
    current = transport;
    const slack = new SlackStandIn()
      .method('usergroups.users.list', { ok: true, users: [alice, 'U0009OTHER'] })
      .uploadFlow()
      .responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse' }));
    await slack.until(() => slack.responses.length === 1);
    expect(slack.responses[0]?.body.text).toBe('✅ Posted. You have 199 of 200 images left this month.');
    expect(slack.callsTo('usergroups.users.list').map((call) => call.args.usergroup)).toEqual([
      'S0001ARTISTS',
    ]);

    // The membership is cached: /imagine-usage asks Slack nothing more.
    const usage = (await transport.command(slashCommand({ command: '/imagine-usage', text: '' }))) as {
      text: string;
    };
    expect(usage.text).toContain(
      '*Plan:* pro (from your <!subteam^S0001ARTISTS> user group in this workspace)',
    );
    const bobUsage = (await transport.command(
      slashCommand({ command: '/imagine-usage', text: '', user_id: bob }),
    )) as { text: string };
    expect(bobUsage.text).toContain('*Plan:* guest (the allowance for Slack users without a linked account)');
    expect(slack.callsTo('usergroups.users.list')).toHaveLength(1);
  });

  /** A choice in one of the App Home's settings menus (block_actions with a static_select). */
  function settingsChoice(setting: string, value: string) {
    const payload = buttonPress({ actionId: `settings_${setting}`, value: '' }, { user: alice });
    const [action] = payload.actions as Record<string, unknown>[];
    payload.actions = [
      {
        ...action,
        type: 'static_select',
        action_id: `settings_${setting}`,
        selected_option: { text: { type: 'plain_text', text: value }, value },
      },
    ];
    delete payload.channel;
    delete payload.message;
    payload.container = { type: 'view', view_id: 'V0001HOME' };
    return payload;
  }

  it('App Home settings: a saved style and aspect ratio apply to /imagine; private results go to a DM', async () => {
    const transport = await transports[mode]();
    current = transport;
    const slack = new SlackStandIn().method('views.publish', fixture('views-publish.json'), 3);
    await transport.event(appHomeOpened(alice));
    await slack.until(() => slack.callsTo('views.publish').length === 1);
    const home = blockText(JSON.parse(slack.callsTo('views.publish')[0]?.args.view ?? '{}').blocks);
    for (const id of [
      'settings_style',
      'settings_aspectRatio',
      'settings_model',
      'settings_enhance',
      'settings_private',
      'settings_reset',
    ]) {
      expect(home).toContain(`"action_id":"${id}"`);
    }
    await transport.action(settingsChoice('style', 'watercolor'));
    await transport.action(settingsChoice('aspectRatio', '16:9'));
    await slack.until(() => slack.callsTo('views.publish').length === 3);
    expect(transport.services.chatImages.settings.get(aliceIdentity)).toEqual({
      style: 'watercolor',
      aspectRatio: '16:9',
    });
    // The Home shows the choice.
    expect(blockText(JSON.parse(slack.callsTo('views.publish')[2]?.args.view ?? '{}').blocks)).toContain(
      '"initial_option":{"text":{"type":"plain_text","text":"16:9"},"value":"16:9"}',
    );

    slack.uploadFlow().responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse' }));
    await slack.until(() => slack.responses.length === 1);
    const posted = blockText(SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[0]));
    expect(posted).toContain('watercolor painting');
    expect(posted).toContain('1360×768');

    // Private results: the image goes to the person's DM, never the channel.
    slack.method('views.publish', fixture('views-publish.json'));
    await transport.action(settingsChoice('private', 'on'));
    await slack.until(() => slack.callsTo('views.publish').length === 4);
    slack.method('conversations.open', fixture('conversations-open.json')).uploadFlow().responseUrls();
    await transport.command(slashCommand({ text: 'a secret lighthouse' }));
    await slack.until(() => slack.responses.length === 2);
    expect(slack.callsTo('files.completeUploadExternal').map((call) => call.args.channel_id)).toEqual([
      channelId,
      'D0001ALICE',
    ]);
    expect(String(slack.responses[1]?.body.text)).toContain('Sent to you privately in a direct message');
  });

  it('/imagine-admin: every action for SLACK_ADMIN_USERS, audited; refused for anyone else', async () => {
    const transport = await transports[mode]({ SLACK_ADMIN_USERS: alice, GUEST_MONTHLY_IMAGES: '1' });
    current = transport;
    const admin = async (text: string, user = alice) =>
      (
        (await transport.command(slashCommand({ command: '/imagine-admin', text, user_id: user }))) as {
          text: string;
        }
      ).text;
    // Bob is no workspace admin either (users.info says so, once: it is cached).
    const lookups = new SlackStandIn().method('users.info', {
      ok: true,
      user: { id: bob, is_admin: false, is_owner: false },
    });
    expect(await admin('usage', bob)).toMatch(/^Only workspace admins and the users in SLACK_ADMIN_USERS/);
    expect(await admin('usage', bob)).toMatch(/^Only workspace admins/);
    expect(lookups.callsTo('users.info').map((call) => call.args.user)).toEqual([bob]);
    expect(await admin(`grant <@${bob}|bob> 2`)).toBe(
      `Granted <@${bob}> 2 extra images this month (2 extra in all).`,
    );
    expect((await transport.services.chatImages.usage(bobIdentity)).limit).toBe(3);

    const slack = new SlackStandIn().uploadFlow().responseUrls();
    await transport.command(slashCommand({ text: 'bob’s lighthouse', user_id: bob }));
    await slack.until(() => slack.responses.length === 1);
    const [record] = transport.services.records.listForUser(bobIdentity, {
      limit: 1,
      cursor: undefined,
    }).records;
    expect(await admin(`refund ${record?.id}`)).toBe(`Refunded one image to \`${bobIdentity}\`.`);
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(0);
    expect(await admin(`refund ${record?.id}`)).toBe('⚠️ That image was refunded already.');
    expect(await admin(`plan <@${bob}> pro`)).toBe(`<@${bob}> is now on the *pro* plan.`);
    expect(await admin(`plan <@${bob}> gold`)).toMatch(/^⚠️ unknown plan "gold"/);
    expect(await admin('usage')).toMatch(
      new RegExp(`^\\*This workspace, \\d{4}-\\d{2}:\\* 1 images\\n\\*Top users:\\*\\n1\\. <@${bob}>: 1$`),
    );
    expect(await admin(`block <@${bob}>`)).toBe(`<@${bob}> can no longer make images.`);
    expect(await transport.command(slashCommand({ text: 'another', user_id: bob }))).toMatchObject({
      text: expect.stringMatching(/^An admin has blocked you/),
    });
    expect(await admin(`unblock <@${bob}>`)).toBe(`<@${bob}> can make images again.`);
    expect(await admin('block')).toBe('Name the person: `/imagine-admin block @someone`.');
    expect(transport.services.chatImages.admin.recentActions().map((action) => action.action)).toEqual([
      'unblock',
      'block',
      'usage',
      'plan',
      'refund',
      'grant',
    ]);
  });

  it('/imagine-admin is open to workspace admins (users.info) as well', async () => {
    const transport = await transports[mode]();
    current = transport;
    new SlackStandIn().method('users.info', {
      ok: true,
      user: { id: alice, is_admin: true, is_owner: false },
    });
    const answer = (await transport.command(
      slashCommand({ command: '/imagine-admin', text: `grant <@${bob}|bob> 1` }),
    )) as { text: string };
    expect(answer.text).toBe(`Granted <@${bob}> 1 extra images this month (1 extra in all).`);
  });
});
