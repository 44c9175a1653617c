/** Starts the service: loads config, opens the database, listens, and shuts down cleanly on SIGTERM. */

import { createChatBots } from './bots/create-chat-bots.ts';
import { type Config, ConfigError, loadConfig } from './config/load-config.ts';
import { readEnvironment } from './config/read-environment.ts';
import { DatabaseUnusableError } from './core/database/database-unusable-error.ts';
import { ensureDemoKey } from './demo-key.ts';
import { buildApp } from './http/build-app.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services.ts';

function readConfig(): Config {
  try {
    return loadConfig(readEnvironment(process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable and its default.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/**
 * What `npm start` prints. Every URL in it uses one address, PUBLIC_BASE_URL (http://localhost:PORT unless
 * set): the one image links and the API page hand out, so what the banner shows is what a client gets back.
 * The socket address itself (0.0.0.0 in a container, say) is in Fastify's "Server listening" log line.
 */
function banner(config: Config, demoKey: string | undefined): string {
  const base = config.server.publicBaseUrl;
  const lines = [
    '',
    `imagine is listening at ${base}`,
    `  API docs:  ${base}/docs`,
    `  health:    ${base}/health`,
    `  model:     ${config.generation.defaultModel}    storage: ${config.storage.kind}    data: ${config.dataDir}`,
  ];
  if (demoKey) {
    lines.push(
      '',
      `Demo API key (user "demo", plan ${config.plans.defaultPlan}): ${demoKey}`,
      'Try it:',
      `  curl -s -X POST ${base}/api/v1/generate/image \\`,
      `    -H 'Authorization: Bearer ${demoKey}' -H 'Content-Type: application/json' \\`,
      `    -d '{"prompt":"Flutter logo in office of pakistan","size":"1024x1024","style":"realistic","aspect_ratio":"1:1","enhance_prompt":true}'`,
    );
  } else {
    lines.push('', 'Create an API key:  npm run cli -- keys create --user <uid>');
  }
  return `${lines.join('\n')}\n\n`;
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logging);
  const services = await createServices(config, logger);
  const chatBots = await createChatBots(services);
  const app = await buildApp(services, { chatBots });
  const demoKey = config.createDemoKey ? await ensureDemoKey(services.apiKeys, config.dataDir) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing the ones in flight');
    const deadline = setTimeout(() => {
      logger.error({ graceMs: config.server.shutdownGraceMs }, 'shutdown grace period over; exiting');
      process.exit(1);
    }, config.server.shutdownGraceMs);
    deadline.unref();
    // Keep-alive connections whose last request finishes after close() began would otherwise stay open
    // until the client drops them; close each one as soon as it goes idle.
    const closeIdle = setInterval(() => app.server.closeIdleConnections(), 100);
    closeIdle.unref();
    try {
      await Promise.allSettled(chatBots.map((bot) => bot.stop()));
      await app.close();
      clearInterval(closeIdle);
      await services.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ host: config.server.host, port: config.server.port });
  process.stdout.write(banner(config, demoKey));
  for (const bot of chatBots) {
    await bot.start();
    logger.info({ bot: bot.name }, 'chat bot started');
  }
}

main().catch((error: unknown) => {
  // Something the operator must fix before a start can work: their sentence, not a stack.
  if (DatabaseUnusableError.isInstance(error)) {
    process.stderr.write(`imagine cannot start: ${error.message}\n`);
    process.exit(78); // EX_CONFIG, as for a bad setting
  }
  process.stderr.write(
    `imagine failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
