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
 * 2×, Remix and V are generations and take a cooldown too; Details and Delete post nothing. Every kind is
 * named, so a new button cannot slip past the checks by falling into a default.
 */
export function chatActionChecks(action: ChatAction): readonly ChatCheckName[] {
  switch (action.kind) {
    case 'upscale':
      return ['not-blocked', 'allowed-channel'];
    case 'reroll':
    case 'vary':
    case 'vary-subtle':
    case 'variant':
    case 'enlarge':
    case 'remix':
      return imageMakingChecks;
    case 'details':
    case 'delete':
      return [];
    default:
      return action satisfies never;
  }
}
