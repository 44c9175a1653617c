import { InteractionResponseType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../http/build-app.ts';
import type { Services } from '../../services.ts';
import { createTestServices, onePng, scriptedModel } from '../../test-support/test-services.ts';
import { createDiscordBot } from './discord-bot.ts';
import {
  buttonPress,
  fixture,
  ids,
  interactionKeys,
  slashCommand,
  webhook,
} from './test-support/discord-test-kit.ts';
import { botToken, startGatewayHarness, type TransportHarness } from './test-support/transport-harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(...parameters: Parameters<typeof startGatewayHarness>) {
  const harness = await startGatewayHarness(...parameters);
  cleanups.push(() => harness.close());
  return harness;
}

/** A model that works until the call is cancelled. */
function modelThatWaitsForCancel() {
  return scriptedModel(
    (options) =>
      new Promise((_, reject) => {
        options.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason), {
          once: true,
        });
      }),
  );
}

describe('Discord bot lifecycle', () => {
  it('on stop, work still running is cancelled, not charged, and the person is told', async () => {
    const harness = await gateway({ SHUTDOWN_GRACE_MS: '100' }, { models: [modelThatWaitsForCancel()] });
    const interaction = slashCommand('imagine', { prompt: 'a slow fox' });
    const progress = harness.api.expect('PATCH', webhook.original(interaction.token));
    const removed = harness.api.expect('DELETE', webhook.original(interaction.token));
    const told = harness.api.expect('POST', webhook.followUp(interaction.token));
    await harness.send(interaction);
    await progress;
    await harness.bot.stop();
    await removed;
    expect((await told).json).toMatchObject({
      content: 'The bot restarted before your image was finished. You were not charged; please try again.',
      flags: 64,
    });
    expect(await harness.services.chatImages.usage(`discord:${ids.ada}`)).toMatchObject({
      used: 0,
      remaining: 3,
    });
  });

  it('the gateway client keeps no users, members or messages however many interactions arrive', async () => {
    const harness: TransportHarness & { bot: { client: unknown } } = await gateway();
    const client = (harness as Awaited<ReturnType<typeof startGatewayHarness>>).bot.client;
    if (!client) throw new Error('gateway mode has a client');
    for (const userId of [ids.ada, ids.ben, '1300000000000000012', '1300000000000000013']) {
      await harness.send(slashCommand('usage', {}, { userId }));
      await harness.send(buttonPress('imagine|d|00000000-0000-7000-8000-000000000000|discord:1', { userId }));
    }
    expect(client.options.intents.toArray()).toEqual(['Guilds']);
    expect(client.users.cache.size).toBe(0);
    expect(client.guilds.cache.get(ids.guild)?.members.cache.size).toBe(0);
    const channel = client.channels.cache.get(ids.channel);
    expect(channel && 'messages' in channel ? channel.messages.cache.size : 0).toBe(0);
  });

  it('over HTTP, an interaction that arrives once stopping has begun gets 503', async () => {
    const keys = interactionKeys();
    const services: Services = await createTestServices(
      {
        DISCORD_MODE: 'http',
        DISCORD_BOT_TOKEN: botToken,
        DISCORD_APPLICATION_ID: ids.application,
        DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      },
      { models: [scriptedModel(onePng)] },
    );
    const settings = services.config.discord;
    if (!settings) throw new Error('discord settings expected');
    const bot = createDiscordBot(services, settings);
    const app = await buildApp(services, { chatBots: [bot] });
    cleanups.push(async () => {
      await app.close();
      await services.close();
    });
    const body = JSON.stringify(slashCommand('usage', {}));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'x-signature-ed25519': keys.sign(timestamp, body),
      'x-signature-timestamp': timestamp,
    };
    const before = await app.inject({ method: 'POST', url: '/discord/interactions', payload: body, headers });
    expect(before.json().type).toBe(InteractionResponseType.ChannelMessageWithSource);
    await bot.stop();
    const ping = JSON.stringify(fixture('ping.json'));
    const pingHeaders = { ...headers, 'x-signature-ed25519': keys.sign(timestamp, ping) };
    const after = await app.inject({ method: 'POST', url: '/discord/interactions', payload: body, headers });
    expect(after.statusCode).toBe(503);
    // PING still answers: Discord checks the endpoint while the operator saves it in the portal.
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/discord/interactions',
          payload: ping,
          headers: pingHeaders,
        })
      ).json(),
    ).toEqual({
      type: InteractionResponseType.Pong,
    });
  });
});
