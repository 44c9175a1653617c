import { newRecordId } from '../database/record-id.ts';
import type { ApiKeyStore, ApiKeySummary } from './api-key-store.ts';
import { hashSecret, randomString } from './secret-hash.ts';
import type { UserAccounts } from './user-accounts.ts';

export type { ApiKeySummary } from './api-key-store.ts';

const maximumCachedKeys = 10_000;
const keyAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The user a valid key belongs to, and their plan as stored (undefined: the default plan). */
export interface KeyOwner {
  userId: string;
  planName: string | undefined;
  /** The key's row id and listed prefix, so a console session or an audit row can name it. */
  keyId: string;
  prefix: string;
  /** Whether the key may use the admin API and sign in to the console. */
  admin: boolean;
}

/** Every API key starts with this, so scanners and people can tell what it is. */
export const apiKeyMarker = 'imk_';
// 12 characters (imk_ + 8) identify a key in listings and for revocation without revealing it.
const prefixLength = 12;

/** API keys (`imk_…`) for operators and scripts, stored only as SHA-256 hashes. */
export class ApiKeys {
  readonly #store: ApiKeyStore;
  readonly #accounts: UserAccounts;
  readonly #now: () => Date;
  /**
   * Valid keys seen recently, by hash. Every request authenticates, and this spares it a database read;
   * the cache is dropped whenever keys or plans may have changed: here (create, revoke, plan change) or in
   * another process (the CLI revoking a key), so a revoked key stops working at once.
   */
  readonly #owners = new Map<string, KeyOwner>();
  #ownersPlanChanges = 0;
  /**
   * Counts drops of the cache. A read that began before a drop may have seen what the drop was for (a
   * revoke committing meanwhile), so its answer is used but not cached.
   */
  #drops = 0;

  constructor(store: ApiKeyStore, accounts: UserAccounts, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#accounts = accounts;
    this.#now = now;
  }

  /** Creates a key for a user (creating the user if new, with `plan` when given). Returns the key once. */
  async create(
    userId: string,
    options: { plan?: string | undefined; label?: string | undefined; admin?: boolean | undefined } = {},
  ): Promise<string> {
    const key = `${apiKeyMarker}${randomString(keyAlphabet, 40)}`;
    // The account first (a key needs its owner); a plan given replaces the stored one, as it always did.
    if (options.plan !== undefined) await this.#accounts.setPlan(userId, options.plan);
    else await this.#accounts.ensureUser(userId);
    const createdAt = this.#now();
    await this.#store.insert({
      // Time-ordered (UUIDv7), so keys made in the same millisecond still list in the order they were made.
      id: newRecordId(createdAt),
      prefix: key.slice(0, prefixLength),
      keyHash: hashSecret(key),
      userId,
      label: options.label ?? null,
      createdAt,
      admin: options.admin === true,
    });
    return key;
  }

  /** The user a valid, unrevoked key belongs to; undefined for anything else. */
  authenticate(key: string): Promise<KeyOwner | undefined> {
    if (!key.startsWith(apiKeyMarker)) return Promise.resolve(undefined);
    const hash = hashSecret(key);
    // Every request comes here: a cached key is answered without awaiting anything, unless the store
    // must look for other processes' changes first (at most every 250 ms).
    try {
      const changedElsewhere = this.#store.changedElsewhere();
      if (typeof changedElsewhere !== 'boolean') {
        return changedElsewhere.then((changed) => this.#ownerOf(hash, changed));
      }
      return this.#ownerOf(hash, changedElsewhere);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #ownerOf(hash: string, changedElsewhere: boolean): Promise<KeyOwner | undefined> {
    const planChanges = this.#accounts.planChanges;
    if (changedElsewhere || planChanges !== this.#ownersPlanChanges) {
      this.#dropCache();
      this.#ownersPlanChanges = planChanges;
    }
    const cached = this.#owners.get(hash);
    return cached ? Promise.resolve(cached) : this.#read(hash);
  }

  async #read(hash: string): Promise<KeyOwner | undefined> {
    const drops = this.#drops;
    const row = await this.#store.byHash(hash);
    if (!row || row.revoked) return undefined;
    const owner: KeyOwner = {
      userId: row.userId,
      planName: row.plan,
      keyId: row.id,
      prefix: row.prefix,
      admin: row.admin,
    };
    if (drops === this.#drops) {
      // Bounded: only valid keys are cached, and an operator has far fewer than this.
      if (this.#owners.size >= maximumCachedKeys) this.#owners.clear();
      this.#owners.set(hash, owner);
    }
    return owner;
  }

  /** Why `authenticate` refused this key, for the log: no such key, or one that was revoked. */
  async refusalReason(key: string): Promise<'unknown key' | 'revoked key'> {
    const row = await this.#store.byHash(hashSecret(key));
    return row?.revoked ? 'revoked key' : 'unknown key';
  }

  #dropCache(): void {
    this.#owners.clear();
    this.#drops++;
  }

  /**
   * Revokes the key whose prefix starts with `prefix` (at least `imk_` and 4 more characters). Refuses a
   * prefix that matches several keys, so one typo cannot revoke the wrong ones. Returns the revoked prefix.
   */
  async revoke(prefix: string): Promise<string> {
    if (!prefix.startsWith(apiKeyMarker) || prefix.length < apiKeyMarker.length + 4) {
      throw new Error(
        `give at least the first ${apiKeyMarker.length + 4} characters of the key (${apiKeyMarker}xxxx)`,
      );
    }
    const matches = await this.#store.prefixesStartingWith(prefix.slice(0, prefixLength));
    const [match, ...others] = matches;
    if (!match) throw new Error(`no API key starts with ${prefix}`);
    if (others.length > 0)
      throw new Error(`${matches.length} keys start with ${prefix}; give more characters`);
    await this.#store.revoke(match, this.#now());
    this.#dropCache();
    return match;
  }

  /** Every key, revoked ones too, without the secret. */
  async list(): Promise<ApiKeySummary[]> {
    return this.#store.list();
  }

  /** How many keys exist (revoked included): zero means a fresh install. */
  async count(): Promise<number> {
    return this.#store.count();
  }
}
