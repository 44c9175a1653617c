import { randomUUID } from 'node:crypto';

let lastMilliseconds = -1;
let sequence = 0;
// The id's time part, formatted once per millisecond: under load many ids share one.
let timePrefix = '';

/**
 * A new id for a generation: a UUIDv7 (RFC 9562), whose text sorts by creation time, so a user's newest
 * images come first in id order and new rows append to the index instead of splitting pages at random.
 * Within one millisecond, ids from this process still increase (a 12-bit counter in `rand_a`), so the
 * images of a batch keep their order. The other 62 random bits keep image URLs unguessable. Built from
 * node's pooled `randomUUID()` because the `uuid` package's v7 costs twenty times as much.
 */
export function newRecordId(createdAt: Date): string {
  let milliseconds = Math.max(0, Math.floor(createdAt.getTime()));
  if (milliseconds <= lastMilliseconds) {
    milliseconds = lastMilliseconds;
    sequence++;
    if (sequence > 0xfff) {
      // 4096 ids in one millisecond: borrow the next one, as RFC 9562 allows.
      milliseconds++;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  if (milliseconds !== lastMilliseconds) {
    const time = milliseconds.toString(16).padStart(12, '0');
    timePrefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
  }
  lastMilliseconds = milliseconds;
  // random: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; keep its variant nibble (V) and random bits.
  return `${timePrefix}${sequence.toString(16).padStart(3, '0')}-${randomUUID().slice(19)}`;
}

/** The smallest id `newRecordId` could give at or after `time`: a lower bound for an id range scan. */
export function recordIdFloor(time: Date): string {
  const hex = Math.max(0, Math.floor(time.getTime())).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}
