import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test-support/capturing-logger.ts';
import { throttledWarning } from './throttled-warning.ts';

function warnings(lines: string[]): { error: string; suppressed: number; msg: string }[] {
  return lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
}

describe('throttledWarning', () => {
  it('logs the first failure, holds back the rest of the interval, then says how many it held back', () => {
    const { logger, lines } = capturingLogger();
    let clock = 0;
    const warn = throttledWarning({ logger, message: 'redis down', intervalMs: 60_000, now: () => clock });
    warn(new Error('connect ECONNREFUSED'));
    for (let index = 0; index < 99; index++) {
      clock += 500;
      warn(new Error('connect ECONNREFUSED'));
    }
    expect(warnings(lines)).toEqual([
      expect.objectContaining({ msg: 'redis down', error: 'connect ECONNREFUSED', suppressed: 0 }),
    ]);
    clock = 60_000;
    warn('still down');
    expect(warnings(lines)).toHaveLength(2);
    expect(warnings(lines)[1]).toMatchObject({ error: 'still down', suppressed: 99 });
  });
});
