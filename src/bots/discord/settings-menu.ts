import {
  type APIActionRowComponent,
  type APIInteractionResponseCallbackData,
  type APIStringSelectComponent,
  ComponentType,
} from 'discord.js';
import type { PersonalSettings } from '../../core/chat/personal-settings.ts';
import { aspectRatios } from '../../core/generation/image-dimensions.ts';
import { stylePresets } from '../../core/styles/style-presets.ts';
import type { InteractionContext } from './interaction-context.ts';
import { clip } from './result-message.ts';
import type { DiscordBotServices } from './slash-command.ts';

/** Custom ids of the settings menus: `settings:<setting>`, one select menu per row. */
const settingsPrefix = 'settings:';
const unset = '-';

type SettingName = 'style' | 'aspectRatio' | 'model' | 'enhance' | 'private';

/** Whether a component's custom id is one of the settings menus. */
export function isSettingsMenu(customId: string): boolean {
  return customId.startsWith(settingsPrefix);
}

/**
 * The `/settings` message (ephemeral): five select menus (default style, aspect ratio, a model the plan
 * allows, enhance on/off, private results on/off), each showing the person's current choice.
 */
export async function settingsMessage(
  context: InteractionContext,
  bot: DiscordBotServices,
  settings: PersonalSettings,
  note?: string,
): Promise<APIInteractionResponseCallbackData> {
  const plan = (await bot.chatImages.caller(context.identity, context.place)).plan;
  const menu = (
    name: SettingName,
    placeholder: string,
    choices: { label: string; value: string; description?: string }[],
    current: string | undefined,
  ): APIActionRowComponent<APIStringSelectComponent> => ({
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.StringSelect,
        custom_id: `${settingsPrefix}${name}`,
        placeholder,
        options: choices.slice(0, 25).map((choice) => ({
          label: clip(choice.label, 100),
          value: choice.value,
          ...(choice.description ? { description: clip(choice.description, 100) } : {}),
          default: choice.value === (current ?? unset),
        })),
      },
    ],
  });
  const onOff = (off: string, on: string) => [
    { label: off, value: 'off' },
    { label: on, value: 'on' },
  ];
  return {
    content: [
      '**Your settings** apply to every `/imagine` here; an option or a flag you type still wins.',
      note,
    ]
      .filter(Boolean)
      .join('\n'),
    components: [
      menu(
        'style',
        'Default style',
        [
          { label: 'No style', value: unset },
          ...stylePresets.map((preset) => ({
            label: preset.label,
            value: preset.name,
            description: preset.description,
          })),
        ],
        settings.style,
      ),
      menu(
        'aspectRatio',
        'Default aspect ratio',
        [
          { label: 'Square (1:1, the default)', value: unset },
          ...aspectRatios.filter((ratio) => ratio !== '1:1').map((ratio) => ({ label: ratio, value: ratio })),
        ],
        settings.aspectRatio,
      ),
      menu(
        'model',
        'Default model',
        [
          { label: `The bot's default (${bot.defaultModel})`, value: unset },
          ...bot.models
            .availableTo(plan)
            .map((model) => ({ label: model.id, value: model.id, description: model.description })),
        ],
        settings.model,
      ),
      menu(
        'enhance',
        'Prompt enhancement',
        onOff('Enhance off', 'Enhance on (the default)'),
        settings.enhance === false ? 'off' : 'on',
      ),
      menu(
        'private',
        'Private results',
        onOff('Results public (the default)', 'Results private: only you see them'),
        settings.private ? 'on' : 'off',
      ),
    ],
  };
}

/** A choice made in one of the menus: saved at once, and the message shows it. */
export async function handleSettingsMenu(
  context: InteractionContext,
  bot: DiscordBotServices,
): Promise<void> {
  const data = context.interaction.data as { custom_id: string; values?: string[] };
  const name = data.custom_id.slice(settingsPrefix.length) as SettingName;
  const value = data.values?.[0];
  const chosen = value === undefined || value === unset ? undefined : value;
  const change: PersonalSettings = {};
  switch (name) {
    case 'style':
      change.style = chosen;
      break;
    case 'aspectRatio':
      change.aspectRatio = aspectRatios.find((ratio) => ratio === chosen);
      break;
    case 'model': {
      const plan = (await bot.chatImages.caller(context.identity, context.place)).plan;
      // Only a model the plan allows here can be saved; the menu offers no other.
      change.model = bot.models.availableTo(plan).some((model) => model.id === chosen) ? chosen : undefined;
      break;
    }
    case 'enhance':
      change.enhance = chosen === 'off' ? false : undefined;
      break;
    case 'private':
      change.private = chosen === 'on' ? true : undefined;
      break;
    default:
      await context.respond.reply({ content: 'This menu no longer works.' }, { ephemeral: true });
      return;
  }
  const settings = await bot.chatImages.settings.update(context.identity, change);
  await context.respond.update(await settingsMessage(context, bot, settings, 'Saved.'));
}
