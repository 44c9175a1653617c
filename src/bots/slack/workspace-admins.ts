import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { answerWithin, cachedLookups } from './cached-lookup.ts';

/** Admin status changes rarely: five minutes keeps users.info off the path of almost every command. */
const lifetimeMs = 5 * 60 * 1000;
/** A failed lookup (a missing users:read scope) is tried again soon, not on every command. */
const failedLookupLifetimeMs = 30 * 1000;
/** A person is waiting for the acknowledgement: past this, they are taken for not an admin. */
const lookupTimeoutMs = 2_000;

/** Who counts as an admin in Slack: SLACK_ADMIN_USERS, and workspace admins and owners (users.info), cached. */
export interface WorkspaceAdmins {
  isAdmin(client: webApi.WebClient, userId: string): Promise<boolean>;
}

/**
 * The users in SLACK_ADMIN_USERS, and workspace admins and owners (`users.info` `is_admin` / `is_owner`,
 * scope `users:read`), may use `/imagine-admin` and have no cooldown. Answers are kept for five minutes. A
 * lookup that fails or takes over 2 s answers "not an admin" and is logged: refusing is the safe side of a
 * missing answer, and a failed lookup is kept for 30 s so a missing scope does not cost every command a call.
 */
export function workspaceAdmins(
  adminUsers: readonly string[],
  logger: Logger,
  now: () => number = Date.now,
): WorkspaceAdmins {
  const listed = new Set(adminUsers);
  const lookUp = cachedLookups<boolean>({
    lifetimeMs,
    failedLifetimeMs: failedLookupLifetimeMs,
    fallback: () => false,
    onFailure: (error, userId) =>
      logger.warn(
        { err: error, userId },
        'could not read a Slack user with users.info; treating them as not an admin',
      ),
    now,
  });
  return {
    async isAdmin(client, userId) {
      if (listed.has(userId)) return true;
      const admin = lookUp(userId, async () => {
        const answer = await client.users.info({ user: userId });
        return answer.user?.is_admin === true || answer.user?.is_owner === true;
      });
      return answerWithin(admin, lookupTimeoutMs, () => {
        logger.warn({ userId }, 'Slack users.info took too long; treating the user as not an admin');
        return false;
      });
    },
  };
}
