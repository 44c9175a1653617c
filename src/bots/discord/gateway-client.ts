import {
  type APIInteraction,
  Client,
  Events,
  GatewayDispatchEvents,
  GatewayIntentBits,
  Options,
} from 'discord.js';
import type { RoleNames } from './allowed-roles.ts';
import { restOptions } from './discord-rest.ts';

/** How often DM channels that interactions cached are dropped (they are never needed again). */
const channelSweepIntervalMs = 10 * 60 * 1000;

/**
 * A discord.js client for the gateway that holds as little as it can: only the Guilds intent (slash
 * commands and buttons need no other), and every cache that could grow with users or messages capped at
 * zero (`api`: the REST base, as for every other client here). What remains is one entry per server with its channels and roles, which discord.js needs to stay
 * consistent; memory then grows with servers, not with traffic.
 */
export function createGatewayClient(options: { api?: string | undefined } = {}): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds],
    makeCache: Options.cacheWithLimits({
      ApplicationCommandManager: 0,
      ApplicationEmojiManager: 0,
      AutoModerationRuleManager: 0,
      BaseGuildEmojiManager: 0,
      DMMessageManager: 0,
      EntitlementManager: 0,
      GuildBanManager: 0,
      GuildEmojiManager: 0,
      GuildForumThreadManager: 0,
      GuildInviteManager: 0,
      GuildMemberManager: 0,
      GuildMessageManager: 0,
      GuildScheduledEventManager: 0,
      GuildStickerManager: 0,
      GuildTextThreadManager: 0,
      MessageManager: 0,
      PresenceManager: 0,
      ReactionManager: 0,
      ReactionUserManager: 0,
      StageInstanceManager: 0,
      ThreadManager: 0,
      ThreadMemberManager: 0,
      UserManager: {
        maxSize: 0,
        // The bot's own user backs client.user.
        keepOverLimit: (user) => user.id === user.client.user?.id,
      },
      VoiceStateManager: 0,
    }),
    // Its REST also fetches the gateway address (GET /gateway/bot), so a REST proxy sees that call too.
    rest: restOptions(options),
    allowedMentions: { parse: [] },
  });
}

/**
 * Hands every INTERACTION_CREATE dispatch to `handle` as the raw payload, the very JSON the HTTP
 * transport reads, so both build their context the same way. Returns a function that stops listening.
 */
export function listenForInteractions(
  client: Client,
  handle: (interaction: APIInteraction) => void,
): () => void {
  const listener = (data: APIInteraction) => handle(data);
  client.ws.on(GatewayDispatchEvents.InteractionCreate, listener);
  // discord.js caches the DM channel of every DM interaction in a cache that cannot be capped.
  const sweep = setInterval(() => {
    client.channels.cache.sweep((channel) => channel.isDMBased());
  }, channelSweepIntervalMs);
  sweep.unref();
  return () => {
    client.ws.off(GatewayDispatchEvents.InteractionCreate, listener);
    clearInterval(sweep);
  };
}

/** Logs in and resolves once the client is ready (all servers received). */
export async function connectGateway(client: Client, token: string): Promise<void> {
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(token);
  await ready;
}

/** Role names from the gateway's cache of servers; servers not in it are asked over REST. */
export function gatewayRoleNames(client: Client, fallback: RoleNames): RoleNames {
  return {
    async of(guildId) {
      const guild = client.guilds.cache.get(guildId);
      if (!guild) return fallback.of(guildId);
      return new Map(guild.roles.cache.map((role) => [role.id, role.name]));
    },
  };
}
