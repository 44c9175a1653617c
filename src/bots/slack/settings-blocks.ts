import type { types } from '@slack/bolt';
import type { PersonalSettings } from '../../core/chat/personal-settings.ts';
import { aspectRatios } from '../../core/generation/image-dimensions.ts';
import { stylePresets } from '../../core/styles/style-presets.ts';

type KnownBlock = types.KnownBlock;

/** Action ids of the App Home's settings menus: `settings_<setting>`, and `settings_reset`. */
export const settingsActionPrefix = 'settings_';
export const unsetValue = '-';

type Choice = { label: string; value: string };

function option(choice: Choice) {
  return { text: { type: 'plain_text' as const, text: choice.label.slice(0, 75) }, value: choice.value };
}

function select(setting: string, label: string, choices: Choice[], current: string | undefined): KnownBlock {
  const options = choices.slice(0, 100).map(option);
  const initial = options.find((candidate) => candidate.value === (current ?? unsetValue));
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: `*${label}*` },
    accessory: {
      type: 'static_select',
      action_id: `${settingsActionPrefix}${setting}`,
      options,
      ...(initial ? { initial_option: initial } : {}),
    },
  };
}

/**
 * The App Home's settings: the same five choices as Discord's `/settings` (default style, aspect ratio, a
 * model the plan allows, enhance on/off, private results on/off) and a reset button.
 */
export function settingsBlocks(
  settings: PersonalSettings,
  models: readonly { id: string }[],
  defaultModel: string,
): KnownBlock[] {
  return [
    { type: 'header', text: { type: 'plain_text', text: 'Your settings' } },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: 'Your defaults for `/imagine`; a flag you type (`--ar 1:1`) still wins.' },
      ],
    },
    select(
      'style',
      'Default style',
      [
        { label: 'No style', value: unsetValue },
        ...stylePresets.map((preset) => ({ label: preset.label, value: preset.name })),
      ],
      settings.style,
    ),
    select(
      'aspectRatio',
      'Default aspect ratio',
      [
        { label: 'Square (1:1, the default)', value: unsetValue },
        ...aspectRatios.filter((ratio) => ratio !== '1:1').map((ratio) => ({ label: ratio, value: ratio })),
      ],
      settings.aspectRatio,
    ),
    select(
      'model',
      'Default model',
      [
        { label: `The default (${defaultModel})`, value: unsetValue },
        ...models.map((model) => ({ label: model.id, value: model.id })),
      ],
      settings.model,
    ),
    select(
      'enhance',
      'Prompt enhancement',
      [
        { label: 'On (the default)', value: 'on' },
        { label: 'Off', value: 'off' },
      ],
      settings.enhance === false ? 'off' : 'on',
    ),
    select(
      'private',
      'Private results (sent to you in a direct message)',
      [
        { label: 'Off (the default)', value: 'off' },
        { label: 'On', value: 'on' },
      ],
      settings.private ? 'on' : 'off',
    ),
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: `${settingsActionPrefix}reset`,
          text: { type: 'plain_text', text: 'Reset to defaults' },
          value: 'reset',
        },
      ],
    },
  ];
}

/** A choice from one of the menus as a change to the stored settings; undefined for an unknown action. */
export function settingsChange(
  setting: string,
  value: string | undefined,
  allowedModels: readonly { id: string }[],
): PersonalSettings | undefined {
  const chosen = value === undefined || value === unsetValue ? undefined : value;
  switch (setting) {
    case 'style':
      return { style: stylePresets.some((preset) => preset.name === chosen) ? chosen : undefined };
    case 'aspectRatio':
      return { aspectRatio: aspectRatios.find((ratio) => ratio === chosen) };
    case 'model':
      return { model: allowedModels.some((model) => model.id === chosen) ? chosen : undefined };
    case 'enhance':
      return { enhance: chosen === 'off' ? false : undefined };
    case 'private':
      return { private: chosen === 'on' ? true : undefined };
    default:
      return undefined;
  }
}
