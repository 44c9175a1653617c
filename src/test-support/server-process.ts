/** The real server as a child process, for end-to-end tests over a socket (as `npm start` runs it). */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A started server: its process and everything it has printed so far. */
export interface ServerProcess {
  /** The process to signal: the server itself, or (unreaped) the parent that never reaps it. */
  process: ChildProcess;
  /** The server's own pid. */
  pid: number;
  output(): string;
}

/**
 * Starts `src/server.ts` (or the Node arguments given, such as a built `dist/server.js`) with only the
 * variables a fresh machine has plus `environment`, and resolves once it prints that it is listening (or
 * rejects with what it printed).
 */
export async function startServerProcess(
  environment: Record<string, string>,
  options: {
    /**
     * Start it under a parent that never reaps it (`sh` starts the server, then becomes `sleep`): killed, it
     * stays a zombie, as it does for a moment under a supervisor that restarts it at once.
     */
    unreaped?: boolean;
    /** What node runs: the TypeScript source through tsx by default, or a build (`dist/server.js`). */
    nodeArguments?: readonly string[];
  } = {},
): Promise<ServerProcess> {
  let output = '';
  const server = [process.execPath, ...(options.nodeArguments ?? ['--import', 'tsx', 'src/server.ts'])];
  const [command, ...parameters] = options.unreaped
    ? ['sh', '-c', '"$@" & echo "server pid $!"; exec sleep 3600', 'sh', ...server]
    : server;
  const child = spawn(command as string, parameters, {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      // A developer's own .env must not change what the tests start.
      ENV_FILE: 'none',
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 30_000;
  while (!output.includes('imagine is listening')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the server did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = options.unreaped ? Number(/^server pid (\d+)$/m.exec(output)?.[1]) : (child.pid ?? 0);
  return { process: child, pid, output: () => output };
}

/** How a server process that was expected not to start ended: its exit code and all it printed. */
export interface EndedProcess {
  code: number | null;
  output: string;
}

/**
 * Starts `src/server.ts` like `startServerProcess`, expecting it to refuse to start: resolves with its exit
 * code once it exits, or with `code: null` (after killing it) if it starts listening instead.
 */
export async function runServerUntilExit(environment: Record<string, string>): Promise<EndedProcess> {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      ENV_FILE: 'none',
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('imagine is listening')) child.kill('SIGKILL');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (exitCode) => resolve(exitCode)),
  );
  return { code: output.includes('imagine is listening') ? null : code, output };
}
