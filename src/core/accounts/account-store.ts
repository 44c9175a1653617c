import type { ImageGrantStore } from '../quota/image-grants.ts';

/** An app account as stored: its plan's name, undefined when it has none (the default plan applies). */
export interface StoredUser {
  plan: string | undefined;
}

/** The app account a chat identity is linked to. */
export interface LinkedAccount {
  userId: string;
  plan: string | undefined;
}

/**
 * The rows behind `UserAccounts`: app accounts and their plans, the chat identities linked to them, and the
 * images admins granted (kept beside the ledger's counters). One engine per folder (`sqlite/`,
 * `postgres/`); every method is one atomic statement on its engine. Which plans exist is not its business.
 */
export interface AccountStore extends ImageGrantStore {
  /** The account, or undefined when no such uid exists. */
  user(userId: string): Promise<StoredUser | undefined>;
  /**
   * Creates the account if new (with `plan`, or none). A `plan` given replaces the stored one. Answers
   * whether an existing account's plan was replaced, so caches of plans know to drop them.
   */
  ensureUser(userId: string, plan: string | undefined, now: Date): Promise<boolean>;
  /** Sets the plan of an existing or new account. */
  setPlan(userId: string, plan: string, now: Date): Promise<void>;
  /** The app account a chat identity is linked to, with its plan; undefined when unlinked. */
  linkedAccount(identity: string): Promise<LinkedAccount | undefined>;
  /** Links a chat identity to an existing account, replacing an earlier link. */
  link(identity: string, userId: string, now: Date): Promise<void>;
  /** Removes a chat identity's link; answers whether there was one. */
  unlink(identity: string): Promise<boolean>;
  /** Chat identities linked to an account, in order. */
  identitiesOf(userId: string): Promise<string[]>;
}
