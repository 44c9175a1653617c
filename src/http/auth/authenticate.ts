import type { FastifyRequest } from 'fastify';
import type { ApiKeys } from '../../core/accounts/api-keys.ts';
import { apiKeyMarker } from '../../core/accounts/api-keys.ts';
import type { Caller, UserAccounts } from '../../core/accounts/user-accounts.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import type { FirebaseTokenVerifier } from './firebase-token-verifier.ts';

/**
 * Turns a request's bearer token into the caller whose quota pays, or throws `unauthorized`. An API key is
 * answered at once (a cached lookup); only a Firebase ID token needs a promise.
 */
export type Authenticator = (request: FastifyRequest) => Caller | Promise<Caller>;

/** API keys always; Firebase ID tokens when Firebase is configured. */
export function createAuthenticator(dependencies: {
  apiKeys: ApiKeys;
  accounts: UserAccounts;
  firebaseTokens: FirebaseTokenVerifier | undefined;
}): Authenticator {
  return (request) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new ImagineError('unauthorized');
    if (token.startsWith(apiKeyMarker)) {
      const owner = dependencies.apiKeys.authenticate(token);
      if (!owner) throw new ImagineError('unauthorized');
      return dependencies.accounts.callerWithPlan(owner.userId, owner.planName);
    }
    const firebaseTokens = dependencies.firebaseTokens;
    if (!firebaseTokens) throw new ImagineError('unauthorized');
    return firebaseTokens.verify(token).then((verified) => {
      dependencies.accounts.ensureUser(verified.uid, verified.plan);
      return dependencies.accounts.appCaller(verified.uid);
    });
  };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer[ \t]+(\S{1,4096})[ \t]*$/i.exec(header) : null;
  return match?.[1];
}
