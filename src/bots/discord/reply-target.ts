import { ApplicationIntegrationType, PermissionFlagsBits } from 'discord.js';
import type { InteractionContext } from './interaction-context.ts';

/**
 * Where a generation's result goes, stored on its job (as JSON) so that after a crash the bot can still
 * deliver it: the deferred reply while its token lasts, else a message in the channel.
 */
export interface DiscordReplyTarget {
  applicationId: string;
  interactionToken: string;
  /** A channel the bot itself may post in (a server that installed it); absent for user-install DMs. */
  channelId?: string;
  /** The Discord user who asked. */
  requesterId: string;
  uploadLimitBytes: number;
}

const postInChannel = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages;

/** The target for an interaction's generation. */
export function replyTarget(
  context: InteractionContext,
  applicationId: string,
  options: { private?: boolean } = {},
): DiscordReplyTarget {
  const { interaction } = context;
  const channelId = interaction.channel?.id ?? interaction.channel_id;
  return {
    applicationId: interaction.application_id || applicationId,
    interactionToken: interaction.token,
    // A private result never falls back to a public message in the channel (after a crash, say).
    ...(channelId && !options.private && botMayPost(context) ? { channelId } : {}),
    requesterId: context.userId,
    uploadLimitBytes: context.uploadLimitBytes,
  };
}

/**
 * Whether the bot token can post where the interaction happened: only in a server that installed the bot
 * (a user install reaches DMs and servers the bot is not in) and where it may send messages.
 */
function botMayPost(context: InteractionContext): boolean {
  const { interaction } = context;
  if (!interaction.guild_id) return false;
  const owners = interaction.authorizing_integration_owners;
  if (owners && owners[ApplicationIntegrationType.GuildInstall] === undefined) return false;
  if (interaction.app_permissions === undefined) return true;
  try {
    return (BigInt(interaction.app_permissions) & postInChannel) === postInChannel;
  } catch {
    return false;
  }
}

/** The target as stored on a job, if it is one. */
export function parseReplyTarget(value: unknown): DiscordReplyTarget | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const target = value as Record<string, unknown>;
  const { applicationId, interactionToken, channelId, requesterId, uploadLimitBytes } = target;
  if (
    typeof applicationId !== 'string' ||
    typeof interactionToken !== 'string' ||
    typeof requesterId !== 'string' ||
    typeof uploadLimitBytes !== 'number' ||
    (channelId !== undefined && typeof channelId !== 'string')
  )
    return undefined;
  return {
    applicationId,
    interactionToken,
    ...(typeof channelId === 'string' && channelId ? { channelId } : {}),
    requesterId,
    uploadLimitBytes,
  };
}
