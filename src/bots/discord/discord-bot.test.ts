import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InteractionResponseType, MessageFlags } from 'discord.js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeChatAction } from '../../core/chat/action-ids.ts';
import { ProviderCallError } from '../../core/providers/provider-error.ts';
import type { ServiceOverrides } from '../../services.ts';
import { onePng, scriptedModel } from '../../test-support/test-services.ts';
import {
  type Actor,
  autocomplete,
  buttonPress,
  buttonsOf,
  type CapturedRequest,
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
/** The buttons under every single image, in order. */
const singleImageButtons = [
  'Vary (Subtle)',
  'Vary (Strong)',
  'Upscale 2×',
  'Remix',
  'Reroll',
  'Details',
  'Delete',
];
const ben = `discord:${ids.ben}`;

/** The buttons of a message with their custom ids decoded. */
function actionsOf(request: CapturedRequest) {
  return buttonsOf(request.json)
    .filter((button) => 'custom_id' in button)
    .map((button) => ({
      label: 'label' in button ? button.label : undefined,
      action: decodeChatAction('custom_id' in button ? button.custom_id : ''),
    }));
}

describe.each(transports)('Discord bot over %s', (_transport, start) => {
  async function harness(environment: Record<string, string> = {}, overrides: ServiceOverrides = {}) {
    current = await start(environment, overrides);
    return current;
  }

  /** Runs /imagine (or /imagine-batch) to the finished message and returns every step. */
  async function generate(
    testHarness: TransportHarness,
    command: 'imagine' | 'imagine-batch',
    options: Record<string, string | number | boolean>,
    actor: Actor = {},
  ) {
    const interaction = slashCommand(command, options, actor);
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const final = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const first = await testHarness.send(interaction);
    return { interaction, first, progress: await progress, final: await final };
  }

  /** A command that fails after the public defer: the reply is deleted and the error told privately. */
  async function generateAndFail(
    testHarness: TransportHarness,
    options: Record<string, string | number | boolean>,
    actor: Actor = {},
  ): Promise<string> {
    const interaction = slashCommand('imagine', options, actor);
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const removed = testHarness.api.expect('DELETE', webhook.original(interaction.token));
    const told = testHarness.api.expect('POST', webhook.followUp(interaction.token));
    expect(await testHarness.send(interaction)).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
    });
    await progress;
    await removed;
    const followUp = await told;
    expect(followUp.json.flags).toBe(MessageFlags.Ephemeral);
    return followUp.json.content as string;
  }

  it('/imagine defers publicly, shows progress, then posts the PNG with its embed and buttons', async () => {
    const testHarness = await harness();
    const { first, progress, final } = await generate(testHarness, 'imagine', {
      prompt: 'a red fox in the snow',
      style: 'watercolor',
      seed: 42,
    });
    expect(first).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    expect(progress.json.content).toBe(`🎨 Generating **a red fox in the snow** for <@${ids.ada}>…`);

    expect(final.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(final.files).toHaveLength(1);
    const [file] = final.files;
    expect(file?.contentType).toBe('image/png');
    expect(await sharp(file?.bytes).metadata()).toMatchObject({ format: 'png', width: 1024, height: 1024 });
    expect(final.json.attachments).toEqual([{ id: 0, filename: file?.filename }]);
    expect(embedOf(final).image).toEqual({ url: `attachment://${file?.filename}` });
    expect(embedOf(final).description).toMatch(
      /^\*\*Prompt used:\*\* a red fox in the snow, watercolor painting/,
    );
    expect(final.json.content).toBe(`**a red fox in the snow** · <@${ids.ada}>`);
    expect(final.json.allowed_mentions).toEqual({ parse: [] });
    expect(fieldsOf(final)).toMatchObject({
      Model: 'placeholder',
      Seed: '42',
      Size: '1024×1024',
      'Images left': '2 of 3 this month',
    });
    expect(fieldsOf(final).Time).toMatch(/^\d+(\.\d)? s$/);

    const buttons = actionsOf(final);
    expect(buttons.map((button) => button.label)).toEqual(singleImageButtons);
    const record = (await testHarness.services.records.listForUser(ada, { limit: 5, cursor: undefined }))
      .records[0];
    expect(record).toBeDefined();
    for (const button of buttons) {
      expect(button.action).toMatchObject({ owner: ada, generationId: record?.id });
    }
    expect(buttons.map((button) => button.action?.kind)).toEqual([
      'vary-subtle',
      'vary',
      'enlarge',
      'remix',
      'reroll',
      'details',
      'delete',
    ]);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });

  it("edits the reply with the model's progress, and never after the result", async () => {
    let progressSeen: Promise<CapturedRequest> | undefined;
    const reporting = scriptedModel(async (options) => {
      options.onProgress?.(0.4);
      // Hold the image until the progress edit has reached Discord, then report more just before the end.
      await progressSeen;
      options.onProgress?.(0.9);
      return onePng();
    });
    const testHarness = await harness({}, { models: [reporting] });
    const interaction = slashCommand('imagine', { prompt: 'a red fox in the snow' });
    const working = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    progressSeen = testHarness.api.expect('PATCH', webhook.original(interaction.token), {}, 10_000);
    const final = testHarness.api.expect('PATCH', webhook.original(interaction.token), {}, 10_000);
    await testHarness.send(interaction);
    expect((await working).json.content).toBe(`🎨 Generating **a red fox in the snow** for <@${ids.ada}>…`);
    expect((await progressSeen).json.content).toBe(
      `🎨 Generating **a red fox in the snow** for <@${ids.ada}>… 40%`,
    );
    expect((await final).files).toHaveLength(1);
  });

  it('reads Midjourney-style flags typed in the prompt', async () => {
    const testHarness = await harness();
    const { final } = await generate(testHarness, 'imagine', {
      prompt: 'a lighthouse --ar 16:9 --seed 7 --raw',
    });
    expect(await sharp(final.files[0]?.bytes).metadata()).toMatchObject({ width: 1360, height: 768 });
    expect(fieldsOf(final)).toMatchObject({ Seed: '7', Size: '1360×768' });
    expect(embedOf(final).description).toBe('**Prompt used:** a lighthouse');
  });

  it('/imagine-batch posts one grid with U1–U2 and V1–V2 naming the stored batch', async () => {
    const testHarness = await harness();
    const { first, final } = await generate(testHarness, 'imagine-batch', { prompt: 'two owls', count: 2 });
    expect(first).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    expect(final.files).toHaveLength(1);
    expect(await sharp(final.files[0]?.bytes).metadata()).toMatchObject({
      format: 'png',
      width: 1032,
      height: 512,
    });
    const buttons = actionsOf(final);
    expect(buttons.map((button) => button.label)).toEqual(['U1', 'U2', 'V1', 'V2', 'Delete']);
    const records = (await testHarness.services.records.listForUser(ada, { limit: 5, cursor: undefined }))
      .records;
    const batchId = records[0]?.batchId;
    expect(batchId).toBeDefined();
    expect(buttons[0]?.action).toEqual({ kind: 'upscale', owner: ada, batchId, index: 0 });
    expect(buttons[3]?.action).toEqual({ kind: 'variant', owner: ada, batchId, index: 1 });
    expect(fieldsOf(final)['Images left']).toBe('1 of 3 this month');
    expect(final.json.content).toBe(`**two owls** · <@${ids.ada}> · 2 images`);
  });

  it('Reroll charges whoever pressed it and posts a new message with their own buttons', async () => {
    const testHarness = await harness();
    const made = await generate(testHarness, 'imagine', { prompt: 'a red fox' });
    const reroll = actionsOf(made.final).find((button) => button.label === 'Reroll');
    const press = buttonPress(customIdOf(made.final.json, 'Reroll'), { userId: ids.ben });
    expect(reroll?.action?.kind).toBe('reroll');
    const progress = testHarness.api.expect('PATCH', webhook.original(press.token));
    const final = testHarness.api.expect('PATCH', webhook.original(press.token));
    expect(await testHarness.send(press)).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
    });
    expect((await progress).json.content).toBe(`🎨 Generating **a red fox** for <@${ids.ben}>…`);
    const posted = await final;
    expect(await sharp(posted.files[0]?.bytes).metadata()).toMatchObject({ width: 1024, height: 1024 });
    expect(actionsOf(posted).find((button) => button.label === 'Reroll')?.action).toMatchObject({
      kind: 'reroll',
      owner: ben,
    });
    expect(fieldsOf(posted)['Images left']).toBe('2 of 3 this month');
    expect((await testHarness.services.chatImages.usage(ben)).used).toBe(1);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });

  it('a double-clicked button makes one image', async () => {
    const testHarness = await harness();
    const made = await generate(testHarness, 'imagine', { prompt: 'a red fox' });
    const customId = customIdOf(made.final.json, 'Vary (Strong)');
    const firstClick = buttonPress(customId, { userId: ids.ben });
    const secondClick = buttonPress(customId, { userId: ids.ben });
    const progress = testHarness.api.expect('PATCH', webhook.original(firstClick.token));
    const final = testHarness.api.expect('PATCH', webhook.original(firstClick.token));
    expect((await testHarness.send(firstClick)).type).toBe(
      InteractionResponseType.DeferredChannelMessageWithSource,
    );
    const second = await testHarness.send(secondClick);
    expect(second).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: {
        flags: MessageFlags.Ephemeral,
        content: 'That button was just pressed; the image is on its way.',
      },
    });
    await progress;
    await final;
    expect((await testHarness.services.chatImages.usage(ben)).used).toBe(1);
  });

  it('U1 posts the stored image full size for free; V1 makes a charged variation', async () => {
    const testHarness = await harness();
    const made = await generate(testHarness, 'imagine-batch', { prompt: 'two owls', count: 2 });
    const u1 = customIdOf(made.final.json, 'U1');
    const v1 = customIdOf(made.final.json, 'V1');
    const upscale = buttonPress(u1, { userId: ids.ben });
    const posted = testHarness.api.expect('PATCH', webhook.original(upscale.token));
    expect(await testHarness.send(upscale)).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
    });
    const full = await posted;
    expect(await sharp(full.files[0]?.bytes).metadata()).toMatchObject({
      format: 'png',
      width: 1024,
      height: 1024,
    });
    expect(actionsOf(full).map((button) => button.label)).toEqual(singleImageButtons);
    expect((await testHarness.services.chatImages.usage(ben)).used).toBe(0);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(2);

    const variant = buttonPress(v1, { userId: ids.ben });
    const progress = testHarness.api.expect('PATCH', webhook.original(variant.token));
    const final = testHarness.api.expect('PATCH', webhook.original(variant.token));
    await testHarness.send(variant);
    await progress;
    expect((await final).files).toHaveLength(1);
    expect((await testHarness.services.chatImages.usage(ben)).used).toBe(1);
  });

  it('Details answers privately with everything needed to make the image again', async () => {
    const testHarness = await harness();
    const made = await generate(testHarness, 'imagine', {
      prompt: 'a red fox',
      seed: 5,
      aspect_ratio: '3:2',
    });
    const details = actionsOf(made.final).find((button) => button.label === 'Details');
    const press = buttonPress(customIdOf(made.final.json, 'Details'));
    expect(details?.action?.kind).toBe('details');
    const answer = await testHarness.send(press);
    expect(answer.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    const data = (
      answer as { data: { flags: number; embeds: { fields: { name: string; value: string }[] }[] } }
    ).data;
    expect(data.flags).toBe(MessageFlags.Ephemeral);
    const fields = Object.fromEntries(data.embeds[0]?.fields.map((field) => [field.name, field.value]) ?? []);
    expect(fields).toMatchObject({ Prompt: 'a red fox', Model: 'placeholder', Seed: '5', Size: '1248×832' });
    expect(fields['Make it again']).toContain(
      '/imagine prompt:a red fox --ar 3:2 --seed 5 --model placeholder',
    );
  });

  it('Details keeps --ar for a ratio whose pixels were rounded (16:9 renders 1360×768)', async () => {
    const testHarness = await harness();
    const made = await generate(testHarness, 'imagine', {
      prompt: 'a wide bay',
      aspect_ratio: '16:9',
      seed: 5,
    });
    const answer = await testHarness.send(buttonPress(customIdOf(made.final.json, 'Details')));
    const fields = (answer as { data: { embeds: { fields: { name: string; value: string }[] }[] } }).data
      .embeds[0]?.fields;
    const field = (name: string) => fields?.find((candidate) => candidate.name === name)?.value;
    expect(field('Size')).toBe('1360×768');
    expect(field('Make it again')).toContain(
      '/imagine prompt:a wide bay --ar 16:9 --seed 5 --model placeholder',
    );
  });

  it('Delete works for the requester and for members who manage messages, and no one else', async () => {
    const testHarness = await harness();
    const made = await generate(testHarness, 'imagine', { prompt: 'a red fox' });
    const deleteId = customIdOf(made.final.json, 'Delete');

    const stranger = await testHarness.send(buttonPress(deleteId, { userId: ids.ben }));
    expect(stranger).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral, content: expect.stringMatching(/^Only the person who asked/) },
    });

    const byRequester = buttonPress(deleteId, { userId: ids.ada });
    const removed = testHarness.api.expect('DELETE', webhook.original(byRequester.token));
    expect(await testHarness.send(byRequester)).toEqual({
      type: InteractionResponseType.DeferredMessageUpdate,
    });
    await removed;

    const byModerator = buttonPress(deleteId, { userId: ids.ben, permissions: String(1n << 13n) });
    const removedByModerator = testHarness.api.expect('DELETE', webhook.original(byModerator.token));
    expect(await testHarness.send(byModerator)).toEqual({
      type: InteractionResponseType.DeferredMessageUpdate,
    });
    await removedByModerator;
  });

  it('/usage answers privately with plan, used/limit, reset date and link status (in a DM too)', async () => {
    const testHarness = await harness();
    const answer = await testHarness.send(slashCommand('usage', {}, { dm: true }));
    expect(answer).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    const description = (answer as { data: { embeds: { description: string }[] } }).data.embeds[0]
      ?.description;
    const resets = Math.floor((await testHarness.services.chatImages.usage(ada)).resetsAt.getTime() / 1000);
    expect(description).toBe(
      [
        '**Plan:** guest (the allowance for Discord users without a linked account)',
        '**This month:** 0 of 3 images used, 3 left',
        `**Resets:** <t:${resets}:D> (<t:${resets}:R>)`,
        '**Linked account:** none. Get a code in the app and run /link to use your plan here.',
      ].join('\n'),
    );
  });

  it('/link redeems an app link code so the Discord user draws on that plan; /unlink undoes it', async () => {
    const testHarness = await harness();
    await testHarness.services.accounts.setPlan('app-ada', 'pro');
    const { code } = await testHarness.services.linkCodes.create('app-ada');
    const linked = await testHarness.send(slashCommand('link', { code: code.toLowerCase() }));
    expect(linked).toEqual({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: {
        flags: MessageFlags.Ephemeral,
        content:
          'Linked to your app account `app-ada`. You now use its **pro** plan: 200 of 200 images left this month.',
      },
    });
    const usage = await testHarness.send(slashCommand('usage', {}));
    expect(JSON.stringify(usage)).toContain('**Linked account:** `app-ada`');

    const made = await generate(testHarness, 'imagine', { prompt: 'a linked fox' });
    expect(fieldsOf(made.final)['Images left']).toBe('199 of 200 this month');
    expect(actionsOf(made.final)[0]?.action).toMatchObject({ owner: 'app-ada' });

    const again = await testHarness.send(slashCommand('link', { code }));
    expect(again).toMatchObject({
      data: {
        flags: MessageFlags.Ephemeral,
        content: 'That link code is not valid: it may be mistyped, used already or expired',
      },
    });
    const unlinked = await testHarness.send(slashCommand('unlink', {}));
    expect(unlinked).toMatchObject({
      data: {
        content:
          'Unlinked. You are back to the allowance for Discord users: 3 of 3 images left this month on the guest plan.',
      },
    });
  });

  it('autocompletes styles and only the models the caller’s plan allows', async () => {
    const models = ['placeholder', 'flux-schnell', 'dall-e-3'].map((id) => scriptedModel(onePng, id));
    const testHarness = await harness({}, { models });
    const modelAnswer = await testHarness.send(
      autocomplete('imagine', { prompt: 'a fox' }, { name: 'model', value: '' }),
    );
    expect(modelAnswer.type).toBe(InteractionResponseType.ApplicationCommandAutocompleteResult);
    const modelChoices = (modelAnswer as { data: { choices: { name: string; value: string }[] } }).data
      .choices;
    expect(modelChoices.map((choice) => choice.value)).toEqual(['placeholder', 'flux-schnell']);
    expect(modelChoices[0]?.name).toMatch(/^placeholder \(default\) — /);

    const styleAnswer = await testHarness.send(
      autocomplete('imagine', { prompt: 'a fox' }, { name: 'style', value: 'oil p' }),
    );
    expect((styleAnswer as { data: { choices: unknown[] } }).data.choices).toEqual([
      { name: expect.stringMatching(/^Oil painting — /), value: 'oil_painting' },
    ]);
  });

  it('autocompletes models from MODELS_FILE by the same rules as GET /api/v1/models', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-discord-models-'));
    const file = path.join(folder, 'models.yaml');
    fs.writeFileSync(
      file,
      [
        'models:',
        '  - id: flux-schnell',
        '    plans: [pro, enterprise]',
        '  - id: team-flux',
        '    provider: replicate',
        '    vendor_model: black-forest-labs/flux-dev',
        '    description: The team GPU budget',
        '    price_usd: 0.025',
      ].join('\n'),
    );
    try {
      const models = ['placeholder', 'flux-schnell', 'team-flux'].map((id) => scriptedModel(onePng, id));
      const testHarness = await harness({ MODELS_FILE: file }, { models });
      const answer = await testHarness.send(
        autocomplete('imagine', { prompt: 'a fox' }, { name: 'model', value: 'team' }),
      );
      const choices = (answer as { data: { choices: { name: string; value: string }[] } }).data.choices;
      // A guest may not use flux-schnell any more; the file's own model is offered, found by its description.
      expect(choices).toEqual([{ name: 'team-flux — The team GPU budget', value: 'team-flux' }]);
      const all = await testHarness.send(
        autocomplete('imagine', { prompt: 'a fox' }, { name: 'model', value: '' }),
      );
      expect(
        (all as { data: { choices: { value: string }[] } }).data.choices.map((choice) => choice.value),
      ).toEqual(['placeholder', 'team-flux']);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  describe('errors are short, private, and never leave the public reply hanging', () => {
    it('an unknown flag is answered privately at once, naming it', async () => {
      const testHarness = await harness();
      const answer = await testHarness.send(slashCommand('imagine', { prompt: 'a fox --colour red' }));
      expect(answer).toMatchObject({
        type: InteractionResponseType.ChannelMessageWithSource,
        data: {
          flags: MessageFlags.Ephemeral,
          content: expect.stringMatching(/^--colour is not a flag; use --ar/),
        },
      });
      expect((await testHarness.services.chatImages.usage(ada)).used).toBe(0);
    });

    it('quota reached, with used/limit and the reset date', async () => {
      const testHarness = await harness({ GUEST_MONTHLY_IMAGES: '1' });
      await generate(testHarness, 'imagine', { prompt: 'the first fox' });
      const text = await generateAndFail(testHarness, { prompt: 'one fox too many' });
      expect(text).toMatch(
        /^You have used all your images for this month \(1\/1\)\. Your quota resets on [A-Z][a-z]+ 1\./,
      );
      expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
    });

    it('the server’s monthly cap', async () => {
      const testHarness = await harness({ DISCORD_SERVER_MONTHLY_IMAGES: '1' });
      await generate(testHarness, 'imagine', { prompt: 'the server fox' });
      const text = await generateAndFail(testHarness, { prompt: 'another fox' }, { userId: ids.ben });
      expect(text).toMatch(/^This server has used all 1 of its images for this month\./);
      expect((await testHarness.services.chatImages.usage(ben)).used).toBe(0);
    });

    it('a model the plan does not include', async () => {
      const testHarness = await harness();
      const text = await generateAndFail(testHarness, { prompt: 'a fox', model: 'dall-e-3' });
      expect(text).toBe(
        'Your guest plan does not include the dall-e-3 model. Leave out --model, or ask the operator about a plan that has it.',
      );
    });

    it('content policy', async () => {
      const testHarness = await harness({ BLOCKED_TERMS: 'forbidden' });
      const text = await generateAndFail(testHarness, { prompt: 'a forbidden castle' });
      expect(text).toBe(
        'That prompt cannot be generated here (content policy). Try rephrasing it. You were not charged.',
      );
    });

    it('provider down, with when to try again', async () => {
      const down = scriptedModel(() => {
        throw new ProviderCallError('unavailable', 'scripted outage', {
          provider: 'test',
          status: 503,
          retryAfterSeconds: 30,
        });
      });
      const testHarness = await harness({}, { models: [down] });
      const text = await generateAndFail(testHarness, { prompt: 'a fox' });
      expect(text).toBe(
        'The image provider is not available right now. Try again in 30 s. You were not charged.',
      );
      expect((await testHarness.services.chatImages.usage(ada)).used).toBe(0);
    });

    it('prompt too long', async () => {
      const testHarness = await harness();
      const text = await generateAndFail(testHarness, { prompt: 'a'.repeat(2001) });
      expect(text).toMatch(/prompt must be at most 2000 characters/);
    });

    it('allowed roles: others are told which role, members with it go ahead', async () => {
      const testHarness = await harness({ DISCORD_ALLOWED_ROLES: 'Artist' });
      // Over HTTP the bot asks Discord for the server's role names; the gateway has them from GUILD_CREATE.
      const roles =
        testHarness.transport === 'http'
          ? testHarness.api.expect('GET', `/guilds/${ids.guild}/roles`, { body: fixture('guild-roles.json') })
          : undefined;
      const refused = await testHarness.send(slashCommand('imagine', { prompt: 'a fox' }, { roles: [] }));
      expect(refused).toMatchObject({
        type: InteractionResponseType.ChannelMessageWithSource,
        data: {
          flags: MessageFlags.Ephemeral,
          content:
            'Only members with the **Artist** role can make images here. Ask a server admin if you think you should have it.',
        },
      });
      await generate(testHarness, 'imagine', { prompt: 'an artist fox' }, { roles: [ids.artistRole] });
      await roles;
      expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
      const inDm = await testHarness.send(slashCommand('imagine', { prompt: 'a dm fox' }, { dm: true }));
      expect(inDm).toMatchObject({
        data: {
          content: expect.stringMatching(
            /^Making images is limited to server members with the \*\*Artist\*\* role/,
          ),
        },
      });
    });
  });

  it('a job that waits in the user’s line says where it stands, then delivers', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowFirst = scriptedModel(async (_options, callNumber) => {
      if (callNumber === 1) await gate;
      return onePng();
    });
    const testHarness = await harness({ MAX_JOBS_PER_USER: '1' }, { models: [slowFirst] });
    const first = slashCommand('imagine', { prompt: 'the first fox' });
    const firstProgress = testHarness.api.expect('PATCH', webhook.original(first.token));
    const firstFinal = testHarness.api.expect('PATCH', webhook.original(first.token));
    await testHarness.send(first);
    await firstProgress;
    const second = slashCommand('imagine', { prompt: 'the second fox' });
    const secondProgress = testHarness.api.expect('PATCH', webhook.original(second.token));
    const secondFinal = testHarness.api.expect('PATCH', webhook.original(second.token));
    await testHarness.send(second);
    expect((await secondProgress).json.content).toBe(
      `🕒 Queued (position 1): **the second fox** for <@${ids.ada}>`,
    );
    release();
    expect((await firstFinal).files).toHaveLength(1);
    expect((await secondFinal).files).toHaveLength(1);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(2);
  });

  it('a batch where one image fails shows the one delivered and says the other was not counted', async () => {
    const flaky = scriptedModel((_options, callNumber) => {
      if (callNumber === 2)
        throw new ProviderCallError('rejected', 'scripted refusal', { provider: 'test', status: 400 });
      return onePng();
    });
    const testHarness = await harness({}, { models: [flaky] });
    const { final } = await generate(testHarness, 'imagine-batch', { prompt: 'two owls', count: 2 });
    expect(final.files).toHaveLength(1);
    expect(actionsOf(final).map((button) => button.label)).toEqual(singleImageButtons);
    expect(embedOf(final).footer?.text).toBe(
      '1 of 2 images could not be made; only the 1 delivered were counted.',
    );
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });

  it('an image over the channel’s upload limit is linked instead of attached', async () => {
    const testHarness = await harness();
    const { final } = await generate(
      testHarness,
      'imagine',
      { prompt: 'a big fox' },
      { attachmentSizeLimit: 1000 },
    );
    expect(final.headers['content-type']).toBe('application/json');
    expect(final.files).toEqual([]);
    expect(final.json.attachments).toEqual([]);
    expect(embedOf(final).title).toBe('The full-size image is too large to attach here');
  });

  it('an interaction delivered twice generates and charges once', async () => {
    const models = [scriptedModel(onePng)];
    const testHarness = await harness({}, { models });
    const { interaction } = await generate(testHarness, 'imagine', { prompt: 'a red fox' });
    const again = await testHarness.redeliver(interaction);
    if (testHarness.transport === 'http') {
      expect(again).toMatchObject({
        type: InteractionResponseType.ChannelMessageWithSource,
        data: { flags: MessageFlags.Ephemeral },
      });
    } else {
      expect(again).toBeUndefined();
    }
    expect(models[0]?.calls).toHaveLength(1);
    expect((await testHarness.services.chatImages.usage(ada)).used).toBe(1);
  });
});
