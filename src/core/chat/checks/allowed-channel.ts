import type { ChatCheck } from './chat-check.ts';

/**
 * DISCORD_ALLOWED_CHANNELS / SLACK_ALLOWED_CHANNELS: images are made only in these channels (empty: everywhere).
 * Anywhere else, the person is told privately where the bot works. Both platforms write a channel mention
 * as `<#id>`, so the sentence is the same for both.
 */
export function allowedChannelCheck(allowedChannels: readonly string[]): ChatCheck {
  const allowed = new Set(allowedChannels);
  const where = allowedChannels.map((channel) => `<#${channel}>`).join(', ');
  return {
    name: 'allowed-channel',
    async run(subject) {
      if (allowed.size === 0) return { ok: true };
      if (subject.channelId !== undefined && allowed.has(subject.channelId)) return { ok: true };
      return {
        ok: false,
        identifier: 'channel_not_allowed',
        message:
          allowedChannels.length === 1
            ? `I make images only in ${where}. Try the command there.`
            : `I make images only in these channels: ${where}. Try the command in one of them.`,
        context: { channel: subject.channelId, allowed_channels: [...allowedChannels] },
      };
    },
  };
}
