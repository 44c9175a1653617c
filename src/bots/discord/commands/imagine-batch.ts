import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord.js';
import { imageMakingChecks } from '../../../core/chat/checks/chat-checks.ts';
import { deliverGeneration } from '../generation-flow.ts';
import {
  checkPromptBeforeStarting,
  imageCommandOptions,
  imageOptionChoices,
  readImageOptions,
} from '../image-options.ts';
import { everywhere, type SlashCommand } from '../slash-command.ts';

/** How many images a batch makes when `count` is left out. */
export const defaultBatchCount = 4;

/** `/imagine-batch prompt: count:` — 2–4 images in one grid, with U1–U4 and V1–V4. */
export const imagineBatchCommand: SlashCommand = {
  definition: {
    type: ApplicationCommandType.ChatInput,
    name: 'imagine-batch',
    description: 'Make 2–4 images of one prompt, shown as a grid',
    options: imageCommandOptions([
      {
        type: ApplicationCommandOptionType.Integer,
        name: 'count',
        description: 'How many images (default 4)',
        min_value: 2,
        max_value: 4,
      },
    ]),
    ...everywhere,
  },
  generatesImages: true,
  checks: imageMakingChecks,
  async execute(context, bot) {
    const fields = readImageOptions(context);
    const flags = checkPromptBeforeStarting(fields, bot);
    const count = fields.count ?? flags.count ?? Math.min(defaultBatchCount, bot.maxBatchSize);
    const options = { ...fields, count };
    await deliverGeneration(context, bot, {
      headline: flags.prompt || options.text,
      run: (call) => bot.chatImages.create(context.identity, context.place, options, call),
      private: options.private ?? flags.private,
    });
  },
  autocomplete: imageOptionChoices,
};
