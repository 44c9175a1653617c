import type { FastifyRequest } from 'fastify';
import type { ApiKeys } from '../../core/accounts/api-keys.ts';
import { apiKeyMarker } from '../../core/accounts/api-keys.ts';
import type { FirebaseTokenVerifier } from '../../core/accounts/firebase-token-verifier.ts';
import { firebaseRefusal, type RefusalReason } from '../../core/accounts/token-refusal.ts';
import type { Caller, UserAccounts } from '../../core/accounts/user-accounts.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';

/**
 * Turns a request's bearer token into the caller whose quota pays, or throws `unauthorized`. An API key is
 * a cached lookup (plus this month's grants); a Firebase ID token is verified.
 */
export type Authenticator = (request: FastifyRequest) => Caller | Promise<Caller>;

/** API keys always; Firebase ID tokens when Firebase is configured. */
export function createAuthenticator(dependencies: {
  apiKeys: ApiKeys;
  accounts: UserAccounts;
  firebaseTokens: FirebaseTokenVerifier | undefined;
}): Authenticator {
  return async (request) => {
    const header = request.headers.authorization;
    const token = bearerToken(header);
    if (!token) throw refused(request, header === undefined ? 'missing' : 'malformed');
    if (token.startsWith(apiKeyMarker)) {
      const owner = await dependencies.apiKeys.authenticate(token);
      if (!owner) throw refused(request, await dependencies.apiKeys.refusalReason(token));
      return dependencies.accounts.callerWithPlan(owner.userId, owner.planName);
    }
    const firebaseTokens = dependencies.firebaseTokens;
    if (!firebaseTokens) throw refused(request, 'firebase not configured');
    return firebaseTokens.verify(token).then(
      async (verified) => {
        await dependencies.accounts.ensureUser(verified.uid, verified.plan);
        return dependencies.accounts.appCaller(verified.uid);
      },
      (error: unknown) => {
        if (ImagineError.isInstance(error) && error.code === 'unauthorized') {
          const reason = firebaseRefusal(error.cause);
          logRefusal(request, reason === 'unavailable' ? 'invalid' : reason);
        }
        throw error;
      },
    );
  };
}

/** The 401 every refusal gets, after the log has said why (the reason only: never the token). */
function refused(request: FastifyRequest, reason: RefusalReason): ImagineError {
  logRefusal(request, reason);
  return new ImagineError('unauthorized');
}

function logRefusal(request: FastifyRequest, reason: RefusalReason): void {
  request.log.info({ reason }, 'authentication refused');
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer[ \t]+(\S{1,4096})[ \t]*$/i.exec(header) : null;
  return match?.[1];
}
