import { v7 as uuidV7 } from 'uuid';

/**
 * A new id for a ledger or history row: a UUIDv7, whose text sorts by creation time. New rows therefore
 * land at the end of the primary-key b-tree instead of splitting pages at random (a random UUID made the
 * reservation insert the slowest step of a reservation), and a time window is a primary-key range.
 */
export function newRecordId(createdAt: Date): string {
  // The time comes from the caller's clock, so ids and created_at agree even under a test clock.
  return uuidV7({ msecs: createdAt.getTime() });
}

/** The smallest id that `newRecordId()` could have produced at or after `time`. */
export function recordIdFloor(time: Date): string {
  const hex = Math.max(0, Math.floor(time.getTime())).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}
