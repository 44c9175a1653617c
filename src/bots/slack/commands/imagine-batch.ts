import { imageMakingChecks } from '../../../core/chat/checks/chat-checks.ts';
import { runGenerateCommand } from './generate-command.ts';
import type { SlashCommandDefinition } from './slash-command.ts';

const usageHint = '<prompt> [--n 2..4 --ar 16:9 --style anime --seed 42]';

/** `/imagine-batch a castle --n 4`: a grid, with U1–U4 (post one full size, free) and V1–V4 (vary it). */
export const imagineBatchCommand: SlashCommandDefinition = {
  name: '/imagine-batch',
  description: 'Make 2–4 images of a prompt as a grid',
  usageHint,
  checks: imageMakingChecks,
  handler: (context) => (args) =>
    runGenerateCommand(context, args, { batch: true, usageHint, checks: imageMakingChecks }),
};
