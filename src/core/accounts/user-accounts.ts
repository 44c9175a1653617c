import { billingPeriod } from '../quota/billing-period.ts';
import { ImageGrants, withExtraImages } from '../quota/image-grants.ts';
import { isBetterPlan, type PlanCatalog, type PlanDefinition, resolvePlan } from '../quota/plans.ts';
import type { AccountStore } from './account-store.ts';

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

/** App accounts (by uid), their plans, and the chat identities linked to them. */
export class UserAccounts {
  readonly #store: AccountStore;
  readonly #plans: PlanCatalog;
  readonly #now: () => Date;
  readonly #grants: ImageGrants;
  #planChanges = 0;

  constructor(store: AccountStore, plans: PlanCatalog, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#plans = plans;
    this.#now = now;
    this.#grants = new ImageGrants(store);
  }

  /** Creates the user if new. A plan given here (a token's `plan` claim) replaces the stored one. */
  async ensureUser(userId: string, plan?: string): Promise<void> {
    if (await this.#store.ensureUser(userId, plan, this.#now())) this.#planChanges++;
  }

  /** Counts plan changes made through this object, so caches of a user's plan know when to drop it. */
  get planChanges(): number {
    return this.#planChanges;
  }

  /** Whether an app account with this uid exists. */
  async exists(userId: string): Promise<boolean> {
    return (await this.#store.user(userId)) !== undefined;
  }

  /** Sets an existing or new user's plan; the plan must be one the catalog defines. */
  async setPlan(userId: string, plan: string): Promise<void> {
    if (!this.#plans.plans[plan]) {
      throw new Error(`unknown plan "${plan}"; plans are: ${Object.keys(this.#plans.plans).join(', ')}`);
    }
    await this.#store.setPlan(userId, plan, this.#now());
    this.#planChanges++;
  }

  /** Extra images admins granted quota subjects this month (`/imagine-admin grant`). */
  get grants(): ImageGrants {
    return this.#grants;
  }

  /** The caller for an app user (Firebase uid or API key owner). */
  async appCaller(userId: string): Promise<Caller> {
    return this.callerWithPlan(userId, (await this.#store.user(userId))?.plan);
  }

  /** The caller for an app user whose stored plan name was already read (with their API key). */
  callerWithPlan(userId: string, planName: string | undefined): Promise<Caller> {
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
  async #withThisMonthsLimit(caller: Caller): Promise<Caller> {
    const extra = await this.#grants.extraImages(caller.userId, billingPeriod(this.#now()));
    return extra === 0 ? caller : { ...caller, plan: withExtraImages(caller.plan, extra) };
  }

  /**
   * The caller for a chat identity: the linked app account's quota, or the guest plan if unlinked. Plans the
   * place grants (roles, user groups) compete with that plan: the best one wins, and the quota subject stays
   * the same (the linked account, or the identity itself).
   */
  async chatCaller(identity: string, grants: readonly PlanGrant[] = []): Promise<Caller> {
    const owner = await this.#store.linkedAccount(identity);
    const base: Caller = owner
      ? {
          ...this.#appCallerWithoutGrants(owner.userId, owner.plan),
          identity,
          linked: true,
          planSource: { kind: 'linked-account' },
        }
      : await this.#unlinkedCaller(identity);
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
  async #unlinkedCaller(identity: string): Promise<Caller> {
    const own = (await this.#store.user(identity))?.plan;
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
  async link(identity: string, userId: string): Promise<void> {
    await this.#store.link(identity, userId, this.#now());
  }

  /** Removes a chat identity's link; returns whether there was one. */
  async unlink(identity: string): Promise<boolean> {
    return this.#store.unlink(identity);
  }

  /** Chat identities linked to an app account. */
  async identitiesOf(userId: string): Promise<string[]> {
    return this.#store.identitiesOf(userId);
  }
}
