import type { Services } from '../core/imagine-services.ts';
import type { ChatBot } from './chat-bot.ts';

/**
 * The chat bots the config turns on (a bot is off while its token is unset). discord.js and Bolt are
 * imported only when their bot is on: together they add some 40 MB to a service that does not use them.
 */
export async function createChatBots(services: Services): Promise<ChatBot[]> {
  const bots: ChatBot[] = [];
  if (services.config.discord) {
    const { createDiscordBot } = await import('./discord/discord-bot.ts');
    bots.push(createDiscordBot(services, services.config.discord));
  }
  if (services.config.slack) {
    const { createSlackApp } = await import('./slack/slack-app.ts');
    bots.push(createSlackApp(services, services.config.slack));
  }
  return bots;
}
