import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createPostgresPool } from './open-postgres.ts';
import { PostgresHealthStore } from './postgres-health-store.ts';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PostgreSQL health probe', () => {
  it('answers false, without throwing, when the server cannot be reached', async () => {
    const sql = createPostgresPool({ url: `postgres://imagine@127.0.0.1:${await closedPort()}/imagine` });
    try {
      expect(await new PostgresHealthStore(sql).probe()).toBe(false);
    } finally {
      await sql.end();
    }
  });

  it('answers false when the server accepts the connection but never answers', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const sql = createPostgresPool({ url: `postgres://imagine@127.0.0.1:${port}/imagine` });
    try {
      expect(await new PostgresHealthStore(sql).probe()).toBe(false);
    } finally {
      await sql.end({ timeout: 0 });
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('answers false once its pool has been closed', async () => {
    const sql = createPostgresPool({ url: `postgres://imagine@127.0.0.1:${await closedPort()}/imagine` });
    await sql.end();
    expect(await new PostgresHealthStore(sql).probe()).toBe(false);
  });
});
