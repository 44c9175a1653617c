import {
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandOptionChoice,
  ApplicationCommandOptionType,
} from 'discord.js';
import type { ChatImageOptions } from '../../core/chat/chat-images.ts';
import { type PromptWithFlags, parsePromptFlags } from '../../core/chat/prompt-flags.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import {
  maximumNegativePromptLength,
  maximumPromptLength,
} from '../../core/generation/generation-request.ts';
import { type AspectRatio, aspectRatios } from '../../core/generation/image-dimensions.ts';
import { findStylePreset, stylePresets } from '../../core/styles/style-presets.ts';
import {
  attachmentOption,
  booleanOption,
  commandOptions,
  type InteractionContext,
  numberOption,
  stringOption,
} from './interaction-context.ts';
import { clip } from './result-message.ts';
import type { DiscordBotServices, FocusedOption } from './slash-command.ts';

const ratioNames: Record<AspectRatio, string> = {
  '1:1': '1:1 square',
  '16:9': '16:9 widescreen',
  '9:16': '9:16 phone, story',
  '4:3': '4:3 classic photo',
  '3:4': '3:4 portrait',
  '3:2': '3:2 landscape photo',
  '2:3': '2:3 portrait photo',
  '4:5': '4:5 social portrait',
  '5:4': '5:4 landscape',
  '21:9': '21:9 cinema',
  '9:21': '9:21 tall banner',
};

const promptOption: APIApplicationCommandBasicOption = {
  type: ApplicationCommandOptionType.String,
  name: 'prompt',
  description: 'What to draw. Flags work too: --ar 16:9 --style anime --no text --seed 42 --model flux-dev',
  required: true,
  min_length: 1,
  // Discord refuses a longer one as it is typed, instead of the core refusing it after the command is sent.
  max_length: maximumPromptLength,
};

/** The options /imagine and /imagine-batch share, after `prompt` (and the batch's `count`). */
const sharedOptions: APIApplicationCommandBasicOption[] = [
  {
    type: ApplicationCommandOptionType.String,
    name: 'style',
    description: 'A look for the image, e.g. anime, watercolor, cinematic',
    autocomplete: true,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: 'aspect_ratio',
    description: 'The shape of the image (default square)',
    choices: aspectRatios.map((ratio) => ({ name: ratioNames[ratio], value: ratio })),
  },
  {
    type: ApplicationCommandOptionType.String,
    name: 'model',
    description: 'Which model draws it (those your plan includes)',
    autocomplete: true,
  },
  {
    type: ApplicationCommandOptionType.Integer,
    name: 'seed',
    description: 'The same seed and prompt give the same image',
    min_value: 0,
    max_value: 4_294_967_295,
  },
  {
    type: ApplicationCommandOptionType.String,
    name: 'negative',
    description: 'What to keep out of the image',
    max_length: maximumNegativePromptLength,
  },
  {
    type: ApplicationCommandOptionType.Boolean,
    name: 'enhance',
    description: 'Add quality terms to your prompt (default: on)',
  },
  {
    type: ApplicationCommandOptionType.Boolean,
    name: 'private',
    description: 'Only you see the result (default: your /settings)',
  },
];

/** Where Discord keeps attachments: allowed for an attached image whatever INPUT_IMAGE_HOSTS says. */
export const discordUploadHosts = ['cdn.discordapp.com', 'media.discordapp.net'] as const;

/** /imagine's image-to-image options, right after the prompt. */
export const imageInputOptions: APIApplicationCommandBasicOption[] = [
  {
    type: ApplicationCommandOptionType.Attachment,
    name: 'image',
    description: 'An image to start from (PNG, JPEG or WebP): the new one is drawn from it',
  },
  {
    type: ApplicationCommandOptionType.Number,
    name: 'strength',
    description: 'With an image: 0 keeps it, 1 ignores it (default 0.65)',
    min_value: 0,
    max_value: 1,
  },
];

/** /imagine's options; /imagine-batch puts its `count` right after the prompt. */
export function imageCommandOptions(
  afterPrompt: APIApplicationCommandBasicOption[] = [],
): APIApplicationCommandBasicOption[] {
  return [promptOption, ...afterPrompt, ...sharedOptions];
}

/** The command's fields as the core's chat options; flags typed in the prompt are read by the core. */
export function readImageOptions(context: InteractionContext): ChatImageOptions {
  const options = commandOptions(context.interaction);
  const style = stringOption(options, 'style');
  const ratio = stringOption(options, 'aspect_ratio');
  const model = stringOption(options, 'model');
  return {
    text: stringOption(options, 'prompt') ?? '',
    // Autocomplete sends the preset's name; a typed label ("Oil painting") is forgiven the same way.
    style: style === undefined ? undefined : (findStylePreset(style)?.name ?? style),
    aspectRatio: aspectRatios.find((candidate) => candidate === ratio),
    model: model?.toLowerCase(),
    seed: numberOption(options, 'seed'),
    negativePrompt: stringOption(options, 'negative'),
    enhance: booleanOption(options, 'enhance'),
    private: booleanOption(options, 'private'),
    count: numberOption(options, 'count'),
    image: attachedImage(context, options),
    strength: numberOption(options, 'strength'),
  };
}

function attachedImage(
  context: InteractionContext,
  options: ReturnType<typeof commandOptions>,
): ChatImageOptions['image'] {
  const attachment = attachmentOption(context.interaction, options, 'image');
  return (
    attachment && {
      url: attachment.url,
      mediaType: attachment.contentType,
      size: attachment.size,
      hosts: discordUploadHosts,
    }
  );
}

/**
 * Reads the prompt's flags with the core's parser before anything is acknowledged, so a typo such as an
 * unknown flag is answered privately at once instead of after a public "thinking" message. The core reads
 * them again when it generates; this only decides how early the error is told.
 */
export function checkPromptBeforeStarting(
  options: ChatImageOptions,
  bot: DiscordBotServices,
): PromptWithFlags {
  const flags = parsePromptFlags(options.text);
  // An attachment that says it is not an image, or is too large, is refused before anything is posted.
  bot.chatImages.checkImageOptions(options);
  // MAX_BATCH_SIZE is the operator's setting; the core's batch schema allows up to 4 whatever it says.
  const count = options.count ?? flags.count ?? 1;
  if (count > bot.maxBatchSize) {
    throw new ImagineError(
      'validation_error',
      `This bot makes at most ${bot.maxBatchSize} image${bot.maxBatchSize === 1 ? '' : 's'} at a time.`,
    );
  }
  return flags;
}

/** Style and model suggestions while the option is being typed (at most 25, Discord's limit). */
export async function imageOptionChoices(
  context: InteractionContext,
  bot: DiscordBotServices,
  focused: FocusedOption,
): Promise<APIApplicationCommandOptionChoice[]> {
  const query = focused.value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (focused.name === 'style') {
    return stylePresets
      .filter(
        (preset) =>
          !query ||
          preset.name.includes(query) ||
          preset.label.toLowerCase().includes(focused.value.trim().toLowerCase()),
      )
      .slice(0, 25)
      .map((preset) => ({ name: clip(`${preset.label} — ${preset.description}`, 100), value: preset.name }));
  }
  if (focused.name === 'model') {
    const plan = (await bot.chatImages.caller(context.identity, context.place)).plan;
    const typed = focused.value.trim().toLowerCase();
    // The same list GET /api/v1/models answers with.
    return bot.models
      .availableTo(plan)
      .filter(
        (model) => !typed || model.id.includes(typed) || model.description.toLowerCase().includes(typed),
      )
      .slice(0, 25)
      .map((model) => ({
        name: clip(
          `${model.id}${model.id === bot.defaultModel ? ' (default)' : ''} — ${model.description}`,
          100,
        ),
        value: model.id,
      }));
  }
  return [];
}
