import type { App } from 'firebase-admin/app';
import { type DecodedIdToken, getAuth } from 'firebase-admin/auth';
import { ImagineError } from '../../core/errors/imagine-error.ts';

/** The caller a valid Firebase ID token names; `plan` comes from the custom claim of that name. */
export interface VerifiedFirebaseUser {
  uid: string;
  plan: string | undefined;
  email: string | undefined;
}

/** Checks a Firebase ID token from the mobile app and says whose it is. */
export interface FirebaseTokenVerifier {
  /** Resolves to the token's user, or rejects with `unauthorized` for any token that is not good. */
  verify(idToken: string): Promise<VerifiedFirebaseUser>;
}

/**
 * Verifies ID tokens with firebase-admin (signature against Google's published keys, expiry, audience and
 * issuer; with `checkRevoked`, also a user lookup). Every failure is `unauthorized`: firebase's own message
 * names the project and the reason, which a caller with a bad token has no need to read, so it is kept only
 * as the cause for the logs.
 */
export function createFirebaseTokenVerifier(settings: {
  app: App;
  checkRevoked: boolean;
}): FirebaseTokenVerifier {
  const auth = getAuth(settings.app);
  return {
    async verify(idToken: string): Promise<VerifiedFirebaseUser> {
      let decoded: DecodedIdToken;
      try {
        decoded = await auth.verifyIdToken(idToken, settings.checkRevoked);
      } catch (error) {
        throw new ImagineError('unauthorized', undefined, {}, { cause: error });
      }
      const plan: unknown = decoded.plan;
      return { uid: decoded.uid, plan: typeof plan === 'string' ? plan : undefined, email: decoded.email };
    },
  };
}
