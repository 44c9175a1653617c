import type { UserAccounts } from '../accounts/user-accounts.ts';
import type { SqliteDatabase } from '../database/open-database.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { billingPeriod } from '../quota/billing-period.ts';
import type { ChatIdentity } from './chat-images.ts';

/** Who did an admin action, and where (`discord-guild:<id>`, `slack-team:<id>`). */
export interface AdminActor {
  identity: ChatIdentity;
  scopeKey: string | undefined;
}

/** One audited admin action. */
export interface AdminAction {
  at: string;
  actor: string;
  place: string | undefined;
  action: string;
  target: string;
  detail: Record<string, unknown>;
}

/** This place's month, for `/imagine-admin usage`. */
export interface PlaceUsage {
  period: string;
  /** Images charged to people while acting here (counted since the community controls were installed). */
  images: number;
  top: { identity: string; images: number }[];
}

/**
 * The quota_counters subject of the images an identity was charged for at a place (a server, a workspace),
 * for its month totals and top users. Chat generations hand it to the ledger (`tally`), which adds exactly
 * what it charges, whatever the kind (new images, rerolls, variations, remixes, upscales, recovered jobs).
 */
export const placeSubject = (scopeKey: string, identity: string) => `place:${scopeKey}:${identity}`;

/**
 * What `/imagine-admin` does, the same for Discord and Slack: grant extra images this month, set a plan,
 * refund an image, this place's month, block and unblock. Every action is written to `admin_actions` with
 * who did it, in the same transaction as the change. Who counts as an admin is each platform's decision.
 */
export class ChatAdmin {
  readonly #database: SqliteDatabase;
  readonly #accounts: UserAccounts;
  readonly #now: () => Date;
  readonly #statements;

  constructor(database: SqliteDatabase, accounts: UserAccounts, now: () => Date = () => new Date()) {
    this.#database = database;
    this.#accounts = accounts;
    this.#now = now;
    this.#statements = {
      audit: database.prepare<[string, string, string | null, string, string, string], void>(
        'INSERT INTO admin_actions (at, actor, place, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      addCount: database.prepare<[string, string, number], void>(
        `INSERT INTO quota_counters (subject, period, used_images) VALUES (?, ?, ?)
         ON CONFLICT (subject, period) DO UPDATE SET used_images = used_images + excluded.used_images`,
      ),
      placeCounts: database.prepare<[string, string, string], { subject: string; used_images: number }>(
        `SELECT subject, used_images FROM quota_counters
         WHERE subject >= ? AND subject < ? AND period = ? ORDER BY used_images DESC, subject`,
      ),
      generation: database.prepare<[string], { user_id: string; created_at: string }>(
        'SELECT user_id, created_at FROM generations WHERE id = ?',
      ),
      refund: database.prepare<[string, string], void>(
        `UPDATE quota_counters SET used_images = MAX(0, used_images - 1) WHERE subject = ? AND period = ?`,
      ),
      block: database.prepare<[string, string, string], void>(
        'INSERT OR IGNORE INTO chat_blocks (identity, blocked_by, blocked_at) VALUES (?, ?, ?)',
      ),
      unblock: database.prepare<[string], void>('DELETE FROM chat_blocks WHERE identity = ?'),
      isBlocked: database.prepare<[string], { identity: string }>(
        'SELECT identity FROM chat_blocks WHERE identity = ?',
      ),
      actions: database.prepare<
        [number],
        { at: string; actor: string; place: string | null; action: string; target: string; detail: string }
      >('SELECT at, actor, place, action, target, detail FROM admin_actions ORDER BY id DESC LIMIT ?'),
    };
  }

  /** `grant <user> <images>`: extra images this month on the quota the person draws on. */
  async grant(
    actor: AdminActor,
    target: ChatIdentity,
    images: number,
  ): Promise<{ userId: string; extra: number }> {
    if (!Number.isInteger(images) || images < 1 || images > 100_000) {
      throw new ImagineError('validation_error', 'Grant a whole number of images from 1 to 100000.');
    }
    const userId = (await this.#accounts.chatCaller(target)).userId;
    const period = billingPeriod(this.#now());
    // The accounts' store may be another engine's: the grant is made, then audited (no shared transaction).
    await this.#accounts.grants.add(userId, period, images);
    this.#audit(actor, 'grant', target, { images, userId, period });
    return { userId, extra: await this.extraImages(userId) };
  }

  /** Extra images granted to a quota subject for the current month. */
  async extraImages(userId: string): Promise<number> {
    return this.#accounts.grants.extraImages(userId, billingPeriod(this.#now()));
  }

  /** `plan <user> <plan>`: the plan of the quota the person draws on (their linked account, or their own). */
  async setPlan(actor: AdminActor, target: ChatIdentity, plan: string): Promise<{ userId: string }> {
    const userId = (await this.#accounts.chatCaller(target)).userId;
    try {
      await this.#accounts.setPlan(userId, plan);
    } catch (error) {
      throw new ImagineError('validation_error', (error as Error).message);
    }
    this.#audit(actor, 'plan', target, { plan, userId });
    return { userId };
  }

  /** `refund <image id>`: gives back the one image it charged, once, in the month it was charged. */
  refund(actor: AdminActor, imageId: string): { userId: string } {
    const generation = this.#statements.generation.get(imageId.trim());
    if (!generation) throw new ImagineError('not_found', `No image has the id ${imageId.trim()}.`);
    const period = generation.created_at.slice(0, 7);
    try {
      this.#database.transaction(() => {
        this.#audit(actor, 'refund', imageId.trim(), { userId: generation.user_id, period });
        this.#statements.refund.run(`user:${generation.user_id}`, period);
      })();
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new ImagineError('validation_error', 'That image was refunded already.');
      }
      throw error;
    }
    return { userId: generation.user_id };
  }

  /** `usage`: this place's month, with its top five users. */
  placeUsage(actor: AdminActor): PlaceUsage {
    const period = billingPeriod(this.#now());
    if (!actor.scopeKey) return { period, images: 0, top: [] };
    const prefix = placeSubject(actor.scopeKey, '');
    // `;` sorts right after `:`, so [prefix, prefix-with-last-char-bumped) is exactly this place's rows.
    const rows = this.#statements.placeCounts.all(prefix, `${prefix.slice(0, -1)};`, period);
    const images = rows.reduce((total, row) => total + row.used_images, 0);
    this.#audit(actor, 'usage', actor.scopeKey, {});
    return {
      period,
      images,
      top: rows
        .slice(0, 5)
        .map((row) => ({ identity: row.subject.slice(prefix.length), images: row.used_images })),
    };
  }

  /** `block <user>`: the person may not make images here any more (every place of the service). */
  block(actor: AdminActor, target: ChatIdentity): void {
    this.#database.transaction(() => {
      this.#statements.block.run(target, actor.identity, this.#now().toISOString());
      this.#audit(actor, 'block', target, {});
    })();
  }

  unblock(actor: AdminActor, target: ChatIdentity): boolean {
    return this.#database.transaction(() => {
      const removed = this.#statements.unblock.run(target).changes > 0;
      this.#audit(actor, 'unblock', target, { wasBlocked: removed });
      return removed;
    })();
  }

  isBlocked(identity: ChatIdentity): boolean {
    return this.#statements.isBlocked.get(identity) !== undefined;
  }

  /** The latest audited actions, newest first. */
  recentActions(limit = 50): AdminAction[] {
    return this.#statements.actions.all(limit).map((row) => ({
      at: row.at,
      actor: row.actor,
      place: row.place ?? undefined,
      action: row.action,
      target: row.target,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  #audit(actor: AdminActor, action: string, target: string, detail: Record<string, unknown>): void {
    this.#statements.audit.run(
      this.#now().toISOString(),
      actor.identity,
      actor.scopeKey ?? null,
      action,
      target,
      JSON.stringify(detail),
    );
  }
}
