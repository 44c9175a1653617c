import type { SqliteDatabase } from '../database/open-database.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { hashSecret, randomString } from './secret-hash.ts';
import type { UserAccounts } from './user-accounts.ts';

// No 0/O, 1/I/L: codes are read off a phone and typed into a chat box.
const codeAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const codeLength = 8;
/** How long a link code stays valid. */
export const linkCodeLifetimeMs = 10 * 60 * 1000;

/** A code a user types into `/link` in Discord or Slack to draw on their app account's quota. */
export interface LinkCode {
  code: string;
  expiresAt: Date;
}

/** Short, single-use, expiring codes that link a chat identity to an app account. Stored hashed. */
export class LinkCodes {
  readonly #database: SqliteDatabase;
  readonly #accounts: UserAccounts;
  readonly #now: () => Date;
  readonly #statements;

  constructor(database: SqliteDatabase, accounts: UserAccounts, now: () => Date = () => new Date()) {
    this.#database = database;
    this.#accounts = accounts;
    this.#now = now;
    this.#statements = {
      insert: database.prepare('INSERT INTO link_codes (code_hash, user_id, expires_at) VALUES (?, ?, ?)'),
      claim: database.prepare<[string, string, string, string], { user_id: string }>(
        `UPDATE link_codes SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?
         RETURNING user_id`,
      ),
      purgeExpired: database.prepare('DELETE FROM link_codes WHERE expires_at < ?'),
    };
  }

  /** Issues a new code for an app user. */
  create(userId: string): LinkCode {
    const now = this.#now();
    const code = randomString(codeAlphabet, codeLength);
    const expiresAt = new Date(now.getTime() + linkCodeLifetimeMs);
    this.#database.transaction(() => {
      this.#accounts.ensureUser(userId);
      // Keeps the table small: codes a day past expiry are of no use, even for support.
      this.#statements.purgeExpired.run(new Date(now.getTime() - 86_400_000).toISOString());
      this.#statements.insert.run(hashSecret(code), userId, expiresAt.toISOString());
    })();
    return { code, expiresAt };
  }

  /**
   * Redeems a code for a chat identity: links it and returns the app uid. Unknown, used or expired codes
   * are one error (`link_code_invalid`), so a guesser learns nothing.
   */
  redeem(code: string, identity: string): string {
    const normalized = code.trim().toUpperCase().replace(/[\s-]/g, '');
    const now = this.#now().toISOString();
    return this.#database.transaction(() => {
      const claimed = this.#statements.claim.get(now, identity, hashSecret(normalized), now);
      if (!claimed) throw new ImagineError('link_code_invalid');
      this.#accounts.link(identity, claimed.user_id);
      return claimed.user_id;
    })();
  }
}
