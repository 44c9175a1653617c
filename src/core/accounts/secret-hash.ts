import crypto, { createHash, randomBytes } from 'node:crypto';

// Node 20.12 added a one-shot `crypto.hash`, several times cheaper than a Hash object for a short input;
// every request hashes its API key, so it is used where it exists (we still start on 20.11).
const oneShotHash = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/**
 * SHA-256 hex of a high-entropy secret (API key, link code). A fast hash is right here: the secrets are
 * random, not passwords, so there is nothing to brute-force, and lookups stay one index probe.
 */
export function hashSecret(secret: string): string {
  return oneShotHash
    ? oneShotHash('sha256', secret, 'hex')
    : createHash('sha256').update(secret).digest('hex');
}

/** `length` characters drawn uniformly from `alphabet` (rejection sampling keeps it unbiased). */
export function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let result = '';
  while (result.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && result.length < length) result += alphabet[byte % alphabet.length];
    }
  }
  return result;
}
