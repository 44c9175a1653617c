import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ImagineError } from '../core/errors/imagine-error.ts';
import { errorBody } from './error-handler.ts';

/** The parser's reasons a request never became one, as coded errors (everything else is a plain 400). */
function codedClientError(code: string | undefined): ImagineError {
  if (code === 'HPE_HEADER_OVERFLOW') return new ImagineError('headers_too_large');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new ImagineError('request_timeout');
  return new ImagineError(
    'bad_request',
    'The request is not valid HTTP: check the request line, the headers (no control characters) and the framing',
  );
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the bytes (headers too large, a control
 * character in a header, a broken request line) before Fastify saw a request. Node or Fastify would answer
 * in their own shape; this writes the contract's and closes the connection, whose framing is lost.
 */
export function answerClientError(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset means the socket is gone and there is no one to tell.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const coded = codedClientError(error.code);
  this.log.debug({ code: error.code, reason: error.message }, 'refused a malformed request');
  // As Node's own handler does: write only when no response on this socket has begun, or the bytes would
  // land inside it (`_httpMessage` is the response in progress; Node has no public name for it).
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inProgress?.headersSent) {
    const body = JSON.stringify(errorBody(coded));
    socket.write(
      `HTTP/1.1 ${coded.httpStatus} ${STATUS_CODES[coded.httpStatus]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}

/**
 * What Node would otherwise answer itself, with an empty body: an HTTP/1.1 request without `Host` (Node's
 * `requireHostHeader`, turned off in buildApp so this check answers instead) and an `Expect` other than
 * `100-continue` (a 417 Node writes unless someone listens). A server may ignore an expectation it does
 * not know (RFC 9110 §10.1.1), so such a request is served like any other.
 */
export function installProtocolChecks(app: FastifyInstance): void {
  app.server.on('checkExpectation', (request, response) => app.server.emit('request', request, response));
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1 && !request.headers.host) {
      done(new ImagineError('bad_request', 'An HTTP/1.1 request must carry a Host header'));
      return;
    }
    done();
  });
}
