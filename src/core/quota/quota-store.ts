import type { ReservationRequest } from './quota-accounting.ts';

/** What a settled hold charges: images produced (≤ held) and their list price. */
export interface Charge {
  images: number;
  costUsd: number;
}

/** The user's monthly counter as a settle left it, and the month the hold belonged to. */
export interface SettledHold {
  period: string;
  used: number;
  reserved: number;
}

/** One counter row (a subject in a period); zeros when nothing was ever counted there. */
export interface QuotaCounter {
  usedImages: number;
  reservedImages: number;
  spentUsd: number;
  reservedUsd: number;
}

/** A hold still on the books, with the image ids it named so a sweep can remove what was stored. */
export interface HeldReservation {
  id: number;
  userId: string;
  imageIds: string[];
}

/**
 * The quota ledger's persistence, one engine per folder (`sqlite/`, `postgres/`). Each method is one atomic
 * unit on its engine: `hold` never takes a counter past its limit under any concurrency, and `settle`
 * charges every counter of a hold in the same transaction that removes it.
 */
export interface QuotaStore {
  /**
   * Holds the request against the user's monthly and daily limits, the scope's cap and the budget, all or
   * nothing, as of `now`. Throws the refusal (`graphics_limit_reached`, `scope_limit_reached`,
   * `budget_exhausted`) built by `quota-accounting.ts`, so both engines word it the same.
   */
  hold(request: ReservationRequest, now: Date): Promise<{ id: number; period: string }>;
  /**
   * Charges `charge` and gives back the rest of the hold, then removes it. Answers undefined when the hold
   * was settled before (a retry never charges twice); throws RangeError when charging more than was held.
   */
  settle(reservationId: number, charge: Charge): Promise<SettledHold | undefined>;
  /** One counter's standing. */
  counter(subject: string, period: string): Promise<QuotaCounter>;
  /** Holds made before `before` that nobody settled. */
  heldBefore(before: Date): Promise<HeldReservation[]>;
  /** Holds a job still has. */
  heldForJob(jobId: string): Promise<HeldReservation[]>;
  /** Ids of every hold still on the books. */
  heldIds(): Promise<number[]>;
  /** Takes charged images (and cost) back off a user's month; counters never go below zero. */
  refund(userId: string, period: string, charge: Charge): Promise<void>;
}
