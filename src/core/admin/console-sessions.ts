import { timingSafeEqual } from 'node:crypto';
import { hashSecret, randomString } from '../accounts/secret-hash.ts';
import { isoTimestamp } from '../database/iso-timestamp.ts';
import type { SqliteDatabase } from '../database/open-database.ts';

const sessionAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// 43 characters of 62 ≈ 256 bits: as unguessable as the admin key the session stands for.
const sessionIdLength = 43;

/** A signed-in console session, as its cookie resolves. */
export interface ConsoleSession {
  keyId: string;
  keyPrefix: string;
  userId: string;
  expiresAt: Date;
  /** The token the console's state-changing requests must echo (derived from the session id). */
  csrfToken: string;
}

interface SessionRow {
  key_id: string;
  prefix: string;
  user_id: string;
  expires_at: string;
}

/**
 * Console sign-ins. The cookie holds a random session id; only its hash is stored, so a copy of the
 * database signs nobody in. A session resolves only while it is unexpired and its admin key unrevoked,
 * which is what revokes sessions with their key (from the console or the CLI alike).
 */
export class ConsoleSessions {
  readonly #now: () => Date;
  readonly #lifetimeMs: number;
  readonly #statements;

  constructor(database: SqliteDatabase, options: { lifetimeHours: number; now?: () => Date }) {
    this.#now = options.now ?? (() => new Date());
    this.#lifetimeMs = options.lifetimeHours * 3_600_000;
    this.#statements = {
      insert: database.prepare<[string, string, string, string], void>(
        'INSERT INTO console_sessions (id_hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
      ),
      lookup: database.prepare<[string, string], SessionRow>(
        `SELECT console_sessions.key_id, api_keys.prefix, api_keys.user_id, console_sessions.expires_at
         FROM console_sessions JOIN api_keys ON api_keys.id = console_sessions.key_id
         WHERE console_sessions.id_hash = ? AND console_sessions.expires_at > ?
           AND api_keys.revoked_at IS NULL AND api_keys.admin = 1`,
      ),
      remove: database.prepare<[string], void>('DELETE FROM console_sessions WHERE id_hash = ?'),
      removeExpired: database.prepare<[string], void>('DELETE FROM console_sessions WHERE expires_at <= ?'),
    };
  }

  /** How long a new session lasts, in seconds (the cookie's Max-Age). */
  get lifetimeSeconds(): number {
    return Math.floor(this.#lifetimeMs / 1000);
  }

  /** Starts a session for an admin key (already checked by the caller); returns the cookie's value. */
  create(keyId: string): string {
    const now = this.#now();
    // Sign-ins are rare: the moment to sweep sessions nobody will use again.
    this.#statements.removeExpired.run(isoTimestamp(now));
    const sessionId = randomString(sessionAlphabet, sessionIdLength);
    this.#statements.insert.run(
      hashSecret(sessionId),
      keyId,
      isoTimestamp(now),
      isoTimestamp(new Date(now.getTime() + this.#lifetimeMs)),
    );
    return sessionId;
  }

  /** The live session behind a cookie value; undefined when forged, expired, signed out or revoked. */
  resolve(sessionId: string): ConsoleSession | undefined {
    if (sessionId.length !== sessionIdLength) return undefined;
    const row = this.#statements.lookup.get(hashSecret(sessionId), isoTimestamp(this.#now()));
    if (!row) return undefined;
    return {
      keyId: row.key_id,
      keyPrefix: row.prefix,
      userId: row.user_id,
      expiresAt: new Date(row.expires_at),
      csrfToken: csrfTokenFor(sessionId),
    };
  }

  /** Ends a session (signing out). */
  remove(sessionId: string): void {
    this.#statements.remove.run(hashSecret(sessionId));
  }
}

/**
 * The CSRF token of a session: a hash of its id under a fixed label. A page of ours is given it; another
 * site cannot read our cookie, so it cannot compute it, and nothing needs storing.
 */
export function csrfTokenFor(sessionId: string): string {
  return hashSecret(`imagine-console-csrf:${sessionId}`);
}

/** Whether a token a request carries is the session's, compared in constant time. */
export function csrfTokenMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (given === undefined || given.length !== session.csrfToken.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(session.csrfToken));
}
