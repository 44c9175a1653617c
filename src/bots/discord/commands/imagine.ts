import { ApplicationCommandType } from 'discord.js';
import { imageMakingChecks } from '../../../core/chat/checks/chat-checks.ts';
import { deliverGeneration } from '../generation-flow.ts';
import {
  checkPromptBeforeStarting,
  imageCommandOptions,
  imageInputOptions,
  imageOptionChoices,
  readImageOptions,
} from '../image-options.ts';
import { everywhere, type SlashCommand } from '../slash-command.ts';

/** `/imagine prompt: [image:] [strength:]` — one image (from an attached one, if given), with its buttons. */
export const imagineCommand: SlashCommand = {
  definition: {
    type: ApplicationCommandType.ChatInput,
    name: 'imagine',
    description: 'Make an image from a prompt',
    options: imageCommandOptions(imageInputOptions),
    ...everywhere,
  },
  generatesImages: true,
  checks: imageMakingChecks,
  async execute(context, bot) {
    const options = readImageOptions(context);
    const flags = checkPromptBeforeStarting(options, bot);
    await deliverGeneration(context, bot, {
      headline: flags.prompt || options.text,
      run: (call) => bot.chatImages.create(context.identity, context.place, options, call),
      private: options.private ?? flags.private,
    });
  },
  autocomplete: imageOptionChoices,
};
