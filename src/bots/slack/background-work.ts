/**
 * What the app is still doing after it acknowledged Slack (generating, uploading): tracked so that stopping
 * waits for it instead of closing the database under it, and cancelled when the wait runs out.
 */
export class BackgroundWork {
  readonly #running = new Set<Promise<unknown>>();
  readonly #controller = new AbortController();

  /** Aborted once stopping gives up waiting; passed to generations so providers stop too. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get size(): number {
    return this.#running.size;
  }

  /**
   * Runs `task` and remembers it until it settles. It starts on the next turn of the event loop, after the
   * acknowledgement has been written and after every request already read: under a burst, Slack's 3-second
   * acks come first and the image work after.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    const promise = new Promise<void>((resolve) => setImmediate(resolve)).then(task);
    this.#running.add(promise);
    const forget = () => this.#running.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Waits for everything running (and anything it starts) up to `timeoutMs`, then cancels the rest. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#running.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await settledWithin([...this.#running], remaining);
    }
    if (this.#running.size > 0) {
      this.#controller.abort(new Error('the Slack app is stopping'));
      // A provider that ignores the signal must not hold shutdown hostage: a last second, then go.
      await settledWithin([...this.#running], 1_000);
    }
  }
}

/** Waits for the promises or the time, whichever is first, and leaves no timer behind. */
async function settledWithin(promises: readonly Promise<unknown>[], milliseconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.allSettled(promises),
      new Promise((resolve) => {
        timer = setTimeout(resolve, milliseconds);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
