/**
 * The Slack app end to end, in both modes: the same payloads delivered over HTTP (signed, to the running
 * server) and over Socket Mode (a local WebSocket server standing in for Slack) must be acknowledged the
 * same way and reach Slack's Web API the same way.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeChatAction } from '../../core/chat/action-ids.ts';
import { maximumPromptLength } from '../../core/generation/generation-request.ts';
import { ProviderCallError } from '../../core/providers/provider-error.ts';
import { allTasksPlaceholder } from '../../test-support/image-input-stand-ins.ts';
import { scriptedModel } from '../../test-support/test-services.ts';
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

const transports = {
  http: HttpTransport.start,
  socket: SocketTransport.start,
} as const;

let current: SlackTransport | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function start(mode: keyof typeof transports, ...args: Parameters<typeof HttpTransport.start>) {
  current = await transports[mode](...args);
  return current;
}

type Block = { type: string; [key: string]: unknown };

function buttons(blocks: Block[]): { text: string; actionId: string; value: string }[] {
  return blocks
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements as { text: { text: string }; action_id: string; value: string }[])
    .map((element) => ({ text: element.text.text, actionId: element.action_id, value: element.value }));
}

/** The button labelled `text`. */
function buttonNamed(blocks: Block[], text: string) {
  const found = buttons(blocks).find((button) => button.text === text);
  if (!found) throw new Error(`no button ${text}`);
  return found;
}

function blockText(blocks: Block[]): string {
  return JSON.stringify(blocks);
}

async function pngSize(bytes: Buffer) {
  const metadata = await sharp(bytes).metadata();
  return { format: metadata.format, width: metadata.width, height: metadata.height };
}

/** A single image for Alice in #general, fully delivered; returns the posted blocks. */
async function imagineOnce(transport: SlackTransport, slack: SlackStandIn, text = 'a lighthouse at dusk') {
  slack.uploadFlow().responseUrls();
  const ack = await transport.command(slashCommand({ text }));
  await slack.until(() => slack.responses.length === 1);
  return { ack, blocks: SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal').at(-1)) };
}

describe.each(['http', 'socket'] as const)('Slack app over %s', (mode) => {
  it('/imagine acknowledges with an ephemeral "working on it", uploads the PNG and posts it with its facts and buttons', async () => {
    const transport = await start(mode);
    const slack = new SlackStandIn();
    const { ack, blocks } = await imagineOnce(transport, slack, 'a lighthouse at dusk --seed 42');

    expect(ack).toEqual({ response_type: 'ephemeral', text: '⏳ Working on *a lighthouse at dusk*…' });

    const [urlRequest] = slack.callsTo('files.getUploadURLExternal');
    expect(urlRequest?.args.filename).toMatch(/^imagine-.+\.png$/);
    expect(Number(urlRequest?.args.length)).toBe(slack.uploads[0]?.length);
    expect(await pngSize(slack.uploads[0] as Buffer)).toEqual({ format: 'png', width: 1024, height: 1024 });

    const [share] = slack.callsTo('files.completeUploadExternal');
    expect(share?.args.channel_id).toBe(channelId);
    expect(JSON.parse(share?.args.files ?? '[]')).toEqual([
      { id: 'F07UPLOAD', title: 'a lighthouse at dusk' },
    ]);
    const text = blockText(blocks);
    expect(text).toContain('*a lighthouse at dusk*');
    expect(text).toContain(`Made for <@${alice}> · *placeholder* · seed 42 · 1024×1024`);
    expect(text).toContain('Prompt used: a lighthouse at dusk');
    const shown = buttons(blocks);
    expect(shown.map((button) => button.text)).toEqual([
      '🪄 Vary (Subtle)',
      '🔀 Vary (Strong)',
      '🔍 Upscale 2×',
      '🖌️ Remix',
      '🎲 Reroll',
      'ℹ️ Details',
    ]);
    const reroll = decodeChatAction(buttonNamed(blocks, '🎲 Reroll').value);
    expect(reroll).toMatchObject({ kind: 'reroll', owner: aliceIdentity });

    expect(slack.responses[0]?.body).toEqual({
      response_type: 'ephemeral',
      replace_original: true,
      text: '✅ Posted. You have 2 of 3 images left this month.',
    });
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);
  });

  it('tells a person where a command stands when their earlier images are still being made', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = sizedPngModel();
    const gated = {
      ...slow,
      generate: async (options: Parameters<typeof slow.generate>[0]) => {
        await gate;
        return slow.generate(options);
      },
    };
    const transport = await start(mode, { MAX_JOBS_PER_USER: '1' }, [gated]);
    const slack = new SlackStandIn().uploadFlow(2).responseUrls(3);
    await transport.command(slashCommand({ text: 'a first lighthouse' }));
    await transport.command(slashCommand({ text: 'a second lighthouse' }));
    await slack.until(() => slack.responses.length === 1);
    expect(slack.responses[0]?.body).toMatchObject({
      replace_original: true,
      text: expect.stringContaining('You are number 1 in the queue.'),
    });
    release();
    await slack.until(() => slack.responses.length === 3);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(2);
  });

  it("shows the model's progress in the working message, and nothing of it after the result", async () => {
    const painter = sizedPngModel();
    let slackRef: SlackStandIn | undefined;
    const reporting = {
      ...painter,
      generate: async (options: Parameters<typeof painter.generate>[0]) => {
        options.onProgress?.(0.4);
        // Hold the image until the progress edit has reached Slack, then report more just before the end.
        await slackRef?.until(() => (slackRef?.responses.length ?? 0) >= 1, 10_000);
        options.onProgress?.(0.9);
        return painter.generate(options);
      },
    };
    const transport = await start(mode, {}, [reporting]);
    const slack = new SlackStandIn().uploadFlow().responseUrls(2);
    slackRef = slack;
    await transport.command(slashCommand({ text: 'a lighthouse at dusk' }));
    await slack.until(() => slack.responses.length === 2, 10_000);
    expect(slack.responses[0]?.body).toMatchObject({
      replace_original: true,
      text: '⏳ Working on *a lighthouse at dusk*… 40%',
    });
    expect(slack.responses[1]?.body.text).toMatch(/^✅ Posted\./);
  });

  it('a retried delivery of the same command (same trigger) is acknowledged empty and neither generates nor charges again', async () => {
    const transport = await start(mode);
    const slack = new SlackStandIn().uploadFlow().responseUrls();
    const command = slashCommand({ text: 'a quiet harbour' });

    await transport.command(command);
    const retried = await transport.command(command, { retry: 1 });
    await slack.until(() => slack.responses.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(retried).toBeUndefined();
    expect(slack.uploads).toHaveLength(1);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);
  });

  it('/imagine-batch posts one grid with U1–U4 and V1–V4; U posts that image full size for free', async () => {
    const transport = await start(mode, { GUEST_MONTHLY_IMAGES: '10' });
    const slack = new SlackStandIn().uploadFlow().responseUrls();
    await transport.command(slashCommand({ command: '/imagine-batch', text: 'a castle on a hill --n 4' }));
    await slack.until(() => slack.responses.length === 1);

    expect(await pngSize(slack.uploads[0] as Buffer)).toEqual({ format: 'png', width: 1032, height: 1032 });
    const blocks = SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[0]);
    const shown = buttons(blocks);
    expect(shown.map((button) => button.text)).toEqual(['U1', 'U2', 'U3', 'U4', 'V1', 'V2', 'V3', 'V4']);
    expect(blockText(blocks)).toContain('4 images');
    expect(slack.responses[0]?.body.text).toBe('✅ Posted. You have 6 of 10 images left this month.');
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(4);

    const u2 = shown[1];
    const action = decodeChatAction(u2?.value ?? '');
    expect(action).toMatchObject({ kind: 'upscale', owner: aliceIdentity, index: 1 });
    slack.uploadFlow();
    const ack = await transport.action(buttonPress({ actionId: u2?.actionId ?? '', value: u2?.value ?? '' }));
    expect(ack).toBeUndefined();
    await slack.until(() => slack.uploads.length === 2);
    await slack.until(() => slack.callsTo('files.completeUploadExternal').length === 2);

    const record = await transport.services.chatImages.findInBatch(
      aliceIdentity,
      action?.kind === 'upscale' ? action.batchId : '',
      1,
    );
    const stored = Buffer.from(await transport.services.chatImages.read(record));
    expect(slack.uploads[1]?.equals(stored)).toBe(true);
    const posted = SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[1]);
    expect(blockText(posted)).toContain(`Image 2 of the batch, posted by <@${bob}>`);
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(0);
  });

  it('Reroll is charged to whoever presses it, and a redelivered press runs once', async () => {
    const transport = await start(mode);
    const slack = new SlackStandIn();
    const { blocks } = await imagineOnce(transport, slack);
    const reroll = buttonNamed(blocks, '🎲 Reroll');

    slack.uploadFlow().responseUrls();
    const press = buttonPress({ actionId: reroll?.actionId ?? '', value: reroll?.value ?? '' });
    await transport.action(press);
    await transport.action(press, { retry: 1 });
    await slack.until(() => slack.callsTo('files.completeUploadExternal').length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const posted = SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[1]);
    expect(blockText(posted)).toContain(`🎲 Reroll by <@${bob}>`);
    expect(slack.responses[1]?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(slack.responses[1]?.body.text)).toContain('Rerolling *a lighthouse at dusk*');
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(1);
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);
  });

  it('V makes a variation of one batch image (that image sent to the model), charged to the presser', async () => {
    const model = allTasksPlaceholder();
    const transport = await start(mode, {}, [model]);
    const slack = new SlackStandIn().uploadFlow().responseUrls();
    await transport.command(slashCommand({ command: '/imagine-batch', text: 'a castle on a hill --n 2' }));
    await slack.until(() => slack.responses.length === 1);
    const v2 = buttons(SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[0]))[3];
    expect(v2?.text).toBe('V2');
    const action = decodeChatAction(v2?.value ?? '');
    if (action?.kind !== 'variant') throw new Error('V2 is not a variant button');
    const second = await transport.services.chatImages.findInBatch(aliceIdentity, action.batchId, 1);
    const stored = Buffer.from(await transport.services.chatImages.read(second));
    const calls = model.calls.length;

    slack.uploadFlow().responseUrls();
    await transport.action(buttonPress({ actionId: v2?.actionId ?? '', value: v2?.value ?? '' }));
    await slack.until(() => slack.callsTo('files.completeUploadExternal').length === 2);
    expect(model.calls[calls]).toMatchObject({ task: 'image_to_image', strength: 0.75 });
    expect(Buffer.from(model.calls[calls]?.inputImages?.[0]?.bytes ?? []).equals(stored)).toBe(true);

    expect(blockText(SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[1]))).toContain(
      `Variation of image 2 by <@${bob}>`,
    );
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(1);
  });

  it.each([
    [
      '🪄 Vary (Subtle)',
      { task: 'image_to_image', strength: 0.35 },
      'Subtle variation',
      'A variation of image',
    ],
    [
      '🔀 Vary (Strong)',
      { task: 'image_to_image', strength: 0.75 },
      'Strong variation',
      'A variation of image',
    ],
    ['🔍 Upscale 2×', { task: 'upscale', upscaleFactor: 2 }, 'Upscale 2×', 'An upscale of image'],
  ] as const)(
    '%s sends the stored image to the model, charged to the presser, with its lineage',
    async (label, expected, lead, lineage) => {
      const model = allTasksPlaceholder();
      const transport = await start(mode, {}, [model]);
      const slack = new SlackStandIn();
      const { blocks } = await imagineOnce(transport, slack);
      const record = (
        await transport.services.records.listForUser(aliceIdentity, { limit: 1, cursor: undefined })
      ).records[0];
      if (!record) throw new Error('no source image');
      const stored = Buffer.from(await transport.services.chatImages.read(record));

      slack.uploadFlow().responseUrls();
      const pressed = buttonNamed(blocks, label);
      await transport.action(buttonPress({ actionId: pressed.actionId, value: pressed.value }));
      await slack.until(() => slack.callsTo('files.completeUploadExternal').length === 2);

      const call = model.calls[1];
      expect(call).toMatchObject(expected);
      expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(stored)).toBe(true);
      const posted = SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[1]);
      expect(blockText(posted)).toContain(`${lead} by <@${bob}>`);
      if (expected.task === 'upscale') {
        expect(await pngSize(slack.uploads[1] as Buffer)).toMatchObject({
          width: record.width * 2,
          height: record.height * 2,
        });
      }
      expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(1);
      expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);

      slack.responseUrls();
      const details = buttonNamed(posted, 'ℹ️ Details');
      await transport.action(buttonPress({ actionId: details.actionId, value: details.value }));
      await slack.until(() => slack.responses.length === 3);
      const reply = slack.responses[2]?.body as { blocks: Block[] };
      expect(blockText(reply.blocks)).toContain(`*Made from*\\n${lineage} ${record.id}`);
    },
  );

  it('Remix opens a form with the prompt; submitting it sends the image and the edited prompt', async () => {
    const model = allTasksPlaceholder();
    const transport = await start(mode, {}, [model]);
    const slack = new SlackStandIn();
    const { blocks } = await imagineOnce(transport, slack);
    const record = (
      await transport.services.records.listForUser(aliceIdentity, { limit: 1, cursor: undefined })
    ).records[0];
    if (!record) throw new Error('no source image');
    const stored = Buffer.from(await transport.services.chatImages.read(record));

    slack.method('views.open');
    const remix = buttonNamed(blocks, '🖌️ Remix');
    const press = buttonPress({ actionId: remix.actionId, value: remix.value });
    await transport.action(press);
    await slack.until(() => slack.callsTo('views.open').length === 1);
    const opened = slack.callsTo('views.open')[0]?.args;
    expect(opened?.trigger_id).toBe(press.trigger_id);
    const view = JSON.parse(opened?.view ?? '{}');
    expect(view.blocks[0].element).toMatchObject({
      initial_value: 'a lighthouse at dusk',
      max_length: maximumPromptLength,
    });
    expect(model.calls).toHaveLength(1);

    slack.uploadFlow().method('chat.postEphemeral');
    await transport.action({
      type: 'view_submission',
      team: { id: teamId, domain: 'example' },
      user: { id: bob, team_id: teamId, name: 'bob' },
      api_app_id: press.api_app_id,
      token: press.token,
      trigger_id: '1000000000003.1000000000.remix',
      view: {
        id: 'V0001REMIX',
        type: 'modal',
        team_id: teamId,
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: {
          values: { prompt: { prompt: { type: 'plain_text_input', value: 'a lighthouse, in ink' } } },
        },
      },
    });
    await slack.until(() => slack.callsTo('files.completeUploadExternal').length === 2);
    const call = model.calls[1];
    expect(call).toMatchObject({ task: 'image_to_image', strength: 0.75 });
    expect(call?.prompt).toContain('a lighthouse, in ink');
    expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(stored)).toBe(true);
    const posted = SlackStandIn.blocks(slack.callsTo('files.completeUploadExternal')[1]);
    expect(blockText(posted)).toContain(`Remix by <@${bob}>`);
    expect(slack.callsTo('chat.postEphemeral')[0]?.args).toMatchObject({ channel: channelId, user: bob });
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(1);
    const made = (await transport.services.records.listForUser(bobIdentity, { limit: 1, cursor: undefined }))
      .records[0];
    expect(made).toMatchObject({ parentId: record.id, kind: 'remix' });
  });

  it('Details answers only the presser, with everything needed to make the image again', async () => {
    const transport = await start(mode);
    const slack = new SlackStandIn();
    const { blocks } = await imagineOnce(transport, slack, 'a red fox --seed 7 --ar 16:9');
    const details = buttonNamed(blocks, 'ℹ️ Details');

    slack.responseUrls();
    await transport.action(buttonPress({ actionId: details?.actionId ?? '', value: details?.value ?? '' }));
    await slack.until(() => slack.responses.length === 2);

    const reply = slack.responses[1]?.body as { response_type: string; blocks: Block[] };
    expect(reply.response_type).toBe('ephemeral');
    expect(blockText(reply.blocks)).toContain('/imagine a red fox --ar 16:9 --seed 7 --model placeholder');
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(0);
  });

  it('/imagine-usage answers with plan, usage, reset date and link status', async () => {
    const transport = await start(mode);
    const ack = await transport.command(slashCommand({ command: '/imagine-usage', text: '' }));
    expect(ack).toMatchObject({ response_type: 'ephemeral' });
    const text = String((ack as { text: string }).text);
    expect(text).toContain('*Plan:* guest');
    expect(text).toMatch(/0 of 3 images used, 3 left\. Resets on [A-Z][a-z]+ 1\./);
    expect(text).toContain('not linked');
  });

  it('/imagine-link redeems a code from the REST API, and the identity then draws on that account', async () => {
    const transport = await start(mode);
    await transport.services.accounts.setPlan('app-user-1', 'pro');
    const { code } = await transport.services.linkCodes.create('app-user-1');

    const ack = await transport.command(
      slashCommand({ command: '/imagine-link', text: ` ${code.toLowerCase()} ` }),
    );
    expect(ack).toEqual({
      response_type: 'ephemeral',
      text: '✅ Linked to app account `app-user-1` (pro plan): 200 of 200 images left this month.',
    });
    expect(await transport.services.chatImages.caller(aliceIdentity)).toMatchObject({
      userId: 'app-user-1',
      linked: true,
    });

    const again = await transport.command(slashCommand({ command: '/imagine-link', text: code }));
    expect(again).toMatchObject({ text: expect.stringContaining('That link code is not valid') });
  });

  it('opening the App Home publishes plan, usage, link status and recent images', async () => {
    const transport = await start(mode);
    const slack = new SlackStandIn();
    await imagineOnce(transport, slack, 'a paper boat');
    slack.method('views.publish', fixture('views-publish.json'));

    await transport.event(appHomeOpened(alice));
    await slack.until(() => slack.callsTo('views.publish').length === 1);

    const [publish] = slack.callsTo('views.publish');
    expect(publish?.args.user_id).toBe(alice);
    const view = JSON.parse(publish?.args.view ?? '{}') as { type: string; blocks: Block[] };
    expect(view.type).toBe('home');
    const text = blockText(view.blocks);
    expect(text).toContain('*Plan:* guest');
    expect(text).toContain('1 of 3 images used');
    expect(text).toContain('not linked');
    expect(text).toContain('*a paper boat*');
  });

  describe('errors reach the person as an ephemeral message that replaces "working on it"', () => {
    const failing = scriptedModel(() => {
      throw new ProviderCallError('unavailable', 'scripted outage', {
        provider: 'test',
        retryAfterSeconds: 30,
      });
    }, 'flux-dev');
    const environment = { BLOCKED_TERMS: 'forbidden', GUEST_MONTHLY_IMAGES: '2' };

    it.each([
      [
        'quota reached',
        'a lighthouse',
        /used all your images for this month \(2\/2\)\. Your quota resets on [A-Z][a-z]+ 1\..*\/imagine-link/,
      ],
      [
        'model not allowed',
        'a lighthouse --model dall-e-3',
        /Your guest plan does not include the dall-e-3 model/,
      ],
      ['content policy', 'a forbidden thing', /content policy.*You were not charged/],
      [
        'provider down',
        'a lighthouse --model flux-dev',
        /provider is not available right now\. Try again in 30 s\. You were not charged/,
      ],
      ['bad flags', 'a lighthouse --ar 5:7', /--ar must be one of/],
      ['no prompt before the flags', '--ar 16:9', /Write a prompt before the flags/],
    ])('%s', async (problem, text, expected) => {
      const transport = await start(mode, environment, [sizedPngModel(), failing]);
      if (problem === 'quota reached') {
        const { ledger } = transport.services;
        const hold = await ledger.reserve({
          userId: aliceIdentity,
          userLimit: 2,
          scope: undefined,
          images: 2,
          estimatedUsd: 0,
          budgetUsd: undefined,
        });
        await ledger.commit(hold.id, { images: 2, costUsd: 0 });
      }
      const slack = new SlackStandIn().responseUrls();
      const ack = await transport.command(slashCommand({ text }));
      expect(ack).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Working on') });
      await slack.until(() => slack.responses.length === 1);

      expect(slack.responses[0]?.body).toMatchObject({ response_type: 'ephemeral', replace_original: true });
      expect(String(slack.responses[0]?.body.text)).toMatch(expected);
      expect(slack.uploads).toHaveLength(0);
    });
  });
});

describe('Slack app delivery choices', () => {
  it('an empty /imagine gets its usage, and nothing is generated', async () => {
    const transport = await start('http');
    const ack = await transport.command(slashCommand({ text: '  ' }));
    expect(ack).toEqual({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Usage: `\/imagine <prompt>/),
    });
  });

  it('where the app may not post, the image goes to the person as a direct message', async () => {
    const transport = await start('http');
    const slack = new SlackStandIn()
      .uploadFlow(1, fixture('error-not-in-channel.json'))
      .method('conversations.open', fixture('conversations-open.json'))
      .uploadFlow()
      .responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse', channel_id: 'C0009PRIVATE' }));
    await slack.until(() => slack.responses.length === 1);

    expect(slack.callsTo('conversations.open')[0]?.args.users).toBe(alice);
    expect(slack.callsTo('files.completeUploadExternal').map((call) => call.args.channel_id)).toEqual([
      'C0009PRIVATE',
      'D0001ALICE',
    ]);
    expect(String(slack.responses[0]?.body.text)).toContain('sent it to you in a direct message');
  });

  it('when Slack refuses the upload, the person learns the image was made and counted, not "try again"', async () => {
    const transport = await start('http');
    const slack = new SlackStandIn()
      .method('files.getUploadURLExternal', { ok: false, error: 'missing_scope', needed: 'files:write' })
      .responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse' }));
    await slack.until(() => slack.responses.length === 1);

    expect(String(slack.responses[0]?.body.text)).toContain(
      'Your image was made, but Slack did not accept it (`missing_scope`). It still counts toward your quota',
    );
    expect((await transport.services.chatImages.usage(aliceIdentity)).used).toBe(1);
  });

  it('when images are served publicly, the result is one message with an image block and no upload', async () => {
    const transport = await start('http', { PUBLIC_BASE_URL: 'https://imagine.example.com' });
    const slack = new SlackStandIn()
      .method('chat.postMessage', fixture('chat-post-message.json'))
      .responseUrls();
    await transport.command(slashCommand({ text: 'a lighthouse' }));
    await slack.until(() => slack.responses.length === 1);

    const [post] = slack.callsTo('chat.postMessage');
    expect(post?.args.channel).toBe(channelId);
    const image = SlackStandIn.blocks(post).find((block) => block.type === 'image');
    expect(image?.image_url).toMatch(/^https:\/\/imagine\.example\.com\/images\/.+\.png$/);
    expect(slack.uploads).toHaveLength(0);
  });

  it("a workspace's monthly cap is worded for Slack", async () => {
    const transport = await start('http', { SLACK_WORKSPACE_MONTHLY_IMAGES: '1' });
    const slack = new SlackStandIn();
    await imagineOnce(transport, slack);
    slack.responseUrls();
    await transport.command(slashCommand({ text: 'another one', user_id: bob }));
    await slack.until(() => slack.responses.length === 2);
    expect(String(slack.responses[1]?.body.text)).toMatch(/This workspace has used all 1 of its images/);
    expect((await transport.services.chatImages.usage(bobIdentity)).used).toBe(0);
  });

  it('a button whose value is not ours says so instead of failing silently', async () => {
    const transport = await start('http');
    const slack = new SlackStandIn().responseUrls();
    await transport.action(buttonPress({ actionId: 'imagine_reroll', value: 'imagine|r|' }));
    await slack.until(() => slack.responses.length === 1);
    expect(slack.responses[0]?.body.text).toBe('⚠️ This button no longer works.');
    expect(teamId).toBe('T0001TEAM');
  });
});
