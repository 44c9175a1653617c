import type { Logger } from 'pino';

/** One piece of recurring housekeeping: what it is called in logs, how often it runs, and the work. */
export interface BackgroundDuty {
  name: string;
  everyMs: number;
  /** Run once when the work starts (after a crash, this is what puts things right), then every `everyMs`. */
  atStart: boolean;
  run(): unknown;
}

/**
 * The one scheduler for everything the service does on its own: heartbeats, job recovery, abandoned
 * quota holds, pruning of remembered deliveries and idempotency keys. Each duty has its own timer; a run
 * that is still going when the next is due is not started twice, a failing run is logged and tried again
 * next time, and no timer keeps the process alive.
 */
export class BackgroundWork {
  readonly #logger: Logger;
  readonly #duties: BackgroundDuty[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Map<string, Promise<void>>();
  #state: 'idle' | 'started' | 'stopped' = 'idle';

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a duty; duties added after `start` begin at once. */
  add(duty: BackgroundDuty): void {
    this.#duties.push(duty);
    if (this.#state === 'started') this.#schedule(duty);
  }

  /** Names of the duties, in the order they were added. */
  names(): string[] {
    return this.#duties.map((duty) => duty.name);
  }

  /**
   * Runs the start-up duties in order and waits for them (recovery must be done before the first request
   * is served), then starts every timer. Calling it again does nothing.
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'started';
    for (const duty of this.#duties) if (duty.atStart) await this.#runOnce(duty);
    if (this.#state !== 'started') return;
    for (const duty of this.#duties) this.#schedule(duty);
  }

  /** Stops every timer and waits for runs in progress to end. */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    await Promise.allSettled([...this.#running.values()]);
  }

  #schedule(duty: BackgroundDuty): void {
    const timer = setInterval(() => void this.#runOnce(duty), duty.everyMs);
    timer.unref();
    this.#timers.push(timer);
  }

  #runOnce(duty: BackgroundDuty): Promise<void> {
    const already = this.#running.get(duty.name);
    if (already) return already;
    const run = (async () => {
      try {
        await duty.run();
      } catch (error) {
        this.#logger.error({ err: error, duty: duty.name }, 'background work failed; it runs again later');
      }
    })().finally(() => this.#running.delete(duty.name));
    this.#running.set(duty.name, run);
    return run;
  }
}
