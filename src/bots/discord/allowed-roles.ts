import { type REST, Routes } from 'discord.js';
import type { Logger } from 'pino';
import type { InteractionContext } from './interaction-context.ts';

/** Role names of a server by role id, for DISCORD_ALLOWED_ROLES entries given as names. */
export interface RoleNames {
  of(guildId: string): Promise<ReadonlyMap<string, string>>;
}

const snowflake = /^\d{17,20}$/;
const roleNamesLifetimeMs = 5 * 60 * 1000;
const failedLookupLifetimeMs = 30 * 1000;

/**
 * The sentence that turns someone away when DISCORD_ALLOWED_ROLES is set and they hold none of those roles
 * (names or ids, matched case-insensitively by name); undefined when they may go ahead. Outside a server
 * there are no roles, so a restricted bot makes images only in servers.
 */
export async function allowedRolesRefusal(
  context: InteractionContext,
  allowedRoles: readonly string[],
  roleNames: RoleNames,
): Promise<string | undefined> {
  if (allowedRoles.length === 0) return undefined;
  const named = allowedRoles.map((role) => (snowflake.test(role) ? `<@&${role}>` : `**${role}**`));
  const roleText = named.length === 1 ? `the ${named[0]} role` : `one of these roles: ${named.join(', ')}`;
  if (!context.guildId || !context.memberRoleIds) {
    return `Making images is limited to server members with ${roleText}. Use the command in that server.`;
  }
  const memberRoleIds = new Set(context.memberRoleIds);
  if (allowedRoles.some((role) => memberRoleIds.has(role))) return undefined;
  const wantedNames = allowedRoles.filter((role) => !snowflake.test(role)).map((role) => role.toLowerCase());
  if (wantedNames.length > 0 && memberRoleIds.size > 0) {
    const names = await roleNames.of(context.guildId);
    for (const id of memberRoleIds) {
      const name = names.get(id);
      if (name !== undefined && wantedNames.includes(name.toLowerCase())) return undefined;
    }
  }
  return `Only members with ${roleText} can make images here. Ask a server admin if you think you should have it.`;
}

/**
 * Role names over REST (`GET /guilds/{id}/roles`), kept for five minutes per server. A server the bot is
 * not in (a user install) yields no names, so name-based entries cannot match there.
 */
export function restRoleNames(rest: REST, logger: Logger, now: () => number = Date.now): RoleNames {
  const cache = new Map<string, { names: ReadonlyMap<string, string>; expiresAt: number }>();
  return {
    async of(guildId) {
      const cached = cache.get(guildId);
      if (cached && cached.expiresAt > now()) return cached.names;
      let names: ReadonlyMap<string, string> = new Map();
      let lifetimeMs = roleNamesLifetimeMs;
      try {
        const roles = (await rest.get(Routes.guildRoles(guildId))) as { id: string; name: string }[];
        names = new Map(roles.map((role) => [role.id, role.name]));
      } catch (error) {
        logger.warn({ err: error, guildId }, 'could not read the server roles for DISCORD_ALLOWED_ROLES');
        lifetimeMs = failedLookupLifetimeMs;
      }
      // A bounded cache: thousands of servers must not grow memory without end.
      if (cache.size >= 1000) cache.clear();
      cache.set(guildId, { names, expiresAt: now() + lifetimeMs });
      return names;
    },
  };
}
