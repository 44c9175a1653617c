/**
 * PGlite behind a local socket that several connections (several processes' pools) may share. PGlite is one
 * backend, one session; pglite-socket's own multiplexer interleaves single messages of different
 * connections, which breaks the extended protocol (one connection's Bind meets another's unnamed Parse).
 * Here the unit is a connection's whole exchange up to its Sync (or simple Query), and while the backend is
 * inside a connection's transaction only that connection runs, so each connection sees what a PostgreSQL
 * session would: its statements atomic, its transaction alone. Locks never wait (there is no one to wait
 * for), which serialises what a server runs in parallel without changing what commits.
 */
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/** A running socket server and how to stop it. */
export interface PgliteMultiplexer {
  /** `host:port` to put in a `postgres://` URL. */
  address: string;
  stop(): Promise<void>;
}

const sslRequestCode = 80877103;
const gssEncryptionRequestCode = 80877104;
const cancelRequestCode = 80877102;
// The messages after which a client waits for the backend's answer.
const sync = 0x53; // 'S'
const query = 0x51; // 'Q'
const flush = 0x48; // 'H': answers so far, but the exchange (its unnamed statement and portal) goes on
const password = 0x70; // 'p'
const terminate = 0x58; // 'X'
const syncMessage = Uint8Array.from([sync, 0, 0, 0, 4]);
const cleanUp = [syncMessage, simpleQuery('ROLLBACK')];

interface Connection {
  socket: net.Socket;
  buffer: Buffer;
  started: boolean;
  pending: Uint8Array[];
  closed: boolean;
}

interface Exchange {
  connection: Connection;
  messages: Uint8Array[];
  /** What the client sees of the answer; a clean-up after a connection is gone shows it nothing. */
  answered: boolean;
}

/** Serves `database` on 127.0.0.1 at a free port. */
export async function startPgliteMultiplexer(database: PGlite): Promise<PgliteMultiplexer> {
  const line: Exchange[] = [];
  const connections = new Set<Connection>();
  // The connection whose exchange or transaction the backend is in the middle of.
  let owner: Connection | undefined;

  // The connection whose exchange is running now.
  let current: Connection | undefined;

  const execute = (messages: readonly Uint8Array[], connection: Connection, answered: boolean) =>
    database.runExclusive(async () => {
      for (const message of messages) {
        await database.execProtocolRawStream(message, {
          onRawData: (data) => {
            if (answered && !connection.closed) connection.socket.write(Buffer.from(data));
          },
        });
      }
    });

  const run = async () => {
    if (current) return;
    for (;;) {
      const index = owner ? line.findIndex((exchange) => exchange.connection === owner) : 0;
      const exchange = index < 0 ? undefined : line.splice(index, 1)[0];
      if (!exchange) break;
      const { connection } = exchange;
      current = connection;
      try {
        await execute(exchange.messages, connection, exchange.answered);
        const halfDone = exchange.messages.at(-1)?.[0] === flush || database.isInTransaction();
        // A connection gone mid-exchange or mid-transaction: ended as a server ends it, with a Sync (the
        // exchange) and a ROLLBACK (the transaction).
        if (halfDone && connection.closed) await execute(cleanUp, connection, false);
        owner = halfDone && !connection.closed ? connection : undefined;
      } finally {
        current = undefined;
      }
    }
  };

  const close = (connection: Connection) => {
    if (connection.closed) return;
    connection.closed = true;
    connections.delete(connection);
    for (let index = line.length - 1; index >= 0; index--) {
      if (line[index]?.connection === connection) line.splice(index, 1);
    }
    // Idle in the middle of its exchange or transaction: cleaned up next (the run loop does it when the
    // connection's own exchange is running now).
    if (owner === connection && current !== connection) {
      line.unshift({ connection, messages: cleanUp, answered: false });
    }
    connection.socket.destroy();
    void run();
  };

  const receive = (connection: Connection, chunk: Buffer) => {
    connection.buffer = Buffer.concat([connection.buffer, chunk]);
    for (;;) {
      const { buffer } = connection;
      if (!connection.started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        const message = new Uint8Array(buffer.subarray(0, length));
        connection.buffer = buffer.subarray(length);
        if (code === sslRequestCode || code === gssEncryptionRequestCode) {
          connection.socket.write('N'); // no encryption on a local test socket
        } else if (code === cancelRequestCode) {
          close(connection); // cancelling is not supported; the query runs to its end
          return;
        } else {
          connection.started = true;
          line.push({ connection, messages: [message], answered: true });
        }
        continue;
      }
      if (buffer.length < 5) break;
      const length = 1 + buffer.readInt32BE(1);
      if (buffer.length < length) break;
      const type = buffer[0];
      const message = new Uint8Array(buffer.subarray(0, length));
      connection.buffer = buffer.subarray(length);
      if (type === terminate) {
        close(connection);
        return;
      }
      connection.pending.push(message);
      if (type === sync || type === query || type === flush || type === password) {
        line.push({ connection, messages: connection.pending, answered: true });
        connection.pending = [];
      }
    }
    void run();
  };

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const connection: Connection = {
      socket,
      buffer: Buffer.alloc(0),
      started: false,
      pending: [],
      closed: false,
    };
    connections.add(connection);
    socket.on('data', (chunk) => receive(connection, chunk));
    socket.on('error', () => close(connection));
    socket.on('close', () => close(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      for (const connection of [...connections]) close(connection);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      while (current) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}

function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`);
  const message = Buffer.alloc(5 + body.length);
  message[0] = query;
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return new Uint8Array(message);
}
