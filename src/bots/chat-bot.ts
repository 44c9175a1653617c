import type { FastifyPluginAsync } from 'fastify';

/**
 * A chat front door as the server sees it: HTTP routes to mount on the API server (interactions, events)
 * and a connection to start after listening and stop before the database closes.
 */
export interface ChatBot {
  readonly name: 'discord' | 'slack';
  /** Mounted on the API server; undefined when the bot needs no HTTP endpoint in its mode. */
  readonly routes: FastifyPluginAsync | undefined;
  /** Connects (gateway, Socket Mode); resolves once ready. */
  start(): Promise<void>;
  /** Disconnects; in-flight work finishes or is abandoned to recovery. */
  stop(): Promise<void>;
}
