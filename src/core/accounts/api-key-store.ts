/** A key as `ApiKeys.create` stores it: the secret only as its hash, the prefix to list it by. */
export interface NewApiKey {
  id: string;
  prefix: string;
  keyHash: string;
  userId: string;
  label: string | null;
  createdAt: Date;
  admin: boolean;
}

/** The key a hash belongs to, with its owner's stored plan (one read per request, not two). */
export interface StoredApiKey {
  id: string;
  prefix: string;
  userId: string;
  admin: boolean;
  revoked: boolean;
  /** The owner's plan name; undefined when they have none (the default plan applies). */
  plan: string | undefined;
}

/** An API key as listed: never the key itself, which exists only at creation. */
export interface ApiKeySummary {
  prefix: string;
  userId: string;
  label: string | null;
  admin: boolean;
  /** ISO instants (`2026-05-01T10:00:00.000Z`), the same on every engine. */
  createdAt: string;
  revokedAt: string | null;
}

/**
 * The rows behind `ApiKeys`, one engine per folder (`sqlite/`, `postgres/`). It sees only hashes; every
 * method is one statement on its engine.
 */
export interface ApiKeyStore {
  /** Stores a new key; its owner's account must exist. */
  insert(key: NewApiKey): Promise<void>;
  /** The key with this hash, revoked or not; undefined when there is none. */
  byHash(keyHash: string): Promise<StoredApiKey | undefined>;
  /** Listed prefixes that start with `start` (compared exactly, case and all). */
  prefixesStartingWith(start: string): Promise<string[]>;
  /** Revokes the key with this prefix, unless it was revoked before. */
  revoke(prefix: string, now: Date): Promise<void>;
  /** Every key, revoked ones too, oldest first. */
  list(): Promise<ApiKeySummary[]>;
  /** How many keys exist, revoked included. */
  count(): Promise<number>;
  /**
   * True once after another process may have revoked a key or changed a plan; looked at most every 250 ms
   * (`externalChangeLatencyMs`), so a cache of keys it guards is that stale at worst. A boolean when it can
   * answer at once (most calls: this is on every request's path), a promise when it must ask the database.
   */
  changedElsewhere(): boolean | Promise<boolean>;
}
