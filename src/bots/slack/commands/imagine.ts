import { imageMakingChecks } from '../../../core/chat/checks/chat-checks.ts';
import { runGenerateCommand } from './generate-command.ts';
import type { SlashCommandDefinition } from './slash-command.ts';

const usageHint = '<prompt> [--ar 16:9 --style anime --no text --seed 42 --model flux-dev]';

/** `/imagine a red fox in snow --ar 16:9`: one image, posted in the channel with Reroll / Vary / Details. */
export const imagineCommand: SlashCommandDefinition = {
  name: '/imagine',
  description: 'Make an image from a prompt',
  usageHint,
  checks: imageMakingChecks,
  handler: (context) => (args) =>
    runGenerateCommand(context, args, { batch: false, usageHint, checks: imageMakingChecks }),
};
