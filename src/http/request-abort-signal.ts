import type { FastifyReply } from 'fastify';

/**
 * A signal that fires when the client goes away before its response is sent, so an abandoned request stops
 * provider work and its quota hold is released instead of charging for an image nobody receives.
 */
export function abortSignalFor(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished)
      controller.abort(new DOMException('the client closed the connection', 'AbortError'));
  });
  return controller.signal;
}
