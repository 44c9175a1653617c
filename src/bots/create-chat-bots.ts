import type { Services } from '../services.ts';
import type { ChatBot } from './chat-bot.ts';
import { createDiscordBot } from './discord/discord-bot.ts';
import { createSlackApp } from './slack/slack-app.ts';

/** The chat bots the config turns on (a bot is off while its token is unset). */
export function createChatBots(services: Services): ChatBot[] {
  const bots: ChatBot[] = [];
  if (services.config.discord) bots.push(createDiscordBot(services, services.config.discord));
  if (services.config.slack) bots.push(createSlackApp(services, services.config.slack));
  return bots;
}
