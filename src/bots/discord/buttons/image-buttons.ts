import {
  type APIMessageComponentInteraction,
  type APIModalSubmitInteraction,
  ComponentType,
  PermissionFlagsBits,
  TextInputStyle,
} from 'discord.js';
import type { ChatAction } from '../../../core/chat/action-ids.ts';
import { maximumPromptLength } from '../../../core/generation/generation-request.ts';
import { deliverGeneration, postResult, privateResult } from '../generation-flow.ts';
import type { InteractionContext } from '../interaction-context.ts';
import { attachedFromRecord, detailsMessage, imageMessage } from '../result-message.ts';
import type { DiscordBotServices } from '../slash-command.ts';

/** Presses of the same button by the same person closer together than this are one press. */
const pressWindowMs = 2000;

/** Button kinds that make or post an image: subject to DISCORD_ALLOWED_ROLES and to the double-press guard. */
export function actionMakesImages(action: ChatAction): boolean {
  return action.kind !== 'details' && action.kind !== 'delete';
}

/**
 * The buttons under a result. Everything they need is in the custom id (the stored generation and its
 * owner), so they keep working after a restart or on another instance. Reroll, Vary (Subtle/Strong),
 * Upscale 2× and V charge whoever pressed (all but Reroll take the stored image as their input); U re-posts
 * a stored image for free; Details is private; Delete is for the requester or a member who may manage
 * messages.
 */
export async function handleImageAction(
  action: ChatAction,
  context: InteractionContext,
  bot: DiscordBotServices,
): Promise<void> {
  switch (action.kind) {
    case 'details': {
      const record = await bot.chatImages.find(action.owner, action.generationId);
      await context.respond.reply(detailsMessage(record), { ephemeral: true });
      return;
    }
    case 'delete':
      await deleteResult(action.owner, context, bot);
      return;
    case 'reroll': {
      const record = await bot.chatImages.find(action.owner, action.generationId);
      if (!(await firstPress(context, bot))) return;
      await deliverGeneration(context, bot, {
        headline: record.prompt,
        run: (call) => bot.chatImages.again(context.identity, context.place, record, 'reroll', call),
      });
      return;
    }
    case 'vary':
    case 'vary-subtle': {
      const record = await bot.chatImages.find(action.owner, action.generationId);
      if (!(await firstPress(context, bot))) return;
      const strength = action.kind === 'vary' ? 'strong' : 'subtle';
      await deliverGeneration(context, bot, {
        headline: record.prompt,
        run: (call) =>
          bot.chatImages.vary(context.identity, context.place, action.owner, record.id, strength, call),
      });
      return;
    }
    case 'enlarge': {
      const record = await bot.chatImages.find(action.owner, action.generationId);
      if (!(await firstPress(context, bot))) return;
      await deliverGeneration(context, bot, {
        headline: record.prompt,
        run: (call) =>
          bot.chatImages.upscale(context.identity, context.place, action.owner, record.id, 2, call),
      });
      return;
    }
    case 'remix': {
      // A form pre-filled with the prompt; its submission (same custom id) makes the image.
      const record = await bot.chatImages.find(action.owner, action.generationId);
      await context.respond.modal({
        custom_id: (context.interaction as APIMessageComponentInteraction).data.custom_id,
        title: 'Remix this image',
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: remixPromptField,
                label: 'Prompt',
                style: TextInputStyle.Paragraph,
                value: record.prompt.slice(0, maximumPromptLength),
                // The core's limit, so Discord refuses a longer prompt as it is typed, as for /imagine.
                min_length: 1,
                max_length: maximumPromptLength,
                required: true,
              },
            ],
          },
        ],
      });
      return;
    }
    case 'variant': {
      // V1–V4: a real variation of that grid image (image-to-image from it), not the prompt again.
      const record = await bot.chatImages.findInBatch(action.owner, action.batchId, action.index);
      if (!(await firstPress(context, bot))) return;
      await deliverGeneration(context, bot, {
        headline: record.prompt,
        run: (call) =>
          bot.chatImages.vary(context.identity, context.place, action.owner, record.id, 'strong', call),
      });
      return;
    }
    case 'upscale': {
      const record = await bot.chatImages.findInBatch(action.owner, action.batchId, action.index);
      if (!(await firstPress(context, bot))) return;
      await context.respond.defer({ ephemeral: await privateResult(context, bot, undefined) });
      const bytes = await bot.chatImages.read(record);
      const message = imageMessage(attachedFromRecord(record, bytes), {
        owner: action.owner,
        requesterId: context.userId,
        uploadLimitBytes: context.uploadLimitBytes,
        standing: await bot.chatImages.usage(context.identity),
      });
      await postResult(context, bot, message, record.imageUrl);
      return;
    }
  }
}

const remixPromptField = 'prompt';

/** The edited prompt of a submitted Remix form. */
export function remixPromptOf(interaction: APIModalSubmitInteraction): string {
  for (const row of interaction.data.components) {
    const inputs = 'components' in row ? row.components : [];
    for (const input of inputs) {
      if (input.custom_id === remixPromptField) return input.value;
    }
  }
  return '';
}

/** A submitted Remix form: the stored image plus the edited prompt, charged to whoever sent it. */
export async function submitRemix(
  action: ChatAction,
  prompt: string,
  context: InteractionContext,
  bot: DiscordBotServices,
): Promise<void> {
  if (action.kind !== 'remix') {
    await context.respond.reply({ content: 'This form no longer works.' }, { ephemeral: true });
    return;
  }
  const record = await bot.chatImages.find(action.owner, action.generationId);
  await deliverGeneration(context, bot, {
    headline: prompt.trim() || record.prompt,
    run: (call) =>
      bot.chatImages.remix(context.identity, context.place, action.owner, record.id, prompt, call),
  });
}

async function deleteResult(
  owner: string,
  context: InteractionContext,
  bot: DiscordBotServices,
): Promise<void> {
  const interaction = context.interaction as APIMessageComponentInteraction;
  const requesterId = interaction.message?.interaction_metadata?.user?.id;
  const isRequester =
    requesterId === context.userId || (await bot.chatImages.caller(context.identity)).userId === owner;
  const mayManage =
    context.memberPermissions !== undefined &&
    (context.memberPermissions & PermissionFlagsBits.ManageMessages) === PermissionFlagsBits.ManageMessages;
  if (!isRequester && !mayManage) {
    await context.respond.reply(
      {
        content:
          'Only the person who asked for this image, or a member who can manage messages, can delete it.',
      },
      { ephemeral: true },
    );
    return;
  }
  // Acknowledged as an update of the button's message, so `@original` is that message.
  await context.respond.deferUpdate();
  await context.respond.deleteOriginal();
}

/**
 * A double click sends two interactions with different ids. Each person's press of one button on one
 * message is claimed for a short window, so the second click neither generates nor charges.
 */
async function firstPress(context: InteractionContext, bot: DiscordBotServices): Promise<boolean> {
  const interaction = context.interaction as APIMessageComponentInteraction;
  const key = `discord:press:${context.userId}:${interaction.message?.id ?? '-'}:${interaction.data.custom_id}`;
  const window = Math.floor(bot.now().getTime() / pressWindowMs);
  const thisWindow = await bot.processedEvents.claim(`${key}:${window}`);
  const previousWindow = await bot.processedEvents.claim(`${key}:${window - 1}`);
  if (thisWindow && previousWindow) return true;
  await context.respond.reply(
    { content: 'That button was just pressed; the image is on its way.' },
    { ephemeral: true },
  );
  return false;
}
