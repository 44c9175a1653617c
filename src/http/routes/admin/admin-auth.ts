import type { FastifyRequest } from 'fastify';
import type { AdminActor } from '../../../core/admin/admin-actions.ts';
import { type ConsoleSession, csrfTokenMatches } from '../../../core/admin/console-sessions.ts';
import { ImagineError } from '../../../core/errors/imagine-error.ts';
import type { Services } from '../../../core/imagine-services.ts';
import { createAuthenticator } from '../../auth/authenticate.ts';
import { sessionIdFrom } from '../../console/console-cookie.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin making an /api/v1/admin request; set before the handler runs. */
    adminActor: AdminActor;
  }
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who may use the admin API: a bearer admin API key (scripts), or the console's session cookie, whose
 * state-changing requests must also carry the session's CSRF token in `x-csrf-token`. A valid caller who is
 * not an admin gets 403 `forbidden`; no credentials, or wrong ones, 401.
 */
export function createAdminAuthenticator(
  services: Pick<Services, 'apiKeys' | 'accounts' | 'firebaseTokens' | 'admin'>,
): (request: FastifyRequest) => Promise<AdminActor> {
  const appAuthenticate = createAuthenticator(services);
  return async (request) => {
    if (request.headers.authorization !== undefined) {
      const match = /^Bearer[ \t]+(imk_\S{1,4096})[ \t]*$/i.exec(request.headers.authorization);
      if (match?.[1]) {
        const owner = await services.apiKeys.authenticate(match[1]);
        if (!owner) throw new ImagineError('unauthorized');
        if (!owner.admin) throw new ImagineError('forbidden');
        return { keyPrefix: owner.prefix, userId: owner.userId };
      }
      // Any other valid token (a Firebase user) is a real caller, but never an admin.
      await appAuthenticate(request);
      throw new ImagineError('forbidden');
    }
    const sessionId = sessionIdFrom(request);
    const session: ConsoleSession | undefined = sessionId
      ? await services.admin.sessions.resolve(sessionId)
      : undefined;
    if (!session) throw new ImagineError('unauthorized');
    if (!safeMethods.has(request.method)) {
      const given = request.headers['x-csrf-token'];
      if (!csrfTokenMatches(session, typeof given === 'string' ? given : undefined)) {
        throw new ImagineError('forbidden', 'The request is missing the console session’s CSRF token');
      }
    }
    return { keyPrefix: session.keyPrefix, userId: session.userId };
  };
}
