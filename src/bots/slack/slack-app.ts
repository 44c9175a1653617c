import type { SlackSettings } from '../../config/load-config.ts';
import type { Services } from '../../services.ts';
import type { ChatBot } from '../chat-bot.ts';

/** The Slack app in Socket Mode or over HTTP (being written). */
export function createSlackApp(_services: Services, _settings: SlackSettings): ChatBot {
  return { name: 'slack', routes: undefined, start: async () => {}, stop: async () => {} };
}
