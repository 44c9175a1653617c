import { isoTimestamp } from '../database/iso-timestamp.ts';

/** The calendar month (UTC) an instant falls in, as `YYYY-MM`: the unit every quota counts in. */
export function billingPeriod(instant: Date): string {
  return isoTimestamp(instant).slice(0, 7);
}

/** When the month containing `instant` ends and a new quota begins (first day of next month, 00:00 UTC). */
export function periodResetsAt(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth() + 1, 1));
}

/** When the UTC day containing `instant` ends and a daily allowance begins again (next midnight, UTC). */
export function dayResetsAt(instant: Date): Date {
  return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate() + 1));
}
