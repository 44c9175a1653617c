import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { answerClientError } from './protocol-refusals.ts';

/** A socket that records what would go on the wire (a real timeout takes Node's 60 s headersTimeout). */
function recordingSocket(state: { destroyed?: boolean; responseStarted?: boolean } = {}) {
  const written: string[] = [];
  let destroyed = state.destroyed ?? false;
  const socket = {
    get destroyed() {
      return destroyed;
    },
    writable: true,
    _httpMessage: state.responseStarted ? { headersSent: true } : undefined,
    write: (data: string) => written.push(data),
    destroy: () => {
      destroyed = true;
    },
  };
  return { socket: socket as unknown as Socket, written, isDestroyed: () => destroyed };
}

const app = { log: pino({ level: 'silent' }) } as unknown as FastifyInstance;

function refuse(code: string, socket: Socket): void {
  answerClientError.call(app, Object.assign(new Error(code), { code }), socket);
}

describe('answerClientError', () => {
  it('writes each refusal in the contract shape with its status, then closes the connection', () => {
    for (const [code, status, error] of [
      ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
      ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
      ['HPE_INVALID_HEADER_TOKEN', 400, 'bad_request'],
    ] as const) {
      const { socket, written, isDestroyed } = recordingSocket();
      refuse(code, socket);
      const [response = ''] = written;
      const [head = '', body = ''] = response.split('\r\n\r\n');
      expect(head.split('\r\n')[0], code).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(head, code).toContain('Connection: close');
      expect(head, code).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
      expect(JSON.parse(body), code).toEqual({ error, message: expect.any(String) });
      expect(isDestroyed(), code).toBe(true);
    }
  });

  it('writes nothing into a response already under way, or to a peer that is gone', () => {
    const started = recordingSocket({ responseStarted: true });
    refuse('HPE_INVALID_CONSTANT', started.socket);
    expect(started.written).toEqual([]);
    expect(started.isDestroyed()).toBe(true);
    const reset = recordingSocket();
    refuse('ECONNRESET', reset.socket);
    expect(reset.written).toEqual([]);
  });
});
