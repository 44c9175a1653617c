import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A pino logger whose lines are kept in memory, for tests that check what reaches the logs. */
export function capturingLogger(level: pino.Level = 'trace'): {
  logger: Logger;
  lines: string[];
  output(): string;
} {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level }, sink), lines, output: () => lines.join('') };
}
