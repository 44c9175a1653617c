import type { App } from 'firebase-admin/app';
import { type DecodedIdToken, getAuth } from 'firebase-admin/auth';
import { ImagineError } from '../errors/imagine-error.ts';
import { firebaseRefusal } from './token-refusal.ts';

/** The caller a valid Firebase ID token names; `plan` comes from the custom claim of that name. */
export interface VerifiedFirebaseUser {
  uid: string;
  plan: string | undefined;
  email: string | undefined;
}

/** Checks a Firebase ID token from the mobile app and says whose it is. */
export interface FirebaseTokenVerifier {
  /**
   * Resolves to the token's user; rejects with `unauthorized` for any token that is not good (firebase's
   * error as its cause), or `provider_unavailable` when it could not be checked.
   */
  verify(idToken: string): Promise<VerifiedFirebaseUser>;
}

/** Seconds a caller should wait when Google's signing keys could not be fetched (they are cached for hours). */
const signInRetrySeconds = 30;

/**
 * Verifies ID tokens with firebase-admin (signature against Google's published keys, expiry, audience and
 * issuer; with `checkRevoked`, also a user lookup). A bad token is `unauthorized`: firebase's own message
 * names the project and the reason, which a caller with a bad token has no need to read, so it is kept only
 * as the cause (`firebaseRefusal` turns it into the reason the log gives). When Google cannot be reached
 * the token was not judged at all: `provider_unavailable` with `retry_after`.
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
        // Google's keys out of reach is our outage, not a bad token: the app should retry, not sign out.
        if (firebaseRefusal(error) === 'unavailable') {
          throw new ImagineError(
            'provider_unavailable',
            'Sign-in cannot be checked right now (Google could not be reached); try again shortly',
            { retry_after: signInRetrySeconds },
            { cause: error },
          );
        }
        throw new ImagineError('unauthorized', undefined, {}, { cause: error });
      }
      const plan: unknown = decoded.plan;
      return { uid: decoded.uid, plan: typeof plan === 'string' ? plan : undefined, email: decoded.email };
    },
  };
}
