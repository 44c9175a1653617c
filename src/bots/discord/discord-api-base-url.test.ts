/**
 * DISCORD_API_BASE_URL: every REST call the bot makes goes to the base it names, as through a Discord REST
 * proxy (nirn-proxy, twilight-http-proxy), which forwards Discord's own paths after its base. Here that proxy
 * is a real HTTP server on 127.0.0.1 answering as Discord does; a call to discord.com would fail the test
 * (the network guard), so seeing each call arrive here shows none went anywhere else.
 */
import type { ServerResponse } from 'node:http';
import { type APIInteraction, InteractionResponseType, MessageFlags, Routes } from 'discord.js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { storedChatJob } from '../../core/chat/chat-images.ts';
import type { Services } from '../../services.ts';
import { leaveCrashedJob } from '../../test-support/crashed-jobs.ts';
import {
  type ReceivedRequest,
  type StandInServer,
  sendJson,
  startStandInServer,
} from '../../test-support/stand-in-server.ts';
import { createTestApp } from '../../test-support/test-app.ts';
import { createTestServices } from '../../test-support/test-services.ts';
import { registerCommands } from './command-registration.ts';
import { commandDefinitions } from './commands/index.ts';
import { createDiscordBot, type DiscordBot } from './discord-bot.ts';
import { createDiscordRest } from './discord-rest.ts';
import { interactionsPath } from './http-interactions.ts';
import {
  dispatchToGateway,
  fixture,
  ids,
  interactionKeys,
  parseMultipart,
  slashCommand,
  webhook,
} from './test-support/discord-test-kit.ts';

const botToken = 'test-bot-token';
/** The proxy's own prefix, before Discord's `/v10/…`, as nirn-proxy is usually mounted. */
const proxyPrefix = '/discord-proxy/api';

/** Discord's answers to the routes the bot uses, by method and path under `/v10`. */
function answerAsDiscord(request: ReceivedRequest, response: ServerResponse): void {
  const route = request.pathname.slice(`${proxyPrefix}/v10`.length);
  if (request.method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(route)) {
    response.writeHead(204).end();
  } else if (request.method === 'DELETE' && route.startsWith('/webhooks/')) {
    response.writeHead(204).end();
  } else if ((request.method === 'PATCH' || request.method === 'POST') && route.startsWith('/webhooks/')) {
    sendJson(response, 200, fixture('message-created.json'));
  } else if (request.method === 'POST' && route === `/channels/${ids.channel}/messages`) {
    sendJson(response, 200, fixture('message-created.json'));
  } else if (request.method === 'GET' && route === `/guilds/${ids.guild}/roles`) {
    sendJson(response, 200, fixture('guild-roles.json'));
  } else if (request.method === 'GET' && route === '/gateway/bot') {
    sendJson(response, 200, {
      url: 'wss://gateway.discord.gg',
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
    });
  } else if (route === `/applications/${ids.application}/commands`) {
    sendJson(response, 200, request.method === 'PUT' ? request.body : []);
  }
}

/** `METHOD /route` of each call the proxy received, Discord's part of the path only. */
function callsTo(proxy: StandInServer): string[] {
  return proxy.requests.map(
    (request) => `${request.method} ${request.pathname.slice(`${proxyPrefix}/v10`.length)}`,
  );
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`the proxy did not receive ${what} in time`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startProxy(): Promise<StandInServer> {
  const proxy = await startStandInServer(answerAsDiscord);
  cleanups.push(() => proxy.close());
  return proxy;
}

function environment(proxy: StandInServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_BOT_TOKEN: botToken,
    DISCORD_APPLICATION_ID: ids.application,
    DISCORD_API_BASE_URL: `${proxy.url}${proxyPrefix}`,
    ...extra,
  };
}

/** The PNG of the message that finished the reply to `interaction`. */
async function finalImage(proxy: StandInServer, interaction: APIInteraction) {
  const edits = proxy.requests.filter(
    (request) => request.method === 'PATCH' && request.pathname.endsWith(webhook.original(interaction.token)),
  );
  const final = edits.at(-1);
  const contentType = String(final?.headers['content-type'] ?? '');
  expect(contentType).toMatch(/^multipart\/form-data/);
  const [file] = parseMultipart(final?.raw ?? Buffer.alloc(0), contentType).files;
  return sharp(file?.bytes).metadata();
}

describe('DISCORD_API_BASE_URL', () => {
  it('defaults to Discord’s own API', () => {
    const config = loadConfig({ DISCORD_BOT_TOKEN: botToken, DISCORD_APPLICATION_ID: ids.application });
    expect(config.discord?.apiBaseUrl).toBe('https://discord.com/api');
  });

  it('over the gateway, callbacks, roles, uploads, follow-ups and deletes all go through the proxy', async () => {
    const proxy = await startProxy();
    const services: Services = await createTestServices(
      environment(proxy, {
        DISCORD_MODE: 'gateway',
        DISCORD_ALLOWED_ROLES: 'Artist',
        GUEST_MONTHLY_IMAGES: '1',
      }),
    );
    const settings = services.config.discord;
    if (!settings) throw new Error('the Discord bot is off');
    // The bot makes its own gateway client from the settings, as in production.
    const bot: DiscordBot = createDiscordBot(services, settings);
    cleanups.push(async () => {
      await bot.stop();
      await services.close();
    });
    const client = bot.client;
    if (!client) throw new Error('no gateway client');

    // What discord.js asks before it opens the gateway socket, through the same REST client.
    await client.rest.get(Routes.gatewayBot());

    // The server is not in the cache (no GUILD_CREATE), so its role names are asked over REST.
    const made = slashCommand('imagine', { prompt: 'a fox behind a proxy' }, { roles: [ids.artistRole] });
    dispatchToGateway(client, 'INTERACTION_CREATE', made);
    await until(
      () => callsTo(proxy).filter((call) => call === `PATCH ${webhook.original(made.token)}`).length === 2,
      'the finished image',
    );
    expect(await finalImage(proxy, made)).toMatchObject({ format: 'png', width: 1024, height: 1024 });

    // Over the monthly quota: the public reply is deleted and the refusal sent as a follow-up.
    const refused = slashCommand('imagine', { prompt: 'one fox too many' }, { roles: [ids.artistRole] });
    dispatchToGateway(client, 'INTERACTION_CREATE', refused);
    await until(() => callsTo(proxy).includes(`POST ${webhook.followUp(refused.token)}`), 'the follow-up');
    const followUp = proxy.requests.find(
      (request) => request.method === 'POST' && request.pathname.endsWith(webhook.followUp(refused.token)),
    );
    expect(followUp?.body).toMatchObject({ flags: MessageFlags.Ephemeral });

    expect(callsTo(proxy)).toEqual([
      'GET /gateway/bot',
      `GET /guilds/${ids.guild}/roles`,
      `POST ${webhook.callback(made)}`,
      `PATCH ${webhook.original(made.token)}`,
      `PATCH ${webhook.original(made.token)}`,
      `POST ${webhook.callback(refused)}`,
      `PATCH ${webhook.original(refused.token)}`,
      `DELETE ${webhook.original(refused.token)}`,
      `POST ${webhook.followUp(refused.token)}`,
    ]);
    const callback = proxy.requests.find((request) => request.pathname.endsWith(webhook.callback(made)));
    expect(callback?.body).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    // Bot-token calls carry the token; interaction webhooks carry none (their token is in the path).
    expect(proxy.requests[1]?.headers.authorization).toBe(`Bot ${botToken}`);
    expect(proxy.requests[3]?.headers.authorization).toBeUndefined();
  });

  it('over HTTP interactions, the first answer is the HTTP response and the rest go through the proxy', async () => {
    const proxy = await startProxy();
    const keys = interactionKeys();
    const testApp = await createTestApp(
      environment(proxy, { DISCORD_MODE: 'http', DISCORD_PUBLIC_KEY: keys.publicKeyHex }),
    );
    cleanups.push(() => testApp.close());
    const interaction = slashCommand('imagine', { prompt: 'a fox over http' });
    const body = JSON.stringify(interaction);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const first = await testApp.app.inject({
      method: 'POST',
      url: interactionsPath,
      payload: body,
      headers: {
        'content-type': 'application/json',
        'x-signature-ed25519': keys.sign(timestamp, body),
        'x-signature-timestamp': timestamp,
      },
    });
    expect(first.json()).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    await until(() => callsTo(proxy).length === 2, 'the progress and the finished image');
    expect(callsTo(proxy)).toEqual([
      `PATCH ${webhook.original(interaction.token)}`,
      `PATCH ${webhook.original(interaction.token)}`,
    ]);
    expect(await finalImage(proxy, interaction)).toMatchObject({ format: 'png' });
  });

  it('over HTTP interactions, generations recovered after a crash are delivered through the proxy', async () => {
    const proxy = await startProxy();
    const keys = interactionKeys();
    const testApp = await createTestApp(
      environment(proxy, { DISCORD_MODE: 'http', DISCORD_PUBLIC_KEY: keys.publicKeyHex }),
    );
    cleanups.push(() => testApp.close());
    const ada = `discord:${ids.ada}`;
    const crashed = (token: string, ageMs: number) =>
      leaveCrashedJob(testApp.services, {
        userId: ada,
        source: 'discord',
        delivery: 'chat',
        ageMs,
        request: storedChatJob({
          kind: 'image',
          request: { prompt: 'a lighthouse at dusk', size: '1024x1024', enhance_prompt: true },
          identity: ada,
          place: { scopeKey: undefined, scopeLimit: undefined },
          source: 'discord',
          target: {
            applicationId: ids.application,
            interactionToken: token,
            channelId: ids.channel,
            requesterId: ids.ada,
            uploadLimitBytes: 25 * 1024 * 1024,
          },
        }),
      });
    // One whose interaction token still works (the webhook client), one whose token has expired, so it
    // is posted in its channel with the bot token (the bot's own client, in HTTP mode not a gateway's).
    await crashed('still-valid-token', 60_000);
    await crashed('expired-token', 20 * 60_000);
    expect(await testApp.services.jobs.recover()).toBe(2);
    const edit = `PATCH ${webhook.original('still-valid-token')}`;
    const post = `POST /channels/${ids.channel}/messages`;
    await until(() => callsTo(proxy).includes(edit) && callsTo(proxy).includes(post), 'both deliveries');
    expect([...callsTo(proxy)].sort()).toEqual([edit, post].sort());
    const channelPost = proxy.requests.find((request) => request.method === 'POST');
    expect(channelPost?.headers.authorization).toBe(`Bot ${botToken}`);
  });

  it('npm run discord:register writes the commands through the proxy', async () => {
    const proxy = await startProxy();
    const discord = loadConfig(environment(proxy)).discord;
    if (!discord) throw new Error('the Discord bot is off');
    // As register-commands.ts builds its client.
    const rest = createDiscordRest(discord.botToken, { api: discord.apiBaseUrl });
    cleanups.push(async () => {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
    });
    const report = await registerCommands({
      rest,
      applicationId: discord.applicationId,
      guildId: undefined,
      definitions: commandDefinitions(),
    });
    expect(report.written).toBe(true);
    expect(callsTo(proxy)).toEqual([
      `GET /applications/${ids.application}/commands`,
      `PUT /applications/${ids.application}/commands`,
    ]);
  });
});
