import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { PlanGrant } from '../../core/accounts/user-accounts.ts';
import { answerWithin, cachedLookups } from './cached-lookup.ts';

/** Membership changes rarely; five minutes keeps usergroups.users.list off the path of almost every command. */
const membersLifetimeMs = 5 * 60 * 1000;
/** A failed lookup (a missing usergroups:read scope) is tried again soon, not on every command. */
const failedLookupLifetimeMs = 30 * 1000;
/** A person is waiting for the acknowledgement: past this, the command goes on without the grants. */
const lookupTimeoutMs = 2_000;

/** The plans SLACK_USERGROUP_PLANS grants a user, from the groups they are in. */
export interface UsergroupPlans {
  grantsFor(client: webApi.WebClient, userId: string): Promise<PlanGrant[]>;
}

/**
 * SLACK_USERGROUP_PLANS (`<usergroup id>=<plan>`): each mapped group's members are read with
 * `usergroups.users.list` (scope `usergroups:read`) and kept for five minutes. A lookup that fails or is slow
 * grants nothing (the person keeps their own plan) and is logged.
 */
export function usergroupPlans(
  plans: Readonly<Record<string, string>>,
  logger: Logger,
  now: () => number = Date.now,
): UsergroupPlans {
  const lookUp = cachedLookups<ReadonlySet<string>>({
    lifetimeMs: membersLifetimeMs,
    failedLifetimeMs: failedLookupLifetimeMs,
    fallback: () => new Set<string>(),
    onFailure: (error, usergroup) =>
      logger.warn({ err: error, usergroup }, 'could not read a Slack user group for SLACK_USERGROUP_PLANS'),
    now,
  });
  const membersOf = (client: webApi.WebClient, usergroup: string): Promise<ReadonlySet<string>> =>
    lookUp(usergroup, async () => new Set((await client.usergroups.users.list({ usergroup })).users ?? []));
  return {
    async grantsFor(client, userId) {
      const groups = Object.entries(plans);
      if (groups.length === 0) return [];
      const lookups = Promise.all(
        groups.map(async ([usergroup, plan]) =>
          (await membersOf(client, usergroup)).has(userId)
            ? [{ plan, source: `<!subteam^${usergroup}> user group` }]
            : [],
        ),
      ).then((found) => found.flat());
      return answerWithin(lookups, lookupTimeoutMs, () => {
        logger.warn('Slack user groups took too long; going on without their plans');
        return [];
      });
    },
  };
}
