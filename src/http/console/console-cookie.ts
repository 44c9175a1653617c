import type { FastifyReply, FastifyRequest } from 'fastify';

/** The console's session cookie: a random id, HttpOnly, SameSite=Strict, Secure over HTTPS. */
export const sessionCookieName = 'imagine_console';

/** The session id a request's Cookie header carries, if any. */
export function sessionIdFrom(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === sessionCookieName) {
      const value = part.slice(separator + 1).trim();
      return /^[A-Za-z0-9]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** Sets the session cookie for `maxAgeSeconds`, or clears it when `sessionId` is undefined. */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  sessionId: string | undefined,
  maxAgeSeconds: number,
): void {
  // request.protocol honours X-Forwarded-Proto only behind a trusted proxy (TRUST_PROXY).
  const secure = request.protocol === 'https' ? '; Secure' : '';
  const value = sessionId ?? '';
  const age = sessionId === undefined ? 0 : maxAgeSeconds;
  reply.header(
    'set-cookie',
    `${sessionCookieName}=${value}; Path=/; Max-Age=${age}; HttpOnly; SameSite=Strict${secure}`,
  );
}
