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
  process: ChildProcess;
  output(): string;
}

/**
 * Starts `src/server.ts` (or the Node arguments given, such as a built `dist/server.js`) with only the
 * variables a fresh machine has plus `environment`, and resolves once it prints that it is listening (or
 * rejects with what it printed).
 */
export async function startServerProcess(
  environment: Record<string, string>,
  nodeArguments: readonly string[] = ['--import', 'tsx', 'src/server.ts'],
): Promise<ServerProcess> {
  let output = '';
  const child = spawn(process.execPath, nodeArguments, {
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
  return { process: child, output: () => output };
}
