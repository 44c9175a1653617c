import type { DiscordSettings } from '../../config/load-config.ts';
import type { Services } from '../../services.ts';
import type { ChatBot } from '../chat-bot.ts';

/** The Discord bot over the gateway or HTTP interactions (being written). */
export function createDiscordBot(_services: Services, _settings: DiscordSettings): ChatBot {
  return { name: 'discord', routes: undefined, start: async () => {}, stop: async () => {} };
}
