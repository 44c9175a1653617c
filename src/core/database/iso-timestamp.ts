let cachedTime = Number.NaN;
let cachedText = '';

/**
 * `instant.toISOString()`, remembered for the last instant formatted. Every request stamps several rows
 * (job, quota hold, generation) with the same clock reading, and under load many requests share a
 * millisecond; formatting a Date costs about a microsecond, which made it one of the request path's
 * larger costs. The cache is keyed by the exact time, so any clock (a test's fixed one included) gets
 * exactly what `toISOString` gives.
 */
export function isoTimestamp(instant: Date): string {
  const time = instant.getTime();
  if (time !== cachedTime) {
    cachedText = instant.toISOString();
    cachedTime = time;
  }
  return cachedText;
}
