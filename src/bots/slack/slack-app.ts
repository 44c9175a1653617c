import { App, type Receiver, SocketModeReceiver, webApi } from '@slack/bolt';
import type { SlackSettings } from '../../config/load-config.ts';
import { createChatChecks } from '../../core/chat/checks/chat-checks.ts';
import type { Services } from '../../core/imagine-services.ts';
import type { ChatBot } from '../chat-bot.ts';
import { registerImageButtons } from './actions/image-buttons.ts';
import { registerVaryThisImage, slackFileHosts } from './actions/vary-this-image.ts';
import { BackgroundWork } from './background-work.ts';
import { registerSlashCommands } from './commands/slash-commands.ts';
import { registerAppHome } from './events/app-home.ts';
import { finishRecoveredJob } from './recovered-jobs.ts';
import type { SlackContext } from './slack-context.ts';
import { SlackDelivery, slackErrorCode } from './slack-delivery.ts';
import { FastifySlackReceiver } from './slack-http-receiver.ts';
import { boltLogger } from './slack-logger.ts';
import { usergroupPlans } from './usergroup-plans.ts';
import { workspaceAdmins } from './workspace-admins.ts';

/** Stand-ins and hooks for tests and the benchmark; production passes none. */
export interface SlackAppOptions {
  /** Every request to Slack (Web API, response_url, file upload) goes through it. */
  fetch?: typeof fetch;
  /** Where a new request stands in line, once there is a job queue. */
  queuePosition?: () => number | undefined;
  now?: () => Date;
}

/** The Slack app as the server runs it, with Bolt's `App` exposed for tests. */
export interface SlackApp extends ChatBot {
  readonly bolt: App;
}

/** Slack answers these when the bot token itself is wrong: starting would only fail later, less clearly. */
const badTokenErrors = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked']);

/**
 * The Slack app: one Bolt `App` and one set of handlers, reached through Socket Mode (Bolt's
 * SocketModeReceiver, no public URL) or over HTTP (`POST /slack/events` on the API server, verified with
 * the signing secret). Everything it does with images goes through the core's ChatImages.
 */
export function createSlackApp(
  services: Services,
  settings: SlackSettings,
  options: SlackAppOptions = {},
): SlackApp {
  const logger = services.logger.child({ bot: 'slack' });
  const work = new BackgroundWork();
  // Leaves the server's own shutdown deadline time to close the database after the bots stop.
  const graceMs = Math.max(1_000, services.config.server.shutdownGraceMs - 2_000);
  // Read at call time, so an interceptor installed after start-up (tests) still sees every request.
  const fetchFunction: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const slackLogger = boltLogger(logger);
  // Every Web API method call goes here (SLACK_API_URL: GovSlack, a stand-in); the URLs Slack hands back
  // (upload_url, response_url, the Socket Mode WebSocket) are used as given, since that host chose them.
  const slackApiUrl = settings.apiUrl;

  const receiver: Receiver =
    settings.mode === 'http'
      ? new FastifySlackReceiver({
          signingSecret: settings.signingSecret,
          logger,
          onClose: () => work.drain(graceMs),
          ...(options.now ? { now: options.now } : {}),
        })
      : new SocketModeReceiver({
          appToken: settings.appToken ?? '',
          logger: slackLogger,
          installerOptions: { clientOptions: { fetch: fetchFunction, slackApiUrl } },
        });

  const clientOptions = {
    fetch: fetchFunction,
    slackApiUrl,
    // A person is waiting: a few quick retries, not the library's default of half an hour.
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 3_000 },
    timeout: 30_000,
  };
  const bolt = new App({
    receiver,
    // One workspace, one bot token: no OAuth installation store, and no auth.test on every event.
    authorize: async () => ({ botToken: settings.botToken }),
    logger: slackLogger,
    ignoreSelf: false,
    convoStore: false,
    clientOptions,
  });
  bolt.error(async (error) => {
    logger.error({ err: error }, 'a Slack listener failed');
  });

  const context: SlackContext = {
    chatImages: services.chatImages,
    processedEvents: services.processedEvents,
    records: services.records,
    delivery: new SlackDelivery({ fetch: fetchFunction, logger }),
    work,
    logger,
    now: options.now ?? (() => new Date()),
    workspaceMonthlyImages: settings.workspaceMonthlyImages,
    defaultBatchSize: Math.min(4, services.config.generation.maxBatchSize),
    publicImages: imagesArePublic(services),
    queuePosition: options.queuePosition ?? (() => undefined),
    checks: createChatChecks({
      cooldowns: services.chatCooldowns,
      cooldownSeconds: services.config.chat.cooldownSeconds,
      allowedChannels: settings.allowedChannels,
      admin: services.chatImages.admin,
    }),
    cooldownSeconds: services.config.chat.cooldownSeconds,
    nsfwPolicy: services.config.chat.nsfwPolicy,
    usergroupPlans: usergroupPlans(settings.usergroupPlans, logger),
    workspaceAdmins: workspaceAdmins(settings.adminUsers, logger),
    models: services.models,
    defaultModel: services.config.generation.defaultModel,
    files: {
      hosts: slackFileHosts(slackApiUrl),
      headers: { authorization: `Bearer ${settings.botToken}` },
    },
  };
  registerSlashCommands(bolt, context);
  registerImageButtons(bolt, context);
  registerVaryThisImage(bolt, context);
  registerAppHome(bolt, context);

  // Generations a crashed process left: run again and delivered with the bot token, which (unlike Socket
  // Mode) works as soon as the server starts.
  const recoveryClient = new webApi.WebClient(settings.botToken, { ...clientOptions, logger: slackLogger });
  services.chatImages.onRecovered('slack', (job) =>
    work.run(() => finishRecoveredJob(context, recoveryClient, fetchFunction, job)),
  );

  return {
    name: 'slack',
    bolt,
    routes: receiver instanceof FastifySlackReceiver ? receiver.routes : undefined,
    async start() {
      await checkBotToken(bolt, settings.botToken, logger);
      if (settings.mode !== 'socket') return;
      try {
        await bolt.start();
      } catch (error) {
        const code = slackErrorCode(error);
        if (code && badTokenErrors.has(code)) {
          throw new Error(
            `Slack refused SLACK_APP_TOKEN (${code}): create an app-level token (xapp-…) with connections:write`,
            { cause: error },
          );
        }
        throw error;
      }
      logger.info('connected to Slack in Socket Mode');
    },
    async stop() {
      if (settings.mode === 'socket') await bolt.stop();
      await work.drain(graceMs);
    },
  };
}

/** Says which workspace and bot the token belongs to; a token Slack refuses stops start-up with a clear error. */
async function checkBotToken(bolt: App, botToken: string, logger: Services['logger']): Promise<void> {
  try {
    const identity = await bolt.client.auth.test({ token: botToken });
    logger.info(
      { team: identity.team, teamId: identity.team_id, bot: identity.user },
      'Slack bot token accepted',
    );
  } catch (error) {
    const code = slackErrorCode(error);
    if (code && badTokenErrors.has(code)) {
      throw new Error(
        `Slack refused SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) again`,
        { cause: error },
      );
    }
    logger.warn({ err: error }, 'could not check the Slack bot token; carrying on');
  }
}

/**
 * Whether Slack can fetch stored images by URL: Firebase objects made public, S3 images behind an HTTPS
 * S3_PUBLIC_BASE_URL, or local images behind an HTTPS PUBLIC_BASE_URL, neither a private address. Otherwise
 * images are uploaded to Slack.
 */
export function imagesArePublic(services: Pick<Services, 'config' | 'storage'>): boolean {
  const { config, storage } = services;
  // The Storage emulator's URLs are on this machine, out of Slack's reach.
  if (storage.kind === 'firebase') {
    return (
      config.storage.kind === 'firebase' && config.storage.makePublic && !config.firebase?.emulators.storage
    );
  }
  if (storage.kind === 's3') {
    return config.storage.kind === 's3' && isPublicHttpsUrl(config.storage.publicBaseUrl);
  }
  if (storage.kind !== 'local') return false;
  return isPublicHttpsUrl(config.server.publicBaseUrl);
}

function isPublicHttpsUrl(base: string): boolean {
  const url = new URL(base);
  return url.protocol === 'https:' && !isPrivateHost(url.hostname);
}

function isPrivateHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    /\.(localhost|local|internal|lan)$/.test(hostname) ||
    /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(hostname) ||
    hostname === '[::1]' ||
    /^\[f[cd]/i.test(hostname)
  );
}
