import { splitImageIds } from './quota-accounting.ts';
import type { HeldReservation, QuotaCounter } from './quota-store.ts';

// The quota tables' rows as every engine reads them (the schemas match column for column), and the one
// mapping from a row to what the ledger works with, so the engines cannot read a row differently.

/** A `quota_counters` row. */
export interface CounterRow {
  used_images: number;
  reserved_images: number;
  spent_usd: number;
  reserved_usd: number;
}

/** A `reservations` row as recovery reads it; PostgreSQL's driver answers a bigint id as a string. */
export interface HeldRow {
  id: number | string;
  user_id: string;
  image_ids: string | null;
}

/** What settling a hold reads back from its `reservations` row. */
export interface SettledRow {
  user_id: string;
  scope_key: string | null;
  period: string;
  images: number;
  held_usd: number;
  day: string | null;
  tally: string | null;
}

const noCounter: QuotaCounter = { usedImages: 0, reservedImages: 0, spentUsd: 0, reservedUsd: 0 };

/** A counter row (or none yet: nothing charged or held) as the ledger's counter. */
export function counterFromRow(row: CounterRow | undefined): QuotaCounter {
  if (!row) return noCounter;
  return {
    usedImages: row.used_images,
    reservedImages: row.reserved_images,
    spentUsd: row.spent_usd,
    reservedUsd: row.reserved_usd,
  };
}

/** What counts against a limit now (charged plus held), for the error a refused hold reports. */
export function heldOrUsedOf(
  row: Pick<CounterRow, 'used_images' | 'reserved_images'> | undefined,
  limit: number,
): number {
  return Math.min(limit, (row?.used_images ?? 0) + (row?.reserved_images ?? 0));
}

/** A held reservation's row as the ledger's `HeldReservation`. */
export function heldReservation(row: HeldRow): HeldReservation {
  return { id: Number(row.id), userId: row.user_id, imageIds: splitImageIds(row.image_ids) };
}
