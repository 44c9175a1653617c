import { timingSafeEqual } from 'node:crypto';
import { hashSecret, randomString } from '../accounts/secret-hash.ts';
import type { ConsoleSessionStore } from './console-session-store.ts';

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

/**
 * Console sign-ins. The cookie holds a random session id; only its hash is stored, so a copy of the
 * database signs nobody in. A session resolves only while it is unexpired and its admin key unrevoked,
 * which is what revokes sessions with their key (from the console or the CLI alike).
 */
export class ConsoleSessions {
  readonly #store: ConsoleSessionStore;
  readonly #now: () => Date;
  readonly #lifetimeMs: number;

  constructor(store: ConsoleSessionStore, options: { lifetimeHours: number; now?: () => Date }) {
    this.#store = store;
    this.#now = options.now ?? (() => new Date());
    this.#lifetimeMs = options.lifetimeHours * 3_600_000;
  }

  /** How long a new session lasts, in seconds (the cookie's Max-Age). */
  get lifetimeSeconds(): number {
    return Math.floor(this.#lifetimeMs / 1000);
  }

  /** Starts a session for an admin key (already checked by the caller); returns the cookie's value. */
  async create(keyId: string): Promise<string> {
    const now = this.#now();
    const sessionId = randomString(sessionAlphabet, sessionIdLength);
    // Sign-ins are rare: the moment to sweep sessions nobody will use again (the store does, with it).
    await this.#store.create({
      idHash: hashSecret(sessionId),
      keyId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.#lifetimeMs),
    });
    return sessionId;
  }

  /** The live session behind a cookie value; undefined when forged, expired, signed out or revoked. */
  async resolve(sessionId: string): Promise<ConsoleSession | undefined> {
    if (sessionId.length !== sessionIdLength) return undefined;
    const stored = await this.#store.live(hashSecret(sessionId), this.#now());
    if (!stored) return undefined;
    return { ...stored, csrfToken: csrfTokenFor(sessionId) };
  }

  /** Ends a session (signing out). */
  async remove(sessionId: string): Promise<void> {
    await this.#store.remove(hashSecret(sessionId));
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
