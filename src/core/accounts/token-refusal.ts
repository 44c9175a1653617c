/**
 * Why a bearer token was refused, as the log says it (at info, never with the token): a 401 tells the
 * caller only "Invalid or expired token", and the operator needs more to help them.
 */
export type RefusalReason =
  | 'missing'
  | 'malformed'
  | 'unknown key'
  | 'revoked key'
  | 'firebase not configured'
  | 'expired'
  | 'revoked'
  | 'wrong project'
  | 'bad signature'
  | 'user disabled'
  | 'unknown user'
  | 'invalid';

/** Codes firebase-admin gives a token it will not accept, whatever the message. */
const refusalCodes: Record<string, RefusalReason> = {
  'auth/id-token-expired': 'expired',
  'auth/id-token-revoked': 'revoked',
  'auth/user-disabled': 'user disabled',
  'auth/user-not-found': 'unknown user',
};

/** Codes that mean we could not check the token at all (Google unreachable, or answering 5xx). */
const unavailableCodes = new Set(['auth/internal-error', 'app/network-error', 'app/network-timeout']);

/**
 * firebase-admin's error from `verifyIdToken` → why the token was refused, or `unavailable` when the fault
 * was on the way to Google: its signing keys (or, with checkRevoked, the user) could not be fetched.
 * firebase-admin reports a failed key fetch as `auth/argument-error` like a bad token, so its message is
 * read too, from the start only: later parts of some messages quote the token's own claims.
 */
export function firebaseRefusal(error: unknown): RefusalReason | 'unavailable' {
  const { code, message } = codeAndMessage(error);
  const known = refusalCodes[code];
  if (known) return known;
  if (unavailableCodes.has(code)) return 'unavailable';
  return messageReasons.find(([pattern]) => pattern.test(message))?.[1] ?? 'invalid';
}

/** firebase-admin's messages, by how they start (13.x: auth/token-verifier.js and utils/jwt.js). */
const messageReasons: readonly (readonly [RegExp, RefusalReason | 'unavailable'])[] = [
  [/^(?:Error fetching public keys|Error while making requests?\b)/, 'unavailable'],
  [/^Firebase ID token has incorrect "(?:aud|iss)"/, 'wrong project'],
  [
    /^(?:Firebase ID token has (?:invalid signature|"kid" claim which does not)|Invalid token signature)/,
    'bad signature',
  ],
  [
    /^(?:Decoding Firebase ID token failed|Firebase ID token has (?:no "kid"|incorrect algorithm|no "sub"|an empty "sub"|a "sub")|First argument to|\S+ expects an? |The provided token must be)/,
    'malformed',
  ],
];

function codeAndMessage(error: unknown): { code: string; message: string } {
  if (typeof error !== 'object' || error === null) return { code: '', message: '' };
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : '', message: typeof message === 'string' ? message : '' };
}
