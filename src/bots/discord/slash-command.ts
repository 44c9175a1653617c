import {
  type APIApplicationCommandOptionChoice,
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Logger } from 'pino';
import type { DiscordSettings } from '../../config/load-config.ts';
import type { ChatImages } from '../../core/chat/chat-images.ts';
import type { ChatCheckName, ChatChecks } from '../../core/chat/checks/chat-check.ts';
import type { NsfwPolicy } from '../../core/chat/nsfw-policy.ts';
import type { ProcessedEvents } from '../../core/chat/processed-events.ts';
import type { ImageModelRegistry } from '../../core/providers/image-model-registry.ts';
import type { RoleNames } from './allowed-roles.ts';
import type { InteractionContext } from './interaction-context.ts';

/** What command handlers work with: the core's chat service and the bot's settings. */
export interface DiscordBotServices {
  chatImages: ChatImages;
  processedEvents: ProcessedEvents;
  /** Which models this instance can call (autocomplete offers only those). */
  models: ImageModelRegistry;
  defaultModel: string;
  maxBatchSize: number;
  settings: DiscordSettings;
  roles: RoleNames;
  /** The core's named checks (channel rules, cooldown), built with this bot's settings. */
  checks: ChatChecks;
  nsfwPolicy: NsfwPolicy;
  logger: Logger;
  now: () => Date;
}

/** The option being typed, for autocomplete. */
export interface FocusedOption {
  name: string;
  value: string;
}

/** One slash command: the definition registered with Discord and the handler that serves it. */
export interface SlashCommand {
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** Commands that make images are subject to DISCORD_ALLOWED_ROLES. */
  generatesImages: boolean;
  /** The core's checks this command runs before its handler, in order. */
  checks?: readonly ChatCheckName[];
  execute(context: InteractionContext, bot: DiscordBotServices): Promise<void>;
  autocomplete?(
    context: InteractionContext,
    bot: DiscordBotServices,
    focused: FocusedOption,
  ): Promise<APIApplicationCommandOptionChoice[]>;
}

/** Installable to servers and to users; usable in servers, the bot's DMs and other DMs and group DMs. */
export const everywhere = {
  integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
  contexts: [
    InteractionContextType.Guild,
    InteractionContextType.BotDM,
    InteractionContextType.PrivateChannel,
  ],
};
