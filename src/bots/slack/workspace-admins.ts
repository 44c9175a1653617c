import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';

/** Admin status changes rarely: five minutes keeps users.info off the path of most admin commands. */
const lifetimeMs = 5 * 60 * 1000;
const lookupTimeoutMs = 2_000;

/** Whether a Slack user is a workspace admin or owner (`users.info`, scope `users:read`), cached. */
export interface WorkspaceAdmins {
  isAdmin(client: webApi.WebClient, userId: string): Promise<boolean>;
}

/**
 * Workspace admins and owners may use `/imagine-admin` as well as SLACK_ADMIN_USERS. A lookup that fails or
 * takes over 2 s answers "not an admin" (and is logged): refusing is the safe side of a missing answer.
 */
export function workspaceAdmins(logger: Logger, now: () => number = Date.now): WorkspaceAdmins {
  const cache = new Map<string, { admin: boolean; expiresAt: number }>();
  return {
    async isAdmin(client, userId) {
      const cached = cache.get(userId);
      if (cached && cached.expiresAt > now()) return cached.admin;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), lookupTimeoutMs);
      });
      try {
        const answer = await Promise.race([client.users.info({ user: userId }), late]);
        if (!answer) {
          logger.warn({ userId }, 'Slack users.info took too long; treating the user as not an admin');
          return false;
        }
        const admin = answer.user?.is_admin === true || answer.user?.is_owner === true;
        if (cache.size >= 1000) cache.clear();
        cache.set(userId, { admin, expiresAt: now() + lifetimeMs });
        return admin;
      } catch (error) {
        logger.warn({ err: error, userId }, 'could not read a Slack user for /imagine-admin');
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
