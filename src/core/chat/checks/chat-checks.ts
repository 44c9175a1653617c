import type { ChatAction } from '../action-ids.ts';
import type { ChatAdmin } from '../chat-admin.ts';
import type { ChatCooldowns } from '../chat-cooldowns.ts';
import { allowedChannelCheck } from './allowed-channel.ts';
import type { ChatCheckName, ChatChecks } from './chat-check.ts';
import { cooldownCheck } from './cooldown.ts';
import { notBlockedCheck } from './not-blocked.ts';

/** The checks a bot runs, built from its platform's settings; both bots call this the same way. */
export function createChatChecks(settings: {
  cooldowns: ChatCooldowns;
  cooldownSeconds: number;
  allowedChannels: readonly string[];
  admin: Pick<ChatAdmin, 'isBlocked'>;
}): ChatChecks {
  return {
    'not-blocked': notBlockedCheck(settings.admin),
    'allowed-channel': allowedChannelCheck(settings.allowedChannels),
    cooldown: cooldownCheck(settings.cooldowns, settings.cooldownSeconds),
  };
}

/** What every command or button that makes images lists, in the order they run. */
export const imageMakingChecks = ['not-blocked', 'allowed-channel', 'cooldown'] as const;

/**
 * The checks a button under a result runs: posting anything follows the channel rules; Reroll, Vary, Upscale
 * 2× and V are generations and take a cooldown too; Remix only opens its form (the submission is the
 * generation, see `remixFormChecks`), so a cooldown it took would refuse its own submission; Details and
 * Delete post nothing. Every kind is named, so a new button cannot slip past the checks by falling into a
 * default.
 */
export function chatActionChecks(action: ChatAction): readonly ChatCheckName[] {
  switch (action.kind) {
    case 'upscale':
    case 'remix':
      return ['not-blocked', 'allowed-channel'];
    case 'reroll':
    case 'vary':
    case 'vary-subtle':
    case 'variant':
    case 'enlarge':
      return imageMakingChecks;
    case 'details':
    case 'delete':
      return [];
    default:
      return action satisfies never;
  }
}

/**
 * The submitted Remix form (a Discord modal, a Slack view_submission) makes the image: every image-making
 * check runs again there, since the person may have been blocked or gone on to make another image meanwhile.
 */
export const remixFormChecks = imageMakingChecks;
