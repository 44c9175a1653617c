/**
 * The two transports behind one test interface, so every scenario runs over both and must behave the
 * same: HTTP interactions (signed requests against the real app) and the gateway (raw dispatches fed
 * into a real discord.js client, first answers sent as REST callbacks).
 */
import type { APIInteraction, APIInteractionResponse } from 'discord.js';
import type { LightMyRequestResponse } from 'fastify';
import type { ServiceOverrides, Services } from '../../../services.ts';
import { createTestApp, type TestApp } from '../../../test-support/test-app.ts';
import { createTestServices } from '../../../test-support/test-services.ts';
import { createDiscordBot, type DiscordBot } from '../discord-bot.ts';
import { createGatewayClient } from '../gateway-client.ts';
import { interactionsPath } from '../http-interactions.ts';
import {
  DiscordApiStub,
  dispatchToGateway,
  fixture,
  ids,
  interactionKeys,
  webhook,
} from './discord-test-kit.ts';

export const botToken = 'test-bot-token';

/** One transport under test. */
export interface TransportHarness {
  readonly transport: 'http' | 'gateway';
  readonly services: Services;
  readonly api: DiscordApiStub;
  /** Delivers an interaction and returns the first answer Discord receives for it. */
  send(interaction: APIInteraction): Promise<APIInteractionResponse>;
  /** Delivers the same interaction again; resolves with the first answer if there is one (HTTP). */
  redeliver(interaction: APIInteraction): Promise<APIInteractionResponse | undefined>;
  close(): Promise<void>;
}

function discordEnvironment(mode: 'http' | 'gateway', extra: Record<string, string>): Record<string, string> {
  return {
    DISCORD_MODE: mode,
    DISCORD_BOT_TOKEN: botToken,
    DISCORD_APPLICATION_ID: ids.application,
    ...extra,
  };
}

/** The HTTP transport with its signing key, plus a raw `post` for signature tests. */
export interface HttpHarness extends TransportHarness {
  readonly testApp: TestApp;
  post(body: string, headers: Record<string, string>): Promise<LightMyRequestResponse>;
  signedHeaders(body: string, timestamp?: string): Record<string, string>;
}

export async function startHttpHarness(
  environment: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<HttpHarness> {
  const keys = interactionKeys();
  const testApp = await createTestApp(
    discordEnvironment('http', { DISCORD_PUBLIC_KEY: keys.publicKeyHex, ...environment }),
    overrides,
  );
  const api = new DiscordApiStub();
  const signedHeaders = (body: string, timestamp = String(Math.floor(Date.now() / 1000))) => ({
    'content-type': 'application/json',
    'x-signature-ed25519': keys.sign(timestamp, body),
    'x-signature-timestamp': timestamp,
  });
  const post = (body: string, headers: Record<string, string>) =>
    testApp.app.inject({ method: 'POST', url: interactionsPath, payload: body, headers });
  const firstAnswer = async (interaction: APIInteraction) => {
    const body = JSON.stringify(interaction);
    const response = await post(body, signedHeaders(body));
    if (response.statusCode !== 200)
      throw new Error(`interaction answered ${response.statusCode}: ${response.body}`);
    return response.json() as APIInteractionResponse;
  };
  return {
    transport: 'http',
    services: testApp.services,
    api,
    testApp,
    post,
    signedHeaders,
    send: firstAnswer,
    redeliver: firstAnswer,
    close: () => testApp.close(),
  };
}

export async function startGatewayHarness(
  environment: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<TransportHarness & { bot: DiscordBot }> {
  const services = await createTestServices(discordEnvironment('gateway', environment), overrides);
  const settings = services.config.discord;
  if (!settings) throw new Error('the test environment did not turn the Discord bot on');
  const client = createGatewayClient();
  const bot = createDiscordBot(services, settings, { client });
  // As on a real connection: the server arrives (with its roles) before any interaction from it.
  dispatchToGateway(client, 'GUILD_CREATE', fixture('guild-create.json'));
  const api = new DiscordApiStub();
  return {
    transport: 'gateway',
    services,
    api,
    bot,
    async send(interaction) {
      const callback = api.expect('POST', webhook.callback(interaction));
      dispatchToGateway(client, 'INTERACTION_CREATE', interaction);
      return (await callback).json as APIInteractionResponse;
    },
    async redeliver(interaction) {
      dispatchToGateway(client, 'INTERACTION_CREATE', interaction);
      // Give a wrongly sent callback the chance to happen (and fail the test as unexpected).
      await new Promise((resolve) => setTimeout(resolve, 50));
      return undefined;
    },
    async close() {
      await bot.stop();
      await services.close();
    },
  };
}

/** Both transports, for `describe.each`. */
export const transports = [
  ['http', startHttpHarness],
  ['gateway', startGatewayHarness],
] as const;
