/**
 * Telling a dead worker from a live one on this host: a killed process its parent has not reaped yet is a
 * zombie (and `kill(pid, 0)` still succeeds on it), and a pid reused by a new process is not the old one.
 */
import os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startUnreapedProcess, type UnreapedProcess } from '../../test-support/unreaped-process.ts';
import { isWorkerProcessGone, processStartTicks, workerIdFor } from './worker-liveness.ts';

const self = { pid: process.pid, workerId: workerIdFor(process.pid, 'self') };
const started: UnreapedProcess[] = [];
afterEach(() => {
  for (const unreaped of started.splice(0)) unreaped.end();
});

/** A process whose parent never reaps it (see `startUnreapedProcess`). */
async function unreapedChild(): Promise<number> {
  const unreaped = await startUnreapedProcess();
  started.push(unreaped);
  return unreaped.pid;
}

describe('worker liveness', () => {
  it('sees a live worker on this host as alive', async () => {
    const pid = await unreapedChild();
    expect(isWorkerProcessGone(workerIdFor(pid, 'live'), self)).toBe(false);
  });

  it('sees a killed worker as gone while it is still an unreaped zombie', async () => {
    const pid = await unreapedChild();
    const workerId = workerIdFor(pid, 'killed');
    process.kill(pid, 'SIGKILL');
    await vi.waitFor(() => expect(isWorkerProcessGone(workerId, self)).toBe(true));
    // The zombie is still there: signalling it succeeds, which is why a pid check alone waited.
    expect(() => process.kill(pid, 0)).not.toThrow();
  });

  it('sees a worker whose pid now belongs to another process as gone', async () => {
    const pid = await unreapedChild();
    const started = processStartTicks(pid);
    expect(started).toMatch(/^\d+$/);
    const earlierOwner = `${os.hostname()}:${pid}:old:${Number(started) - 1000}`;
    expect(isWorkerProcessGone(earlierOwner, self)).toBe(true);
  });

  it('sees a worker with no such process as gone, and never judges itself or another host', () => {
    expect(isWorkerProcessGone(`${os.hostname()}:2147483646:gone`, self)).toBe(true);
    expect(isWorkerProcessGone(self.workerId, self)).toBe(false);
    expect(isWorkerProcessGone(`${os.hostname()}:${process.pid}:earlier`, self)).toBe(true);
    expect(isWorkerProcessGone('another-host:1:x', self)).toBe(false);
  });
});
