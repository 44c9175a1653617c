/** The scheduler itself: start-up runs, timers, no overlapping runs, failures logged and retried. */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BackgroundWork } from './background-work.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('background work', () => {
  it('runs start-up duties before start resolves, then each duty on its own timer', async () => {
    const { logger } = capturedLogger();
    const work = new BackgroundWork(logger);
    const runs: string[] = [];
    work.add({ name: 'often', everyMs: 1_000, atStart: true, run: () => runs.push('often') });
    work.add({ name: 'rarely', everyMs: 5_000, atStart: false, run: () => runs.push('rarely') });
    await work.start();
    expect(runs).toEqual(['often']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs.filter((name) => name === 'often')).toHaveLength(6);
    expect(runs.filter((name) => name === 'rarely')).toHaveLength(1);
    await work.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toHaveLength(7);
  });

  it('never starts a duty again while its last run is still going', async () => {
    const { logger } = capturedLogger();
    const work = new BackgroundWork(logger);
    let started = 0;
    let finish: () => void = () => undefined;
    work.add({
      name: 'slow',
      everyMs: 1_000,
      atStart: false,
      run: () => {
        started++;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
    });
    await work.start();
    await vi.advanceTimersByTimeAsync(4_500);
    expect(started).toBe(1);
    finish();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(2);
    finish();
    await work.stop();
  });

  it('logs a failing run with the duty name and runs it again next time', async () => {
    const { logger, lines } = capturedLogger();
    const work = new BackgroundWork(logger);
    let attempts = 0;
    work.add({
      name: 'flaky',
      everyMs: 1_000,
      atStart: true,
      run: () => {
        attempts++;
        if (attempts === 1) throw new Error('database is locked');
      },
    });
    await work.start();
    expect(lines.find((line) => line.duty === 'flaky')).toMatchObject({ level: 50 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toBe(2);
    await work.stop();
  });

  it('stop waits for a run in progress', async () => {
    const { logger } = capturedLogger();
    const work = new BackgroundWork(logger);
    let done = false;
    work.add({
      name: 'finishing',
      everyMs: 1_000,
      atStart: false,
      run: async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        done = true;
      },
    });
    await work.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const stopped = work.stop();
    await vi.advanceTimersByTimeAsync(500);
    await stopped;
    expect(done).toBe(true);
  });
});
