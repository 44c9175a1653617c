/**
 * A Redis for tests, so every Redis-backed test runs on any machine: the one at 127.0.0.1:6379 when it answers
 * (this machine kind runs one), else a `redis-server` started on a free port when one is installed, else
 * ioredis-mock in process. IMAGINE_TEST_REDIS=machine|server|memory forces one (to try each tier).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { freePort } from './server-process.ts';

/** Which Redis a test got. */
export type TestRedisKind = 'machine' | 'server' | 'memory';

/** One test's view of Redis: its own key prefix, and a way to take Redis away and bring it back. */
export interface TestRedis {
  kind: TestRedisKind;
  /** REDIS_URL and a REDIS_KEY_PREFIX of this test's own, so parallel test files never share a key. */
  environment: { REDIS_URL: string; REDIS_KEY_PREFIX: string };
  /** Service overrides for one set of services: an in-process client when there is no Redis server. */
  overrides(): { redisClient?: Redis };
  /** A client for the test itself, to look at what the services wrote. */
  inspector(): Promise<Redis>;
  /** Redis goes away for every service using it: open connections drop, new ones are refused. */
  stop(): Promise<void>;
  /** Redis is back, with what it held before. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const machinePort = 6379;

/** Whether a Redis answers PING on this loopback port within half a second. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Starts the Redis this machine allows; the first one that works of machine, server, memory. */
export async function startTestRedis(): Promise<TestRedis> {
  const forced = process.env.IMAGINE_TEST_REDIS as TestRedisKind | undefined;
  const keyPrefix = `imagine-test:${randomUUID()}:`;
  if ((forced === undefined || forced === 'machine') && (await answersPing(machinePort)))
    return behindSwitch('machine', machinePort, keyPrefix, async () => undefined);
  if (forced === undefined || forced === 'server') {
    const server = await startRedisServer();
    if (server) return behindSwitch('server', server.port, keyPrefix, server.stop);
    if (forced === 'server') throw new Error('IMAGINE_TEST_REDIS=server, but redis-server could not start');
  }
  if (forced === 'machine')
    throw new Error(`IMAGINE_TEST_REDIS=machine, but nothing answers on ${machinePort}`);
  return inMemory(keyPrefix);
}

/** A redis-server of the test's own on a free port, nothing saved to disk; undefined when none is installed. */
async function startRedisServer(): Promise<{ port: number; stop(): Promise<void> } | undefined> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const started = await new Promise<boolean>((resolve) => {
    let output = '';
    child.once('error', () => resolve(false));
    child.once('exit', () => resolve(false));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve(true);
    });
  });
  if (!started) return undefined;
  return { port, stop: () => stopProcess(child) };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * A Redis server reached through a loopback relay of the test's own, so the test can take Redis away from
 * the services (the relay drops its connections and stops listening) without stopping a server others use.
 */
async function behindSwitch(
  kind: TestRedisKind,
  redisPort: number,
  keyPrefix: string,
  stopServer: () => Promise<void>,
): Promise<TestRedis> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relay = net.createServer((client) => {
    const upstream = net.connect(redisPort, '127.0.0.1');
    track(client);
    track(upstream);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      relay.once('error', reject);
      relay.listen(port, '127.0.0.1', () => {
        relay.off('error', reject);
        resolve();
      });
    });
  const stopRelay = () =>
    new Promise<void>((resolve) => {
      if (!relay.listening) return resolve();
      relay.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  await listen(0);
  const address = relay.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `redis://127.0.0.1:${port}`;
  const inspectors: Redis[] = [];
  return {
    kind,
    environment: { REDIS_URL: url, REDIS_KEY_PREFIX: keyPrefix },
    overrides: () => ({}),
    async inspector() {
      // Straight to the server, so it still answers while the relay is stopped.
      const client = new Redis(redisPort, '127.0.0.1', { lazyConnect: true });
      await client.connect();
      inspectors.push(client);
      return client;
    },
    stop: stopRelay,
    restart: () => listen(port),
    async close() {
      for (const client of inspectors) {
        const keys = await client.keys(`${keyPrefix}*`);
        if (keys.length > 0) await client.del(...keys);
        client.disconnect();
      }
      await stopRelay();
      await stopServer();
    },
  };
}

/** ioredis-mock: every client shares one in-process data set; a stop disconnects them (commands then fail). */
function inMemory(keyPrefix: string): TestRedis {
  const clients: Redis[] = [];
  const client = () => {
    // As the service builds its own: no offline queue, so a command while disconnected fails at once.
    const mock = new RedisMock({ lazyConnect: true, enableOfflineQueue: false });
    clients.push(mock);
    return mock;
  };
  return {
    kind: 'memory',
    // Never dialled: the override below stands in for it.
    environment: { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: keyPrefix },
    overrides: () => ({ redisClient: client() }),
    async inspector() {
      const mock = client();
      await mock.connect();
      return mock;
    },
    async stop() {
      for (const mock of clients) mock.disconnect();
    },
    async restart() {
      for (const mock of clients) await mock.connect();
    },
    async close() {
      for (const mock of clients) mock.disconnect();
    },
  };
}
