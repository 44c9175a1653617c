import { hash, randomBytes } from 'node:crypto';

/**
 * SHA-256 hex of a high-entropy secret (API key, link code). A fast hash is right here: the secrets are
 * random, not passwords, so there is nothing to brute-force, and lookups stay one index probe.
 */
export function hashSecret(secret: string): string {
  // The one-shot `crypto.hash` (every supported Node has it): several times cheaper than a Hash object for a
  // short input, and every request hashes its API key.
  return hash('sha256', secret, 'hex');
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
