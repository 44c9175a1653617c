/** A stored session as it resolves: its admin key and that key's owner. */
export interface StoredConsoleSession {
  keyId: string;
  keyPrefix: string;
  userId: string;
  expiresAt: Date;
}

/** Console sessions by the hash of their cookie's id, one engine per folder (`sqlite/`, `postgres/`). */
export interface ConsoleSessionStore {
  /** Stores a new session, and removes every session expired by its `createdAt`. */
  create(session: { idHash: string; keyId: string; createdAt: Date; expiresAt: Date }): Promise<void>;
  /** The session with this hash while it is unexpired at `now` and its key an unrevoked admin key. */
  live(idHash: string, now: Date): Promise<StoredConsoleSession | undefined>;
  remove(idHash: string): Promise<void>;
}
