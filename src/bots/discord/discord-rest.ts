import { REST, type RESTOptions } from 'discord.js';

/**
 * A Discord REST client for calls made with the bot token (roles, command registration). It sends through
 * the global `fetch`, in production and tests alike (nock intercepts fetch; undici's own `request`, the
 * library default, it cannot see). `api` is the base before `/v10` (DISCORD_API_BASE_URL: a REST proxy, or a
 * stand-in server in tests and the benchmark); unset, Discord's own.
 */
export function createDiscordRest(token: string, options: { api?: string | undefined } = {}): REST {
  return new REST(restOptions(options)).setToken(token);
}

/**
 * A client for interaction callbacks and webhook edits, which carry the interaction's token instead of the
 * bot's and are exempt from the bot's global rate limit; left in, the library would queue every follow-up
 * of a busy bot behind 50 requests a second. Per-route limits (one route per interaction) still apply.
 */
export function createInteractionRest(options: { api?: string | undefined } = {}): REST {
  return new REST({ ...restOptions(options), globalRequestsPerSecond: Number.POSITIVE_INFINITY });
}

/** The REST options every client here uses (the gateway client takes them too). */
export function restOptions(options: { api?: string | undefined } = {}): Partial<RESTOptions> {
  return {
    version: '10',
    // The library's type names undici's RequestInit; the global fetch takes the same shape.
    makeRequest: (url, init) => fetch(url, init as unknown as RequestInit),
    ...(options.api ? { api: options.api } : {}),
  };
}
