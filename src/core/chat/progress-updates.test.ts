/** Progress edits: throttled to the platforms' pace, only on change, and never after the result. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttledProgress } from './progress-updates.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('throttled progress edits', () => {
  it('edits at most once every 1.5 s, with the latest percentage', async () => {
    const sent: number[] = [];
    const progress = throttledProgress(async (percent) => {
      sent.push(percent);
    });
    progress.update(0.1);
    await vi.advanceTimersByTimeAsync(500);
    progress.update(0.2);
    progress.update(0.35);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([35]);
    progress.update(0.4);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(sent).toEqual([35]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([35, 40]);
    await progress.stop();
  });

  it('does not edit when the shown percentage has not changed', async () => {
    const sent: number[] = [];
    const progress = throttledProgress(async (percent) => {
      sent.push(percent);
    });
    await vi.advanceTimersByTimeAsync(2_000);
    progress.update(0.5);
    await vi.advanceTimersByTimeAsync(2_000);
    progress.update(0.501);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sent).toEqual([50]);
    await progress.stop();
  });

  it('sends nothing after stop, and stop waits for an edit already on its way', async () => {
    const sent: number[] = [];
    let finishEdit: () => void = () => undefined;
    const progress = throttledProgress(
      (percent) =>
        new Promise<void>((resolve) => {
          sent.push(percent);
          finishEdit = resolve;
        }),
    );
    await vi.advanceTimersByTimeAsync(2_000);
    progress.update(0.3);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([30]);
    progress.update(0.9);
    let stopped = false;
    const stopping = progress.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finishEdit();
    await stopping;
    await vi.advanceTimersByTimeAsync(5_000);
    progress.update(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toEqual([30]);
  });

  it('reports a failing edit and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const progress = throttledProgress(
      async () => {
        calls++;
        if (calls === 1) throw new Error('rate limited');
      },
      { onError: (error) => errors.push(error) },
    );
    await vi.advanceTimersByTimeAsync(2_000);
    progress.update(0.2);
    await vi.advanceTimersByTimeAsync(2_000);
    progress.update(0.6);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await progress.stop();
  });
});
