import {
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIInteraction,
  InteractionType,
} from 'discord.js';
import { decodeChatAction } from '../../core/chat/action-ids.ts';
import { chatErrorMessage } from '../../core/chat/chat-error-message.ts';
import { type ChatCheckName, runChatChecks } from '../../core/chat/checks/chat-check.ts';
import { chatActionChecks, remixFormChecks } from '../../core/chat/checks/chat-checks.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import { allowedRolesRefusal } from './allowed-roles.ts';
import { actionMakesImages, handleImageAction, remixPromptOf, submitRemix } from './buttons/image-buttons.ts';
import { slashCommands } from './commands/index.ts';
import { DeliveryError } from './delivery-error.ts';
import { createInteractionContext, type InteractionContext } from './interaction-context.ts';
import type { InteractionResponder } from './interaction-responder.ts';
import { handleSettingsMenu, isSettingsMenu } from './settings-menu.ts';
import type { DiscordBotServices, FocusedOption, SlashCommand } from './slash-command.ts';

/** Serves one interaction from either transport; never throws (failures are told to the person). */
export type InteractionHandler = (
  interaction: APIInteraction,
  respond: InteractionResponder,
  abortSignal: AbortSignal,
) => Promise<void>;

/**
 * The one entry point both transports call. Commands and buttons are claimed once by interaction id
 * first, so a redelivery never generates or charges twice; then the allowed-roles check runs for
 * anything that makes images; then the handler.
 */
export function createInteractionRouter(
  bot: DiscordBotServices,
  commands: readonly SlashCommand[] = slashCommands,
): InteractionHandler {
  const byName = new Map(commands.map((command) => [command.definition.name, command]));

  async function route(context: InteractionContext): Promise<void> {
    const { interaction, respond } = context;
    if (interaction.type === InteractionType.ApplicationCommandAutocomplete) {
      await autocomplete(context, interaction);
      return;
    }
    if (
      interaction.type !== InteractionType.ApplicationCommand &&
      interaction.type !== InteractionType.MessageComponent &&
      interaction.type !== InteractionType.ModalSubmit
    ) {
      await respond.reply({ content: 'That kind of interaction is not supported.' }, { ephemeral: true });
      return;
    }
    if (!(await bot.processedEvents.claim(`discord:interaction:${interaction.id}`))) {
      bot.logger.info({ interaction: interaction.id }, 'Discord interaction delivered again; ignored');
      await respond.duplicate();
      return;
    }
    if (interaction.type === InteractionType.ApplicationCommand) {
      const command = byName.get(interaction.data.name);
      if (!command) {
        await respond.reply(
          {
            content:
              'This command is not served any more. Ask the operator to run `npm run discord:register`.',
          },
          { ephemeral: true },
        );
        return;
      }
      if (command.generatesImages && !(await mayMakeImages(context))) return;
      await withChecks(context, command.checks ?? [], () => command.execute(context, bot));
      return;
    }
    const customId = 'custom_id' in interaction.data ? interaction.data.custom_id : '';
    if (isSettingsMenu(customId)) {
      await handleSettingsMenu(context, bot);
      return;
    }
    const action = decodeChatAction(customId);
    if (!action) {
      await respond.reply({ content: 'This button no longer works.' }, { ephemeral: true });
      return;
    }
    if (actionMakesImages(action) && !(await mayMakeImages(context))) return;
    if (interaction.type === InteractionType.ModalSubmit) {
      // The Remix form: its custom id names the stored image, its one field the edited prompt.
      await withChecks(context, remixFormChecks, () =>
        submitRemix(action, remixPromptOf(interaction), context, bot),
      );
      return;
    }
    await withChecks(context, chatActionChecks(action), () => handleImageAction(action, context, bot));
  }

  /**
   * Runs the core's named checks, then `handler`. A refusal is told privately; when the handler fails
   * before delivering, what the checks took (a cooldown) is given back.
   */
  async function withChecks(
    context: InteractionContext,
    names: readonly ChatCheckName[],
    handler: () => Promise<void>,
  ): Promise<void> {
    const checked = await runChatChecks(bot.checks, names, {
      identity: context.identity,
      isAdmin: context.isAdmin,
      channelId: context.channelId,
    });
    if (!checked.ok) {
      bot.logger.info(
        { interaction: context.interaction.id, check: checked.identifier },
        'Discord command refused by a check',
      );
      await context.respond.reply(
        { content: checked.message, allowed_mentions: { parse: [] } },
        { ephemeral: true },
      );
      return;
    }
    try {
      await handler();
    } catch (error) {
      // A delivery failure comes after the image was made and charged: the cooldown stands.
      if (!(error instanceof DeliveryError)) await checked.undo();
      throw error;
    }
  }

  async function mayMakeImages(context: InteractionContext): Promise<boolean> {
    const refusal = await allowedRolesRefusal(context, bot.settings.allowedRoles, bot.roles);
    if (refusal === undefined) return true;
    await context.respond.reply({ content: refusal, allowed_mentions: { parse: [] } }, { ephemeral: true });
    return false;
  }

  async function autocomplete(
    context: InteractionContext,
    interaction: APIApplicationCommandAutocompleteInteraction,
  ): Promise<void> {
    const command = byName.get(interaction.data.name);
    const focused = focusedOption(interaction.data.options ?? []);
    let choices: Awaited<ReturnType<NonNullable<SlashCommand['autocomplete']>>> = [];
    try {
      if (command?.autocomplete && focused) choices = await command.autocomplete(context, bot, focused);
    } catch (error) {
      bot.logger.warn({ err: error, interaction: interaction.id }, 'Discord autocomplete failed');
    }
    await context.respond.autocomplete(choices);
  }

  return async (interaction, respond, abortSignal) => {
    try {
      await route(createInteractionContext(interaction, respond, bot.settings, abortSignal, bot.nsfwPolicy));
    } catch (error) {
      await tellFailure(respond, error, abortSignal, bot, interaction.id);
    }
  };
}

async function tellFailure(
  respond: InteractionResponder,
  error: unknown,
  abortSignal: AbortSignal,
  bot: DiscordBotServices,
  interactionId: string,
): Promise<void> {
  let text: string;
  if (error instanceof DeliveryError) {
    text = error.userMessage;
  } else if (abortSignal.aborted) {
    text = 'The bot restarted before your image was finished. You were not charged; please try again.';
  } else {
    text = chatErrorMessage(error, bot.now());
  }
  if (!ImagineError.isInstance(error)) {
    bot.logger.error({ err: error, interaction: interactionId }, 'Discord interaction failed');
  }
  try {
    await respond.reportError(text);
  } catch (reportError) {
    bot.logger.error(
      { err: reportError, interaction: interactionId },
      'could not tell the Discord user about a failure',
    );
  }
}

/** The option being typed, wherever it sits (subcommands nest options one or two levels). */
function focusedOption(
  options: readonly APIApplicationCommandInteractionDataOption[],
): FocusedOption | undefined {
  for (const option of options) {
    if ('focused' in option && option.focused)
      return { name: option.name, value: String(option.value ?? '') };
    if ('options' in option && option.options) {
      const nested = focusedOption(option.options as APIApplicationCommandInteractionDataOption[]);
      if (nested) return nested;
    }
  }
  return undefined;
}
