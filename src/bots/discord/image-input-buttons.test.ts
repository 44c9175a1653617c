/**
 * Vary (Subtle/Strong), Upscale 2× and a grid's V1 over the HTTP transport: the stored image goes to the
 * model as the input (asserted on a stand-in), the presser pays one image, and the result's Details say
 * what it was made from.
 */
import { type APIInteraction, ComponentType, InteractionResponseType, InteractionType } from 'discord.js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { maximumPromptLength } from '../../core/generation/generation-request.ts';
import { allTasksPlaceholder } from '../../test-support/image-input-stand-ins.ts';
import { buttonPress, customIdOf, ids, slashCommand, webhook } from './test-support/discord-test-kit.ts';
import { type HttpHarness, startHttpHarness } from './test-support/transport-harness.ts';

let current: HttpHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const ada = `discord:${ids.ada}`;
const ben = `discord:${ids.ben}`;

async function start() {
  const model = allTasksPlaceholder();
  current = await startHttpHarness({}, { models: [model] });
  return { harness: current, model };
}

/** The Remix form submitted with `prompt`, as Discord sends it after the button's modal. */
function remixSubmit(customId: string, prompt: string): APIInteraction {
  const press = buttonPress(customId, { userId: ids.ben }) as unknown as Record<string, unknown>;
  return {
    ...press,
    type: InteractionType.ModalSubmit,
    data: {
      custom_id: customId,
      components: [
        {
          type: ComponentType.ActionRow,
          components: [{ type: ComponentType.TextInput, custom_id: 'prompt', value: prompt }],
        },
      ],
    },
  } as unknown as APIInteraction;
}

/** Runs a command or a press to its finished message. */
async function finished(harness: HttpHarness, interaction: APIInteraction) {
  const progress = harness.api.expect('PATCH', webhook.original(interaction.token));
  const final = harness.api.expect('PATCH', webhook.original(interaction.token));
  expect((await harness.send(interaction)).type).toBe(
    InteractionResponseType.DeferredChannelMessageWithSource,
  );
  await progress;
  return final;
}

/** The stored bytes of `owner`'s newest image. */
async function newest(harness: HttpHarness, owner: string) {
  const record = (await harness.services.records.listForUser(owner, { limit: 1, cursor: undefined }))
    .records[0];
  if (!record) throw new Error(`${owner} has no image`);
  return { record, bytes: await harness.services.storage.read(record.storageKey) };
}

/** The "Made from" field of a result's Details. */
async function madeFrom(harness: HttpHarness, message: { json: Record<string, unknown> }) {
  const answer = await harness.send(buttonPress(customIdOf(message.json, 'Details')));
  const fields = (answer as { data: { embeds: { fields: { name: string; value: string }[] }[] } }).data
    .embeds[0]?.fields;
  return fields?.find((field) => field.name === 'Made from')?.value;
}

describe('Discord image-to-image buttons', () => {
  it.each([
    ['Vary (Subtle)', 0.35],
    ['Vary (Strong)', 0.75],
  ] as const)('%s sends the stored image at strength %d, charged to the presser', async (label, strength) => {
    const { harness, model } = await start();
    const made = await finished(harness, slashCommand('imagine', { prompt: 'a red fox' }));
    const source = await newest(harness, ada);
    const posted = await finished(harness, buttonPress(customIdOf(made.json, label), { userId: ids.ben }));
    const call = model.calls[1];
    expect(call).toMatchObject({ task: 'image_to_image', strength });
    expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(source.bytes))).toBe(true);
    expect(posted.files).toHaveLength(1);
    expect((await harness.services.chatImages.usage(ben)).used).toBe(1);
    expect((await harness.services.chatImages.usage(ada)).used).toBe(1);
    expect(await madeFrom(harness, posted)).toBe(`A variation of image ${source.record.id}`);
  });

  it('Upscale 2× posts the stored image enlarged twice, charged one image', async () => {
    const { harness, model } = await start();
    const made = await finished(
      harness,
      slashCommand('imagine', { prompt: 'a red fox', aspect_ratio: '3:2' }),
    );
    const source = await newest(harness, ada);
    const posted = await finished(
      harness,
      buttonPress(customIdOf(made.json, 'Upscale 2×'), { userId: ids.ben }),
    );
    const call = model.calls[1];
    expect(call).toMatchObject({ task: 'upscale', upscaleFactor: 2 });
    expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(source.bytes))).toBe(true);
    expect(await sharp(posted.files[0]?.bytes).metadata()).toMatchObject({
      width: source.record.width * 2,
      height: source.record.height * 2,
    });
    expect((await harness.services.chatImages.usage(ben)).used).toBe(1);
    expect(await madeFrom(harness, posted)).toBe(`An upscale of image ${source.record.id}`);
  });

  it('Remix opens a form with the prompt; its submission sends the image and the new prompt', async () => {
    const { harness, model } = await start();
    const made = await finished(harness, slashCommand('imagine', { prompt: 'a red fox' }));
    const source = await newest(harness, ada);
    const customId = customIdOf(made.json, 'Remix');
    const form = (await harness.send(buttonPress(customId, { userId: ids.ben }))) as {
      type: number;
      data: { custom_id: string; components: { components: { value: string; max_length: number }[] }[] };
    };
    expect(form.type).toBe(InteractionResponseType.Modal);
    expect(form.data.custom_id).toBe(customId);
    // Discord refuses a prompt longer than the core accepts while it is typed.
    expect(form.data.components[0]?.components[0]).toMatchObject({
      value: 'a red fox',
      max_length: maximumPromptLength,
    });
    expect(model.calls).toHaveLength(1);

    const posted = await finished(harness, remixSubmit(customId, 'a red fox, as a woodcut'));
    const call = model.calls[1];
    expect(call).toMatchObject({ task: 'image_to_image', strength: 0.75 });
    expect(call?.prompt).toContain('a red fox, as a woodcut');
    expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(source.bytes))).toBe(true);
    expect((await harness.services.chatImages.usage(ben)).used).toBe(1);
    expect(await madeFrom(harness, posted)).toBe(`A remix of image ${source.record.id}`);
  });

  it('with a cooldown, opening the Remix form takes none; its submission takes it, and is refused inside one', async () => {
    let now = new Date('2026-03-10T12:00:00Z');
    const model = allTasksPlaceholder();
    current = await startHttpHarness({ CHAT_COOLDOWN_SECONDS: '60' }, { models: [model], now: () => now });
    const harness = current;
    const made = await finished(harness, slashCommand('imagine', { prompt: 'a red fox' }));
    const customId = customIdOf(made.json, 'Remix');
    const openForm = async () =>
      ((await harness.send(buttonPress(customId, { userId: ids.ben }))) as { type: number }).type;

    expect(await openForm()).toBe(InteractionResponseType.Modal);
    await finished(harness, remixSubmit(customId, 'a red fox, as a woodcut'));
    expect((await harness.services.chatImages.usage(ben)).used).toBe(1);

    now = new Date('2026-03-10T12:00:20Z');
    expect(await openForm()).toBe(InteractionResponseType.Modal);
    expect(await harness.send(remixSubmit(customId, 'a red fox, in ink'))).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: { content: 'Slow down a little: you can make your next image in 40 seconds.' },
    });
    expect(model.calls).toHaveLength(2);
    expect((await harness.services.chatImages.usage(ben)).used).toBe(1);
  });

  it('V1 on a grid is a variation of that image; U1 stays a free re-post', async () => {
    const { harness, model } = await start();
    const made = await finished(harness, slashCommand('imagine-batch', { prompt: 'two owls', count: 2 }));
    const { record: some } = await newest(harness, ada);
    const first = await harness.services.chatImages.findInBatch(ada, some.batchId ?? '', 0);
    const firstBytes = await harness.services.storage.read(first.storageKey);
    const calls = model.calls.length;

    const u1 = buttonPress(customIdOf(made.json, 'U1'), { userId: ids.ben });
    const reposted = harness.api.expect('PATCH', webhook.original(u1.token));
    await harness.send(u1);
    await reposted;
    expect(model.calls).toHaveLength(calls);
    expect((await harness.services.chatImages.usage(ben)).used).toBe(0);

    const posted = await finished(harness, buttonPress(customIdOf(made.json, 'V1'), { userId: ids.ben }));
    const call = model.calls[calls];
    expect(call).toMatchObject({ task: 'image_to_image', strength: 0.75 });
    expect(Buffer.from(call?.inputImages?.[0]?.bytes ?? []).equals(Buffer.from(firstBytes))).toBe(true);
    expect((await harness.services.chatImages.usage(ben)).used).toBe(1);
    expect(await madeFrom(harness, posted)).toBe(`A variation of image ${first.id}`);
  });
});
