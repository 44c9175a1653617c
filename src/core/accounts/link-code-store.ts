/**
 * The rows behind `LinkCodes`, one engine per folder (`sqlite/`, `postgres/`). It sees only hashes of codes.
 * Each method is one atomic unit on its engine: a code is claimed by a guarded change, so however many
 * redemptions race, one wins.
 */
export interface LinkCodeStore {
  /** Stores a new code for an existing account; first removes codes that expired before `purgeBefore`. */
  insert(codeHash: string, userId: string, expiresAt: Date, purgeBefore: Date): Promise<void>;
  /**
   * Claims an unused code that has not expired at `now`, and links `identity` to the code's account (replacing
   * an earlier link), both or neither. Answers the account, or undefined for an unknown, used or expired code.
   */
  redeem(codeHash: string, identity: string, now: Date): Promise<string | undefined>;
}
