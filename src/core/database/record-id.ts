import { randomUUID } from 'node:crypto';

/**
 * A new id for a generation: a UUIDv7 (RFC 9562), whose text sorts by creation time, so a user's newest
 * images come first in id order and new rows append to the index instead of splitting pages at random.
 * Its 74 random bits keep image URLs unguessable. Built from node's pooled `randomUUID()` because the
 * `uuid` package's v7 costs twenty times as much, and this runs for every image.
 */
export function newRecordId(createdAt: Date): string {
  const time = Math.max(0, Math.floor(createdAt.getTime())).toString(16).padStart(12, '0');
  const random = randomUUID();
  // random: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; keep its variant nibble (V) and random bits.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
