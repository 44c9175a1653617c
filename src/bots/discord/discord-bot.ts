import {
  type APIInteraction,
  type APIInteractionResponse,
  type Client,
  DiscordAPIError,
  type REST,
  Routes,
} from 'discord.js';
import type { DiscordSettings } from '../../config/load-config.ts';
import { createChatChecks } from '../../core/chat/checks/chat-checks.ts';
import type { Services } from '../../core/imagine-services.ts';
import type { ChatBot } from '../chat-bot.ts';
import { restRoleNames } from './allowed-roles.ts';
import { createDiscordRest, createInteractionRest } from './discord-rest.ts';
import {
  connectGateway,
  createGatewayClient,
  gatewayRoleNames,
  listenForInteractions,
} from './gateway-client.ts';
import { discordInteractionRoutes, interactionsPath } from './http-interactions.ts';
import { type InitialResponseSender, InteractionResponder } from './interaction-responder.ts';
import { createInteractionRouter } from './interaction-router.ts';
import { deliverRecovered } from './recovered-delivery.ts';
import type { DiscordBotServices } from './slash-command.ts';
import { createSignatureCheck } from './verify-signature.ts';

/** An interaction token lasts 15 minutes; work still running after this could never be delivered. */
const interactionLifetimeMs = 14 * 60 * 1000;
/** After the grace period, what is still running is cancelled and its message edited; this long for that. */
const cancelledWorkGraceMs = 2000;

/** Stand-ins for tests and the benchmark. */
export interface DiscordBotOptions {
  /** A gateway client made elsewhere (tests feed it raw dispatches without a socket). */
  client?: Client;
}

/** The Discord bot, with its gateway client when it runs over the gateway. */
export interface DiscordBot extends ChatBot {
  readonly client: Client | undefined;
}

/**
 * The Discord bot over the gateway (`DISCORD_MODE=gateway`, no public URL needed) or HTTP interactions
 * (`DISCORD_MODE=http`, `POST /discord/interactions`). Both hand the raw interaction to one router; only
 * how the first answer leaves differs (a REST callback, or the HTTP response).
 */
export function createDiscordBot(
  services: Services,
  settings: DiscordSettings,
  options: DiscordBotOptions = {},
): DiscordBot {
  const logger = services.logger.child({ bot: 'discord' });
  const api = settings.apiBaseUrl;
  const client = settings.mode === 'gateway' ? (options.client ?? createGatewayClient({ api })) : undefined;
  // Bot-token calls share the gateway client's REST (and its rate-limit state) when there is one.
  const rest: REST = client
    ? client.rest.setToken(settings.botToken)
    : createDiscordRest(settings.botToken, { api });
  const webhooks = createInteractionRest({ api });
  const rolesOverRest = restRoleNames(rest, logger);
  const bot: DiscordBotServices = {
    chatImages: services.chatImages,
    processedEvents: services.processedEvents,
    models: services.models,
    defaultModel: services.config.generation.defaultModel,
    maxBatchSize: services.config.generation.maxBatchSize,
    settings,
    roles: client ? gatewayRoleNames(client, rolesOverRest) : rolesOverRest,
    checks: createChatChecks({
      cooldowns: services.chatCooldowns,
      cooldownSeconds: services.config.chat.cooldownSeconds,
      allowedChannels: settings.allowedChannels,
      admin: services.chatImages.admin,
    }),
    nsfwPolicy: services.config.chat.nsfwPolicy,
    logger,
    now: () => new Date(),
  };
  const route = createInteractionRouter(bot);
  const running = new Map<Promise<void>, AbortController>();
  let stopping = false;

  function serve(
    interaction: APIInteraction,
    transport: 'http' | 'gateway',
    sendInitial: InitialResponseSender,
  ): Promise<void> {
    const respond = new InteractionResponder({
      rest: webhooks,
      applicationId: interaction.application_id || settings.applicationId,
      token: interaction.token,
      sendInitial,
      transport,
      logger,
    });
    logger.debug(
      { interaction: interaction.id, type: interaction.type, transport },
      'Discord interaction received',
    );
    const cancel = new AbortController();
    const expiry = setTimeout(
      () => cancel.abort(new Error('interaction token expired')),
      interactionLifetimeMs,
    );
    expiry.unref();
    const work = route(interaction, respond, cancel.signal).finally(() => {
      clearTimeout(expiry);
      running.delete(work);
    });
    running.set(work, cancel);
    return work;
  }

  // Generations a crashed process left (at start-up, before the gateway connects, and every minute): run
  // again and delivered while the reply can still reach someone, ended uncharged otherwise.
  services.chatImages.onRecovered('discord', (job) => {
    const work = deliverRecovered(job, {
      chatImages: services.chatImages,
      rest,
      webhooks,
      logger,
      now: bot.now,
      tokenLifetimeMs: interactionLifetimeMs,
    }).finally(() => running.delete(work));
    // Counted as work in flight, so a shutdown waits for it like any interaction (nothing to cancel).
    running.set(work, new AbortController());
    return work;
  });

  let stopListening: (() => void) | undefined;
  if (client) {
    stopListening = listenForInteractions(client, (interaction) => {
      if (stopping) return;
      void serve(interaction, 'gateway', async (response: APIInteractionResponse) => {
        await webhooks.post(Routes.interactionCallback(interaction.id, interaction.token), {
          auth: false,
          body: response,
        });
      });
    });
  }

  const routes =
    settings.mode === 'http'
      ? discordInteractionRoutes({
          checkSignature: createSignatureCheck(requirePublicKey(settings)),
          dispatch: (interaction, sendInitial) => serve(interaction, 'http', sendInitial),
          isStopping: () => stopping,
        })
      : undefined;

  return {
    name: 'discord',
    client,
    routes,
    async start() {
      if (!client) {
        logger.info(
          { endpoint: `${services.config.server.publicBaseUrl}${interactionsPath}` },
          'Discord interactions endpoint ready; set it as the Interactions Endpoint URL in the developer portal',
        );
        return;
      }
      try {
        await connectGateway(client, settings.botToken);
      } catch (error) {
        if (error instanceof DiscordAPIError && error.status === 401) {
          throw new Error(
            'Discord refused DISCORD_BOT_TOKEN: copy the bot token again from the developer portal',
            {
              cause: error,
            },
          );
        }
        throw error;
      }
      logger.info({ servers: client.guilds.cache.size, user: client.user?.tag }, 'Discord gateway connected');
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      stopListening?.();
      // Work in flight finishes if it can; whatever is left is cancelled (not charged) and told so.
      await settledWithin([...running.keys()], Math.min(services.config.server.shutdownGraceMs / 2, 8000));
      for (const cancel of running.values()) cancel.abort(new Error('the bot is stopping'));
      await settledWithin([...running.keys()], cancelledWorkGraceMs);
      if (client) await client.destroy();
      for (const restClient of [rest, webhooks]) {
        restClient.clearHashSweeper();
        restClient.clearHandlerSweeper();
      }
    },
  };
}

function requirePublicKey(settings: DiscordSettings): string {
  if (!settings.publicKey)
    throw new Error('DISCORD_PUBLIC_KEY is missing: DISCORD_MODE=http verifies interactions with it');
  return settings.publicKey;
}

async function settledWithin(work: readonly Promise<unknown>[], milliseconds: number): Promise<void> {
  if (work.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(work),
    new Promise((resolve) => {
      timer = setTimeout(resolve, milliseconds);
    }),
  ]);
  clearTimeout(timer);
}
