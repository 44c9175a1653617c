/** The longest we ask a client to wait between polls, however long the line ahead of its job. */
const longestPollSeconds = 10;

/**
 * How many seconds a client should wait before polling a job (the `Retry-After` of a 202 and of a job
 * still in progress): a second while it runs, about two more per job ahead of it in the caller's line.
 */
export function pollAfterSeconds(position: number): number {
  return Math.min(longestPollSeconds, 1 + 2 * Math.max(0, position));
}
