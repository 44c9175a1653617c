import {
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIInteraction,
  PermissionFlagsBits,
} from 'discord.js';
import type { DiscordSettings } from '../../config/load-config.ts';
import type { ChatIdentity, ChatPlace } from '../../core/chat/chat-images.ts';
import { type NsfwPolicy, nsfwRules } from '../../core/chat/nsfw-policy.ts';
import type { InteractionResponder } from './interaction-responder.ts';

/** Discord's upload limit for bots when the interaction does not say (servers with boosts allow more). */
export const defaultUploadLimitBytes = 25 * 1024 * 1024;

/**
 * One interaction as every handler sees it, whichever transport delivered it: who asked, where, what
 * they may do there, and how to answer.
 */
export interface InteractionContext {
  /** The payload exactly as Discord sent it. */
  interaction: APIInteraction;
  /** The Discord user id of whoever typed or pressed. */
  userId: string;
  /** `discord:<user id>`: whose quota pays (or the app account it is linked to). */
  identity: ChatIdentity;
  /** The server (and its monthly cap) the interaction came from; no scope in DMs. */
  place: ChatPlace;
  guildId: string | undefined;
  /** The channel the interaction came from (a DM channel in DMs). */
  channelId: string | undefined;
  /** A server admin: Manage Server (or Administrator), or a role in DISCORD_ADMIN_ROLES. */
  isAdmin: boolean;
  /** The member's role ids; undefined outside a server. */
  memberRoleIds: readonly string[] | undefined;
  /** The member's permissions in this channel; undefined outside a server. */
  memberPermissions: bigint | undefined;
  /** The largest attachment this channel takes. */
  uploadLimitBytes: number;
  /** Results are posted as spoilers (NSFW_POLICY in a channel marked NSFW). */
  spoiler: boolean;
  respond: InteractionResponder;
  /** Aborted when the bot shuts down or the interaction's token is about to expire. */
  abortSignal: AbortSignal;
}

/** Builds the context from a raw payload: the one place a Discord interaction is read. */
export function createInteractionContext(
  interaction: APIInteraction,
  respond: InteractionResponder,
  settings: Pick<DiscordSettings, 'serverMonthlyImages' | 'adminRoles' | 'rolePlans'>,
  abortSignal: AbortSignal,
  nsfwPolicy: NsfwPolicy = 'block',
): InteractionContext {
  const user = interaction.member?.user ?? interaction.user;
  if (!user) throw new Error(`interaction ${interaction.id} names no user`);
  const guildId = interaction.guild_id;
  const memberPermissions = interaction.member ? toBits(interaction.member.permissions) : undefined;
  const adminBits = PermissionFlagsBits.ManageGuild | PermissionFlagsBits.Administrator;
  const roles = interaction.member?.roles ?? [];
  const channel = interaction.channel as { nsfw?: boolean } | undefined;
  const nsfw = nsfwRules(nsfwPolicy, channel?.nsfw);
  return {
    interaction,
    userId: user.id,
    identity: `discord:${user.id}`,
    place: {
      scopeKey: guildId ? `discord-guild:${guildId}` : undefined,
      scopeLimit: guildId ? settings.serverMonthlyImages : undefined,
      relaxBlocklist: nsfw.relaxBlocklist,
      // Roles come with the interaction (`member.roles`): no REST call, no member cache.
      planGrants: roles.flatMap((role) => {
        const plan = settings.rolePlans[role];
        return plan === undefined ? [] : [{ plan, source: `<@&${role}> role` }];
      }),
    },
    spoiler: nsfw.spoiler,
    guildId,
    channelId: interaction.channel?.id ?? interaction.channel_id,
    isAdmin:
      (memberPermissions !== undefined && (memberPermissions & adminBits) !== 0n) ||
      roles.some((role) => settings.adminRoles.includes(role)),
    memberRoleIds: interaction.member?.roles,
    memberPermissions,
    uploadLimitBytes:
      typeof interaction.attachment_size_limit === 'number' && interaction.attachment_size_limit > 0
        ? interaction.attachment_size_limit
        : defaultUploadLimitBytes,
    respond,
    abortSignal,
  };
}

function toBits(permissions: string): bigint {
  try {
    return BigInt(permissions);
  } catch {
    return 0n;
  }
}

/** A slash command's options by name (subcommands are not used by these commands). */
export function commandOptions(
  interaction: APIInteraction,
): Map<string, APIApplicationCommandInteractionDataBasicOption> {
  const options = new Map<string, APIApplicationCommandInteractionDataBasicOption>();
  const data = interaction.data;
  if (!data || !('options' in data) || !Array.isArray(data.options)) return options;
  for (const option of data.options as APIApplicationCommandInteractionDataOption[]) {
    if ('value' in option)
      options.set(option.name, option as APIApplicationCommandInteractionDataBasicOption);
  }
  return options;
}

/** A string option's value, trimmed; undefined when absent or blank. */
export function stringOption(
  options: Map<string, APIApplicationCommandInteractionDataBasicOption>,
  name: string,
): string | undefined {
  const value = options.get(name)?.value;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

export function numberOption(
  options: Map<string, APIApplicationCommandInteractionDataBasicOption>,
  name: string,
): number | undefined {
  const value = options.get(name)?.value;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function booleanOption(
  options: Map<string, APIApplicationCommandInteractionDataBasicOption>,
  name: string,
): boolean | undefined {
  const value = options.get(name)?.value;
  return typeof value === 'boolean' ? value : undefined;
}

/** An attachment option's file as the interaction resolves it (`data.resolved.attachments`). */
export interface ResolvedAttachment {
  url: string;
  contentType: string | undefined;
  size: number | undefined;
}

export function attachmentOption(
  interaction: APIInteraction,
  options: Map<string, APIApplicationCommandInteractionDataBasicOption>,
  name: string,
): ResolvedAttachment | undefined {
  const id = options.get(name)?.value;
  if (typeof id !== 'string') return undefined;
  const data = interaction.data as
    | { resolved?: { attachments?: Record<string, Partial<APIAttachment>> } }
    | undefined;
  const attachment = data?.resolved?.attachments?.[id];
  if (typeof attachment?.url !== 'string') return undefined;
  return {
    url: attachment.url,
    contentType: attachment.content_type,
    size: typeof attachment.size === 'number' ? attachment.size : undefined,
  };
}
