/**
 * What both quota ledgers (the synchronous SQLite one and the engine-neutral async one) and every engine
 * share: the request and summary shapes, the counter subjects, and the refusals, so engines cannot word a
 * refusal or count a subject differently.
 */
import { isoTimestamp } from '../database/iso-timestamp.ts';
import { ImagineError } from '../errors/imagine-error.ts';
import { dayResetsAt, periodResetsAt } from './billing-period.ts';

/** What a generation asks to hold before any work starts. */
export interface ReservationRequest {
  userId: string;
  /** The user's monthly image limit (from their plan). */
  userLimit: number;
  /** The user's daily image limit (UTC days), held in the same reservation; undefined: no daily cap. */
  userDailyLimit?: number | undefined;
  /** An optional cap shared by everyone in a Discord server or Slack workspace. */
  scope: { key: string; limit: number } | undefined;
  images: number;
  /** What the images will cost at list price; held against the monthly budget. */
  estimatedUsd: number;
  /** The operator's monthly budget in USD, when one is set. */
  budgetUsd: number | undefined;
  /** The job this hold pays for, so recovering the job can release it at once. */
  jobId?: string | undefined;
  /**
   * The ids the images will be recorded under, chosen before any is stored: a hold released without its
   * charge (a crash) names what may have been stored for nothing.
   */
  imageIds?: readonly string[] | undefined;
  /**
   * A counter (a `quota_counters` subject) the charge is also added to when the hold settles, in the same
   * transaction: a chat place's images per person, so `/imagine-admin usage` shows what was charged.
   */
  tally?: string | undefined;
}

/** A hold released without its charge: its images were never recorded, whatever of them was stored. */
export interface AbandonedHold {
  userId: string;
  imageIds: string[];
}

/** A hold on quota, to be committed (for what was produced) or released. */
export interface Reservation {
  id: number;
  userId: string;
  period: string;
  images: number;
  /**
   * What the hold moved besides the user's month, when the process that made it says (a superset is safe):
   * a store may then settle only those counters. Absent (a hold read back, say), it settles every one.
   */
  moved?: HeldCounters | undefined;
}

/** The counters besides the user's month that a hold moved, or may have. */
export interface HeldCounters {
  day: boolean;
  scope: boolean;
  tally: boolean;
  budget: boolean;
}

/** What a hold for `request` may move besides the user's month. */
export function heldCounters(request: ReservationRequest): HeldCounters {
  return {
    day: request.userDailyLimit !== undefined,
    scope: request.scope !== undefined,
    tally: request.tally !== undefined,
    budget: request.budgetUsd !== undefined,
  };
}

/** A user's standing this month. */
export interface UsageSummary {
  period: string;
  /** Images charged (delivered). */
  used: number;
  /** Images held by generations still running. */
  reserved: number;
  limit: number;
  remaining: number;
  resetsAt: Date;
  /** Today's standing (UTC), when the plan has a daily allowance. */
  daily?: DailyUsage | undefined;
}

/** A user's standing today (UTC), against a daily allowance. */
export interface DailyUsage {
  day: string;
  used: number;
  reserved: number;
  limit: number;
  remaining: number;
  resetsAt: Date;
}

export const budgetSubject = 'budget';
export const userSubject = (userId: string) => `user:${userId}`;
export const scopeSubject = (scopeKey: string) => `scope:${scopeKey}`;
// Float sums of prices like 0.003 drift; a budget compare within a micro-dollar is exact enough.
export const usdEpsilon = 1e-9;

/** Refuses a request for no image (or a fraction of one) before any engine is asked. */
export function assertReservable(request: ReservationRequest): void {
  if (!Number.isInteger(request.images) || request.images < 1) {
    throw new RangeError(`a reservation needs at least one image, got ${request.images}`);
  }
}

/** Refuses a negative charge before any engine is asked. */
export function assertChargeable(charge: { images: number }): void {
  if (charge.images < 0) throw new RangeError(`cannot charge ${charge.images} images`);
}

/** The UTC day an instant falls in, as `YYYY-MM-DD`: the period a daily allowance counts in. */
export function dayPeriod(instant: Date): string {
  return isoTimestamp(instant).slice(0, 10);
}

/** Joins image ids for the `image_ids` column; ids are UUIDs, so a comma never occurs in one. */
export function joinImageIds(imageIds: readonly string[] | undefined): string | null {
  return imageIds === undefined || imageIds.length === 0 ? null : imageIds.join(',');
}

/** Splits the `image_ids` column back into ids. */
export function splitImageIds(column: string | null): string[] {
  return column ? column.split(',') : [];
}

export function monthlyLimitReached(limit: number, used: number): ImagineError {
  return new ImagineError('graphics_limit_reached', `Monthly graphics limit reached: ${limit} images`, {
    used,
    limit,
  });
}

export function dailyLimitReached(limit: number, used: number, now: Date): ImagineError {
  const resetsAt = dayResetsAt(now);
  return new ImagineError('graphics_limit_reached', `Daily graphics limit reached: ${limit} images`, {
    used,
    limit,
    limit_period: 'day',
    // Whole seconds, as every other timestamp of the contract.
    resets_at: `${isoTimestamp(resetsAt).slice(0, 19)}Z`,
    retry_after: Math.ceil((resetsAt.getTime() - now.getTime()) / 1000),
  });
}

export function scopeLimitReached(limit: number, used: number): ImagineError {
  return new ImagineError('scope_limit_reached', undefined, { used, limit });
}

export function budgetExhausted(now: Date): ImagineError {
  return new ImagineError('budget_exhausted', undefined, {
    retry_after: Math.ceil((periodResetsAt(now).getTime() - now.getTime()) / 1000),
  });
}

/** A charge whose hold is gone: recovery or the sweeper gave it back, so nothing may be recorded. */
export function holdGivenBack(): ImagineError {
  return new ImagineError(
    'generation_failed',
    'The image took too long and its quota hold was given back; you were not charged',
  );
}

export function usageSummary(
  period: string,
  used: number,
  reserved: number,
  limit: number,
  now: Date,
): UsageSummary {
  return {
    period,
    used,
    reserved,
    limit,
    remaining: Math.max(0, limit - used - reserved),
    resetsAt: periodResetsAt(now),
  };
}

export function dailyUsage(
  day: string,
  used: number,
  reserved: number,
  limit: number,
  now: Date,
): DailyUsage {
  return {
    day,
    used,
    reserved,
    limit,
    remaining: Math.max(0, limit - used - reserved),
    resetsAt: dayResetsAt(now),
  };
}
