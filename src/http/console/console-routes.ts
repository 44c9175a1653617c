import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { csrfTokenMatches } from '../../core/admin/console-sessions.ts';
import { ImagineError } from '../../core/errors/imagine-error.ts';
import type { Services } from '../../core/imagine-services.ts';
import { sessionIdFrom, setSessionCookie } from './console-cookie.ts';
import { contentSecurityPolicy } from './content-security-policy.ts';

const assetsFolder = path.join(import.meta.dirname, 'assets');
const mediaTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Every asset, read once at start: a handful of small files, and nothing outside the folder is servable. */
function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const name of fs.readdirSync(assetsFolder)) {
    const type = mediaTypes[path.extname(name)];
    if (type) assets.set(name, { body: fs.readFileSync(path.join(assetsFolder, name)), type });
  }
  return assets;
}

function page(name: 'sign-in' | 'console'): string {
  return fs.readFileSync(path.join(import.meta.dirname, `${name}.html`), 'utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * The operator console at `/console`: a sign-in page that trades an admin API key for a session cookie, the
 * console's page shell, its static assets, and sign-out. Everything else the console shows it reads from
 * `/api/v1/admin/…` with that cookie. Every answer carries a strict Content-Security-Policy.
 */
export function consoleRoutes(services: Services) {
  const { sessions } = services.admin;
  const assets = loadAssets();
  const signInTemplate = page('sign-in');
  const consoleTemplate = page('console');
  const policy = contentSecurityPolicy(services.config, services.storage.kind);

  const sendSignIn = (reply: FastifyReply, status: number, message: string | undefined) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(
        signInTemplate.replace(
          '{{message}}',
          message ? `<p class="alert" role="alert">${escapeHtml(message)}</p>` : '',
        ),
      );

  /** A sign-in form posted from another site is refused: nobody should be signed in by someone else's page. */
  const crossSite = (request: FastifyRequest) => {
    // Browsers say where a request comes from; older ones only send Origin, which must then be ours.
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined) return site !== 'same-origin' && site !== 'none';
    const origin = request.headers.origin;
    if (origin === undefined) return false;
    try {
      return new URL(origin).host !== request.headers.host;
    } catch {
      return true;
    }
  };

  return async (app: FastifyInstance) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('content-security-policy', policy);
      reply.header('x-content-type-options', 'nosniff');
      // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on our own form posts.
      reply.header('referrer-policy', 'same-origin');
      reply.header('x-frame-options', 'DENY');
      done();
    });
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 8192 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    app.get('/console', { schema: { hide: true } }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const sessionId = sessionIdFrom(request);
      const session = sessionId ? await sessions.resolve(sessionId) : undefined;
      // A forged, expired or revoked cookie is simply not signed in.
      if (!session) return sendSignIn(reply, 200, undefined);
      return reply
        .type('text/html; charset=utf-8')
        .send(
          consoleTemplate
            .replaceAll('{{csrf}}', session.csrfToken)
            .replace('{{operator}}', escapeHtml(`${session.keyPrefix}… (${session.userId})`)),
        );
    });

    app.get('/console/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console'));

    app.post('/console/sign-in', { schema: { hide: true } }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      if (crossSite(request)) return sendSignIn(reply, 403, 'Sign in from this page, not another site.');
      const key = (request.body as { key?: unknown } | undefined)?.key;
      const owner = typeof key === 'string' ? await services.apiKeys.authenticate(key.trim()) : undefined;
      if (!owner) return sendSignIn(reply, 401, 'That is not a valid API key.');
      if (!owner.admin) return sendSignIn(reply, 403, 'That key is not an admin key.');
      const sessionId = await sessions.create(owner.keyId);
      request.log.info({ keyPrefix: owner.prefix }, 'console sign-in');
      setSessionCookie(request, reply, sessionId, sessions.lifetimeSeconds);
      return reply.redirect('/console', 303);
    });

    app.post('/console/sign-out', { schema: { hide: true } }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const sessionId = sessionIdFrom(request);
      const session = sessionId ? await sessions.resolve(sessionId) : undefined;
      if (sessionId && session) {
        const given = (request.body as { csrf?: unknown } | undefined)?.csrf;
        if (!csrfTokenMatches(session, typeof given === 'string' ? given : undefined)) {
          return sendSignIn(
            reply.header('cache-control', 'no-store'),
            403,
            'Sign out from the console itself.',
          );
        }
        await sessions.remove(sessionId);
      }
      setSessionCookie(request, reply, undefined, 0);
      return reply.redirect('/console', 303);
    });

    app.get<{ Params: { name: string } }>(
      '/console/assets/:name',
      { schema: { hide: true } },
      async (request, reply) => {
        const asset = assets.get(request.params.name);
        if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
        // Assets change only with a new release; a short cache keeps an upgrade visible within minutes.
        return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(asset.body);
      },
    );

    // Any other path under /console is answered here rather than by the app's not-found handler, so its
    // 404 carries the console's headers (the policy above) like every other console response.
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/console/*',
      schema: { hide: true },
      handler: async (request) => {
        throw new ImagineError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`);
      },
    });
  };
}
