import { randomUUID } from 'node:crypto';
import { ExternalChangeWatch } from '../database/external-change-watch.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import { hashSecret, randomString } from './secret-hash.ts';
import type { UserAccounts } from './user-accounts.ts';

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

/** An API key as listed: never the key itself, which exists only at creation. */
export interface ApiKeySummary {
  prefix: string;
  userId: string;
  label: string | null;
  admin: boolean;
  createdAt: string;
  revokedAt: string | null;
}

interface KeyRow {
  prefix: string;
  user_id: string;
  label: string | null;
  admin: number;
  created_at: string;
  revoked_at: string | null;
}

/** API keys (`imk_…`) for operators and scripts, stored only as SHA-256 hashes. */
export class ApiKeys {
  readonly #database: SqliteDatabase;
  readonly #accounts: UserAccounts;
  readonly #now: () => Date;
  readonly #statements;
  /**
   * Valid keys seen recently, by hash. Every request authenticates, and this spares it a database read;
   * the cache is dropped whenever keys or plans may have changed: here (create, revoke, plan change) or in
   * another process (the CLI revoking a key), so a revoked key stops working at once.
   */
  readonly #owners = new Map<string, KeyOwner>();
  readonly #externalChanges: ExternalChangeWatch;
  #ownersPlanChanges = 0;

  constructor(database: SqliteDatabase, accounts: UserAccounts, now: () => Date = () => new Date()) {
    this.#database = database;
    this.#accounts = accounts;
    this.#now = now;
    this.#externalChanges = new ExternalChangeWatch(database, () => now().getTime());
    this.#statements = {
      insert: database.prepare(
        'INSERT INTO api_keys (id, prefix, key_hash, user_id, label, created_at, admin) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      // The owner's plan comes with the key: one read per request instead of two.
      byHash: database.prepare<
        [string],
        {
          id: string;
          prefix: string;
          admin: number;
          user_id: string;
          revoked_at: string | null;
          plan: string | null;
        }
      >(
        `SELECT api_keys.id, api_keys.prefix, api_keys.admin, api_keys.user_id, api_keys.revoked_at, users.plan
         FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE api_keys.key_hash = ?`,
      ),
      matchingPrefix: database.prepare<[string], { prefix: string }>(
        "SELECT prefix FROM api_keys WHERE prefix LIKE ? ESCAPE '\\'",
      ),
      revoke: database.prepare('UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL'),
      list: database.prepare<[], KeyRow>(
        'SELECT prefix, user_id, label, admin, created_at, revoked_at FROM api_keys ORDER BY created_at',
      ),
      count: database.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM api_keys'),
    };
  }

  /** Creates a key for a user (creating the user if new, with `plan` when given). Returns the key once. */
  create(
    userId: string,
    options: { plan?: string | undefined; label?: string | undefined; admin?: boolean | undefined } = {},
  ): string {
    const key = `${apiKeyMarker}${randomString(keyAlphabet, 40)}`;
    this.#database.transaction(() => {
      if (options.plan !== undefined) this.#accounts.setPlan(userId, options.plan);
      else this.#accounts.ensureUser(userId);
      this.#statements.insert.run(
        randomUUID(),
        key.slice(0, prefixLength),
        hashSecret(key),
        userId,
        options.label ?? null,
        this.#now().toISOString(),
        options.admin === true ? 1 : 0,
      );
    })();
    return key;
  }

  /** The user a valid, unrevoked key belongs to; undefined for anything else. */
  authenticate(key: string): KeyOwner | undefined {
    if (!key.startsWith(apiKeyMarker)) return undefined;
    const hash = hashSecret(key);
    this.#dropCacheIfStale();
    const cached = this.#owners.get(hash);
    if (cached) return cached;
    const row = this.#statements.byHash.get(hash);
    if (!row || row.revoked_at !== null) return undefined;
    const owner: KeyOwner = {
      userId: row.user_id,
      planName: row.plan ?? undefined,
      keyId: row.id,
      prefix: row.prefix,
      admin: row.admin === 1,
    };
    // Bounded: only valid keys are cached, and an operator has far fewer than this.
    if (this.#owners.size >= maximumCachedKeys) this.#owners.clear();
    this.#owners.set(hash, owner);
    return owner;
  }

  /** Why `authenticate` refused this key, for the log: no such key, or one that was revoked. */
  refusalReason(key: string): 'unknown key' | 'revoked key' {
    const row = this.#statements.byHash.get(hashSecret(key));
    return row?.revoked_at ? 'revoked key' : 'unknown key';
  }

  #dropCacheIfStale(): void {
    const planChanges = this.#accounts.planChanges;
    if (this.#externalChanges.changedSinceLastCheck() || planChanges !== this.#ownersPlanChanges) {
      this.#owners.clear();
      this.#ownersPlanChanges = planChanges;
    }
  }

  /**
   * Revokes the key whose prefix starts with `prefix` (at least `imk_` and 4 more characters). Refuses a
   * prefix that matches several keys, so one typo cannot revoke the wrong ones. Returns the revoked prefix.
   */
  revoke(prefix: string): string {
    if (!prefix.startsWith(apiKeyMarker) || prefix.length < apiKeyMarker.length + 4) {
      throw new Error(
        `give at least the first ${apiKeyMarker.length + 4} characters of the key (${apiKeyMarker}xxxx)`,
      );
    }
    const escaped = prefix.slice(0, prefixLength).replace(/[%_\\]/g, (character) => `\\${character}`);
    const matches = this.#statements.matchingPrefix.all(`${escaped}%`);
    const [match, ...others] = matches;
    if (!match) throw new Error(`no API key starts with ${prefix}`);
    if (others.length > 0)
      throw new Error(`${matches.length} keys start with ${prefix}; give more characters`);
    this.#statements.revoke.run(this.#now().toISOString(), match.prefix);
    this.#owners.clear();
    return match.prefix;
  }

  /** Every key, revoked ones too, without the secret. */
  list(): ApiKeySummary[] {
    return this.#statements.list.all().map((row) => ({
      prefix: row.prefix,
      userId: row.user_id,
      label: row.label,
      admin: row.admin === 1,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    }));
  }

  /** How many keys exist (revoked included): zero means a fresh install. */
  count(): number {
    return this.#statements.count.get()?.count ?? 0;
  }
}
