import fs from 'node:fs';
import os from 'node:os';

/**
 * When this process started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`), or undefined
 * where there is no `/proc`. With the pid it names one process for good: a pid is reused, a start time
 * with it is not.
 */
export function processStartTicks(pid: number): string | undefined {
  const stat = readStat(pid);
  return stat?.startTicks;
}

/** A worker id that names this process: host, pid, start time (where known) and a random tail. */
export function workerIdFor(pid: number, random: string): string {
  const started = processStartTicks(pid);
  return [os.hostname(), String(pid), random, ...(started ? [started] : [])].join(':');
}

/**
 * Whether the process a worker id names is certainly gone. Only a worker on this host can be judged this
 * way; elsewhere (and when unsure) the answer is false and its heartbeat decides.
 *
 * A killed process stays a zombie until its parent reaps it (a supervisor restarting it at once may not
 * have yet), and `kill(pid, 0)` succeeds on a zombie: so the process's state is read from `/proc`, where a
 * zombie is dead, and its start time tells a reused pid from the process that had it.
 */
export function isWorkerProcessGone(workerId: string, self: { pid: number; workerId: string }): boolean {
  if (workerId === self.workerId) return false;
  const [host, pidText, , startedText] = workerId.split(':');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  // An earlier process had our pid: it is gone.
  if (pid === self.pid) return true;
  const stat = readStat(pid);
  if (stat && !isDeadState(stat.state)) return startedText !== undefined && stat.startTicks !== startedText;
  return isProcessGone(pid);
}

/**
 * Whether no live process on this host has `pid`: none at all, or only a zombie (killed, not yet reaped).
 * When unsure (no `/proc`, and the pid answers a signal) the answer is false.
 */
export function isProcessGone(pid: number): boolean {
  const stat = readStat(pid);
  if (stat) return isDeadState(stat.state);
  if (fs.existsSync('/proc/self/stat')) return true; // /proc works and has no such process
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

function readStat(pid: number): { state: string; startTicks: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = fields[19];
  return state && startTicks ? { state, startTicks } : undefined;
}
