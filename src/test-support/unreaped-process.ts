/**
 * A process whose parent never reaps it, so that once killed it stays a zombie: what a supervisor that
 * restarts a crashed server at once leaves behind. `sh` starts it in the background, then becomes `sleep`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { expect, vi } from 'vitest';

/** A running child and the parent that will not reap it; `end` kills both. */
export interface UnreapedProcess {
  pid: number;
  end(): void;
}

export async function startUnreapedProcess(): Promise<UnreapedProcess> {
  const parent: ChildProcess = spawn('sh', ['-c', 'sleep 300 & echo $!; exec sleep 300'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const pid = await new Promise<number>((resolve) => {
    parent.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  // Until `sh` has become `sleep`, the shell could still reap its child itself.
  await vi.waitFor(() => expect(fs.readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim()).toBe('sleep'));
  return {
    pid,
    end() {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      parent.kill('SIGKILL');
    },
  };
}
