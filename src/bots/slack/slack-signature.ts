import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack refuses to act on requests older than five minutes; so do we (replay protection). */
export const slackReplayWindowSeconds = 5 * 60;

/** Why a request was refused, for the log line; the caller only ever sees 401. */
export type SlackSignatureProblem = 'missing_headers' | 'stale_timestamp' | 'bad_signature';

/** The `v0=` signature Slack puts in `X-Slack-Signature`: HMAC-SHA256 of `v0:{timestamp}:{raw body}`. */
export function signSlackRequest(
  signingSecret: string,
  timestampSeconds: number,
  rawBody: string | Buffer,
): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestampSeconds}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Checks a request exactly as Slack signs it, on the raw bytes before any parsing: the timestamp must be
 * within the replay window (either side, so a skewed clock cannot mint future-dated requests), and the
 * signature must match in constant time. Returns undefined when the request is genuine.
 */
export function checkSlackSignature(request: {
  signingSecret: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  nowSeconds: number;
}): SlackSignatureProblem | undefined {
  const { signature, timestamp } = request;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return 'missing_headers';
  const timestampSeconds = Number(timestamp);
  if (Math.abs(request.nowSeconds - timestampSeconds) > slackReplayWindowSeconds) return 'stale_timestamp';
  const expected = Buffer.from(signSlackRequest(request.signingSecret, timestampSeconds, request.rawBody));
  const given = Buffer.from(signature);
  // timingSafeEqual throws on a length mismatch; the length of a well-formed signature is public anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
  return undefined;
}
