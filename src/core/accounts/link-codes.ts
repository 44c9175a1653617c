import { ImagineError } from '../errors/imagine-error.ts';
import type { LinkCodeStore } from './link-code-store.ts';
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
  readonly #store: LinkCodeStore;
  readonly #accounts: UserAccounts;
  readonly #now: () => Date;

  constructor(store: LinkCodeStore, accounts: UserAccounts, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#accounts = accounts;
    this.#now = now;
  }

  /** Issues a new code for an app user. */
  async create(userId: string): Promise<LinkCode> {
    const now = this.#now();
    const code = randomString(codeAlphabet, codeLength);
    const expiresAt = new Date(now.getTime() + linkCodeLifetimeMs);
    await this.#accounts.ensureUser(userId);
    // Keeps the table small: codes a day past expiry are of no use, even for support.
    await this.#store.insert(hashSecret(code), userId, expiresAt, new Date(now.getTime() - 86_400_000));
    return { code, expiresAt };
  }

  /**
   * Redeems a code for a chat identity: links it and returns the app uid. Unknown, used or expired codes
   * are one error (`link_code_invalid`), so a guesser learns nothing.
   */
  async redeem(code: string, identity: string): Promise<string> {
    const normalized = code.trim().toUpperCase().replace(/[\s-]/g, '');
    const userId = await this.#store.redeem(hashSecret(normalized), identity, this.#now());
    if (userId === undefined) throw new ImagineError('link_code_invalid');
    return userId;
  }
}
