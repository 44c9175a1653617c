import type { SqliteDatabase } from '../database/open-database.ts';
import { billingPeriod } from '../quota/billing-period.ts';
import { ImageGrants, withExtraImages } from '../quota/image-grants.ts';
import { isBetterPlan, type PlanCatalog, type PlanDefinition, resolvePlan } from '../quota/plans.ts';

/** A plan a chat place grants a member: a Discord role or a Slack user group, named for the person. */
export interface PlanGrant {
  plan: string;
  /** How the platform names what granted it (`<@&123> role`, `<!subteam^S1> user group`). */
  source: string;
}

/** Where a caller's plan comes from, for `/usage`. */
export type PlanSource =
  | { kind: 'account' }
  | { kind: 'linked-account' }
  | { kind: 'guest' }
  | { kind: 'grant'; source: string };

/** Who is asking, resolved to the account whose quota pays. */
export interface Caller {
  /** The quota subject: the app uid, or a chat identity that has not been linked. */
  userId: string;
  plan: PlanDefinition;
  /** The chat identity the request came through (`discord:<id>`, `slack:<team>:<user>`), if any. */
  identity: string | undefined;
  linked: boolean;
  /** Where the plan comes from (set for chat callers). */
  planSource?: PlanSource | undefined;
}

interface UserRow {
  id: string;
  plan: string | null;
}

/** App accounts (by uid), their plans, and the chat identities linked to them. */
export class UserAccounts {
  readonly #database: SqliteDatabase;
  readonly #plans: PlanCatalog;
  readonly #now: () => Date;
  readonly #statements;
  readonly #grants: ImageGrants;
  #planChanges = 0;

  constructor(database: SqliteDatabase, plans: PlanCatalog, now: () => Date = () => new Date()) {
    this.#database = database;
    this.#plans = plans;
    this.#now = now;
    this.#grants = new ImageGrants(database);
    this.#statements = {
      user: database.prepare<[string], UserRow>('SELECT id, plan FROM users WHERE id = ?'),
      insertUser: database.prepare('INSERT OR IGNORE INTO users (id, plan, created_at) VALUES (?, ?, ?)'),
      setPlan: database.prepare('UPDATE users SET plan = ? WHERE id = ?'),
      identityOwner: database.prepare<[string], { user_id: string }>(
        'SELECT user_id FROM identities WHERE identity = ?',
      ),
      link: database.prepare(
        `INSERT INTO identities (identity, user_id, linked_at) VALUES (?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at`,
      ),
      unlink: database.prepare('DELETE FROM identities WHERE identity = ?'),
      identitiesOf: database.prepare<[string], { identity: string }>(
        'SELECT identity FROM identities WHERE user_id = ? ORDER BY identity',
      ),
    };
  }

  /** Creates the user if new. A plan given here (a token's `plan` claim) replaces the stored one. */
  ensureUser(userId: string, plan?: string): void {
    this.#statements.insertUser.run(userId, plan ?? null, this.#now().toISOString());
    if (plan !== undefined) {
      const row = this.#statements.user.get(userId);
      if (row && row.plan !== plan) {
        this.#statements.setPlan.run(plan, userId);
        this.#planChanges++;
      }
    }
  }

  /** Counts plan changes made through this object, so caches of a user's plan know when to drop it. */
  get planChanges(): number {
    return this.#planChanges;
  }

  /** Whether an app account with this uid exists. */
  exists(userId: string): boolean {
    return this.#statements.user.get(userId) !== undefined;
  }

  /** Sets an existing or new user's plan; the plan must be one the catalog defines. */
  setPlan(userId: string, plan: string): void {
    if (!this.#plans.plans[plan]) {
      throw new Error(`unknown plan "${plan}"; plans are: ${Object.keys(this.#plans.plans).join(', ')}`);
    }
    this.#database.transaction(() => {
      this.ensureUser(userId);
      this.#statements.setPlan.run(plan, userId);
      this.#planChanges++;
    })();
  }

  /** Extra images admins granted quota subjects this month (`/imagine-admin grant`). */
  get grants(): ImageGrants {
    return this.#grants;
  }

  /** The caller for an app user (Firebase uid or API key owner). */
  appCaller(userId: string): Caller {
    return this.callerWithPlan(userId, this.#statements.user.get(userId)?.plan ?? undefined);
  }

  /** The caller for an app user whose stored plan name was already read (with their API key). */
  callerWithPlan(userId: string, planName: string | undefined): Caller {
    return this.#withThisMonthsLimit(this.#appCallerWithoutGrants(userId, planName));
  }

  #appCallerWithoutGrants(userId: string, planName: string | undefined): Caller {
    return { userId, plan: resolvePlan(this.#plans, planName), identity: undefined, linked: false };
  }

  /**
   * The one place a caller's limit for this month is settled: the plan's allowance plus what admins granted
   * the quota subject this month. Every caller this class answers (REST and chat alike) passes through here
   * last, so the 402, `GET /usage` and chat's `/usage` read the same number.
   */
  #withThisMonthsLimit(caller: Caller): Caller {
    const extra = this.#grants.extraImages(caller.userId, billingPeriod(this.#now()));
    return extra === 0 ? caller : { ...caller, plan: withExtraImages(caller.plan, extra) };
  }

  /**
   * The caller for a chat identity: the linked app account's quota, or the guest plan if unlinked. Plans the
   * place grants (roles, user groups) compete with that plan: the best one wins, and the quota subject stays
   * the same (the linked account, or the identity itself).
   */
  chatCaller(identity: string, grants: readonly PlanGrant[] = []): Caller {
    const owner = this.#statements.identityOwner.get(identity);
    const base: Caller = owner
      ? {
          ...this.#appCallerWithoutGrants(
            owner.user_id,
            this.#statements.user.get(owner.user_id)?.plan ?? undefined,
          ),
          identity,
          linked: true,
          planSource: { kind: 'linked-account' },
        }
      : this.#unlinkedCaller(identity);
    let best = base;
    for (const grant of grants) {
      const plan = this.#plans.plans[grant.plan];
      if (plan && isBetterPlan(plan, best.plan)) {
        best = { ...base, plan, planSource: { kind: 'grant', source: grant.source } };
      }
    }
    return this.#withThisMonthsLimit(best);
  }

  /** An unlinked chat identity: the guest plan, unless an admin gave the identity a plan of its own. */
  #unlinkedCaller(identity: string): Caller {
    const own = this.#statements.user.get(identity)?.plan ?? undefined;
    const plan = own && this.#plans.plans[own];
    if (plan) return { userId: identity, plan, identity, linked: false, planSource: { kind: 'account' } };
    return {
      userId: identity,
      plan: resolvePlan(this.#plans, this.#plans.guestPlan),
      identity,
      linked: false,
      planSource: { kind: 'guest' },
    };
  }

  /** Links a chat identity to an app account (replacing an earlier link). */
  link(identity: string, userId: string): void {
    this.#statements.link.run(identity, userId, this.#now().toISOString());
  }

  /** Removes a chat identity's link; returns whether there was one. */
  unlink(identity: string): boolean {
    return this.#statements.unlink.run(identity).changes > 0;
  }

  /** Chat identities linked to an app account. */
  identitiesOf(userId: string): string[] {
    return this.#statements.identitiesOf.all(userId).map((row) => row.identity);
  }
}
