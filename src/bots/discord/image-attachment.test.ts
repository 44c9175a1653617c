/**
 * `/imagine image: strength:` over the HTTP transport: the attachment Discord resolves is fetched from its
 * CDN (stood in by nock) through the core's input-image checks, sent to the model as the init image with
 * the strength, and the result recorded as image-to-image. An attachment that cannot be used is refused
 * privately, with nothing charged.
 */
import {
  type APIInteraction,
  ApplicationCommandOptionType,
  InteractionResponseType,
  MessageFlags,
} from 'discord.js';
import nock from 'nock';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { allTasksPlaceholder } from '../../test-support/image-input-stand-ins.ts';
import { storedImageFiles } from '../../test-support/test-services.ts';
import { buttonPress, customIdOf, ids, slashCommand, webhook } from './test-support/discord-test-kit.ts';
import { type HttpHarness, startHttpHarness } from './test-support/transport-harness.ts';

let current: HttpHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const ada = `discord:${ids.ada}`;
const attachmentId = '1300000000000000200';
const cdn = 'https://cdn.discordapp.com';
const attachmentPath = `/ephemeral-attachments/1300000000000000050/${attachmentId}/fox.png`;
// Discord signs attachment links with these; they must never reach an error or a log.
const signedQuery =
  'ex=6751a2b3&is=67505133&hm=0f3c9d2e4b5a6c7d8e9f00112233445566778899aabbccddeeff001122334455';

async function start() {
  const model = allTasksPlaceholder();
  // The operator's allow-list names only their own host: Discord's CDN is allowed for attachments alone.
  current = await startHttpHarness(
    { INPUT_IMAGE_HOSTS: 'images.example.com', MAX_INPUT_IMAGE_BYTES: String(200 * 1024) },
    { models: [model] },
  );
  return { harness: current, model };
}

async function solidPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#aa3355' } })
    .png()
    .toBuffer();
}

/** `/imagine` with an attachment, as Discord delivers it: the option names the id, `resolved` the file. */
function imagineWithAttachment(
  attachment: { contentType: string; size: number; filename?: string },
  options: { prompt?: string; strength?: number } = {},
): APIInteraction {
  const interaction = slashCommand('imagine', { prompt: options.prompt ?? 'the same fox, in watercolour' });
  const data = interaction.data as unknown as Record<string, unknown> & { options: unknown[] };
  data.options.push({ name: 'image', type: ApplicationCommandOptionType.Attachment, value: attachmentId });
  if (options.strength !== undefined) {
    data.options.push({
      name: 'strength',
      type: ApplicationCommandOptionType.Number,
      value: options.strength,
    });
  }
  const filename = attachment.filename ?? 'fox.png';
  data.resolved = {
    attachments: {
      [attachmentId]: {
        id: attachmentId,
        filename,
        size: attachment.size,
        url: `${cdn}${attachmentPath}?${signedQuery}`,
        proxy_url: `https://media.discordapp.net${attachmentPath}?${signedQuery}`,
        content_type: attachment.contentType,
        width: 320,
        height: 240,
        ephemeral: true,
      },
    },
  };
  return interaction;
}

/** Nothing charged, held, recorded or stored. */
async function expectNothingKept(harness: HttpHarness) {
  expect((await harness.services.chatImages.usage(ada)).used).toBe(0);
  expect(harness.services.ledger.usage(ada, 5)).toMatchObject({ used: 0, reserved: 0 });
  expect(harness.services.records.listForUser(ada, { limit: 5, cursor: undefined }).records).toEqual([]);
  expect(storedImageFiles(harness.services)).toEqual([]);
}

/** The private refusal a command gets before anything is posted. */
async function privateRefusal(harness: HttpHarness, interaction: APIInteraction): Promise<string> {
  const answer = await harness.send(interaction);
  expect(answer).toMatchObject({
    type: InteractionResponseType.ChannelMessageWithSource,
    data: { flags: MessageFlags.Ephemeral },
  });
  return (answer as { data: { content: string } }).data.content;
}

describe('/imagine with an image attachment', () => {
  it('fetches the attachment from Discord’s CDN and sends it to the model with the strength', async () => {
    const { harness, model } = await start();
    const init = await solidPng(320, 240);
    // The bot token is for Discord's API only: the CDN is fetched without it.
    nock(cdn, { badheaders: ['authorization'] })
      .get(attachmentPath)
      .query(true)
      .reply(200, init, { 'content-type': 'image/png' });
    const interaction = imagineWithAttachment(
      { contentType: 'image/png', size: init.byteLength },
      { strength: 0.4 },
    );
    const progress = harness.api.expect('PATCH', webhook.original(interaction.token));
    const final = harness.api.expect('PATCH', webhook.original(interaction.token));
    expect((await harness.send(interaction)).type).toBe(
      InteractionResponseType.DeferredChannelMessageWithSource,
    );
    await progress;
    const posted = await final;

    expect(model.calls).toHaveLength(1);
    const call = model.calls[0];
    expect(call).toMatchObject({ task: 'image_to_image', strength: 0.4 });
    expect(call?.prompt).toContain('the same fox, in watercolour');
    expect(call?.inputImages?.[0]).toMatchObject({ mediaType: 'image/png', width: 320, height: 240 });
    expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(init)).toBe(true);
    expect(posted.files).toHaveLength(1);
    const record = harness.services.records.listForUser(ada, { limit: 1, cursor: undefined }).records[0];
    expect(record).toMatchObject({ kind: 'image_to_image', parentId: undefined });
    expect((await harness.services.chatImages.usage(ada)).used).toBe(1);
    // Details says where it came from.
    const details = await harness.send(buttonPress(customIdOf(posted.json, 'Details')));
    const fields = (details as { data: { embeds: { fields: { name: string; value: string }[] }[] } }).data
      .embeds[0]?.fields;
    expect(fields?.find((field) => field.name === 'Made from')?.value).toBe(
      'Redrawn from an image the requester gave',
    );
  });

  it('uses the default strength (0.65) when none is given', async () => {
    const { harness, model } = await start();
    const init = await solidPng(64, 64);
    nock(cdn).get(attachmentPath).query(true).reply(200, init, { 'content-type': 'image/png' });
    const interaction = imagineWithAttachment({ contentType: 'image/png', size: init.byteLength });
    const progress = harness.api.expect('PATCH', webhook.original(interaction.token));
    const final = harness.api.expect('PATCH', webhook.original(interaction.token));
    await harness.send(interaction);
    await progress;
    await final;
    expect(model.calls[0]).toMatchObject({ task: 'image_to_image', strength: 0.65 });
  });

  it.each([
    [
      'a text file',
      { contentType: 'text/plain; charset=utf-8', size: 120, filename: 'notes.txt' },
      /^That image is a text\/plain file, not a PNG, JPEG or WebP image\. You were not charged\.$/,
    ],
    [
      'a GIF',
      { contentType: 'image/gif', size: 4_000, filename: 'dance.gif' },
      /^That image is a GIF, not a PNG/,
    ],
    [
      'a file over MAX_INPUT_IMAGE_BYTES',
      { contentType: 'image/png', size: 5 * 1024 * 1024 },
      /^That image is 5 MB; the most this bot takes is 0\.2 MB\. You were not charged\.$/,
    ],
  ])('refuses %s privately before anything is posted or fetched', async (_name, attachment, message) => {
    const { harness, model } = await start();
    // No CDN interceptor: the network guard fails the test if the file were fetched.
    expect(await privateRefusal(harness, imagineWithAttachment(attachment))).toMatch(message);
    expect(model.calls).toHaveLength(0);
    await expectNothingKept(harness);
  });

  it('refuses a file that says it is a PNG but is not one, privately and at no charge', async () => {
    const { harness, model } = await start();
    nock(cdn).get(attachmentPath).query(true).reply(200, '<html>not an image</html>', {
      'content-type': 'image/png',
    });
    const interaction = imagineWithAttachment({ contentType: 'image/png', size: 25 });
    const progress = harness.api.expect('PATCH', webhook.original(interaction.token));
    const removed = harness.api.expect('DELETE', webhook.original(interaction.token));
    const told = harness.api.expect('POST', webhook.followUp(interaction.token));
    await harness.send(interaction);
    await progress;
    await removed;
    const notice = await told;
    expect(notice.json.content).toBe(
      'That image could not be used: Downloaded 25 bytes that are not a PNG, JPEG or WebP. You were not charged.',
    );
    expect(notice.json.flags).toBe(MessageFlags.Ephemeral);
    expect(notice.json.content).not.toContain(signedQuery);
    expect(model.calls).toHaveLength(0);
    await expectNothingKept(harness);
  });

  it('refuses a strength without an image', async () => {
    const { harness, model } = await start();
    const interaction = slashCommand('imagine', { prompt: 'a fox', strength: 0.5 });
    expect(await privateRefusal(harness, interaction)).toBe(
      'Strength only works with an image to start from.',
    );
    expect(model.calls).toHaveLength(0);
  });
});
