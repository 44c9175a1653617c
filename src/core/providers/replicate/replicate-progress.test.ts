import { describe, expect, it } from 'vitest';
import { progressFromLogs } from './replicate-progress.ts';

describe('progress from Replicate logs', () => {
  it('reads the last tqdm bar a model printed', () => {
    const logs =
      'Using seed: 42\n  0%|          | 0/4 [00:00<?, ?it/s]\n 25%|██▌       | 1/4 [00:00<00:01,  2.20it/s]\n 75%|███████▌  | 3/4 [00:01<00:00,  2.31it/s]';
    expect(progressFromLogs(logs)).toBe(0.75);
  });

  it('reads bare step counters, and reports nothing when the logs show no progress', () => {
    expect(progressFromLogs('loading weights\nstep 5/20')).toBe(0.25);
    expect(progressFromLogs('Using seed: 42\nLoaded LoRAs in 0.01s')).toBeUndefined();
    expect(progressFromLogs(null)).toBeUndefined();
    expect(progressFromLogs('')).toBeUndefined();
  });
});
