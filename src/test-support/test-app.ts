/** The real HTTP app over real services on a temporary data folder, for `inject()` tests. */
import type { FastifyInstance } from 'fastify';
import { createChatBots } from '../bots/create-chat-bots.ts';
import { buildApp } from '../http/build-app.ts';
import type { Services } from '../services.ts';
import { createTestServices, type TestOverrides } from './test-services.ts';

/** An app ready for `inject()`, its services, and a helper that makes API keys. */
export interface TestApp {
  app: FastifyInstance;
  services: Services;
  /** Creates a user with this plan and returns the `Authorization` header value for them. */
  bearerFor(userId: string, plan?: string): Promise<string>;
  close(): Promise<void>;
}

/** Builds the app with `environment` on top of the embedded defaults. */
export async function createTestApp(
  environment: Record<string, string> = {},
  overrides: TestOverrides = {},
): Promise<TestApp> {
  const services = await createTestServices(environment, overrides);
  // Bots the environment turns on (DISCORD_BOT_TOKEN, SLACK_BOT_TOKEN) are mounted as in production.
  const app = await buildApp(services, { chatBots: await createChatBots(services) });
  await app.ready();
  return {
    app,
    services,
    bearerFor: async (userId, plan) => `Bearer ${await services.apiKeys.create(userId, { plan })}`,
    async close() {
      await app.close();
      await services.close();
    },
  };
}
