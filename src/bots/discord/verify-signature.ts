import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** Discord signs `timestamp + body`; a request older than this is refused even when the signature holds. */
export const maximumSignatureAgeSeconds = 5 * 60;

// The DER header of an Ed25519 SubjectPublicKeyInfo: the raw 32-byte key follows it.
const ed25519SpkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** Checks one interaction request: true only for a valid signature over a fresh timestamp. */
export type InteractionSignatureCheck = (
  signatureHex: string | undefined,
  timestamp: string | undefined,
  rawBody: Buffer,
) => boolean;

/**
 * Ed25519 verification of Discord's `X-Signature-Ed25519` over `X-Signature-Timestamp` + raw body, with the
 * application's public key as the developer portal shows it (64 hex characters). Stale or future-dated
 * timestamps (more than five minutes off) fail too, so a captured request cannot be replayed later.
 */
export function createSignatureCheck(
  publicKeyHex: string,
  now: () => Date = () => new Date(),
): InteractionSignatureCheck {
  const key = publicKeyFromHex(publicKeyHex);
  return (signatureHex, timestamp, rawBody) => {
    if (
      !signatureHex ||
      !timestamp ||
      !/^[0-9a-f]{128}$/i.test(signatureHex) ||
      !/^\d{1,15}$/.test(timestamp)
    ) {
      return false;
    }
    const ageSeconds = Math.abs(now().getTime() / 1000 - Number(timestamp));
    if (ageSeconds > maximumSignatureAgeSeconds) return false;
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
    return verify(null, signed, key, Buffer.from(signatureHex, 'hex'));
  };
}

function publicKeyFromHex(publicKeyHex: string): KeyObject {
  if (!/^[0-9a-f]{64}$/i.test(publicKeyHex)) {
    throw new Error('DISCORD_PUBLIC_KEY must be the 64 hex characters the developer portal shows');
  }
  return createPublicKey({
    key: Buffer.concat([ed25519SpkiPrefix, Buffer.from(publicKeyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
}
