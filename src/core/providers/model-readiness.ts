import type { Logger } from 'pino';
import type { ImageModelRegistry } from './image-model-registry.ts';
import { ProviderCallError } from './provider-error.ts';

/** One model's readiness, as `/health` and `npm run cli -- models` show it. */
export interface ModelReadiness {
  id: string;
  provider: string;
  configured: boolean;
  /** Configured, and its backend answered its provider's probe (models without a probe count as ready). */
  ready: boolean;
  /**
   * Why not, in words safe for an unauthenticated page: `not_configured`, or how the probe failed
   * (`network`, `timeout`, `unavailable`, `credentials`, …). The full error goes to the log only.
   */
  problem: string | undefined;
}

interface CachedProbe {
  checkedAt: number;
  outcome: Promise<string | undefined>;
}

/**
 * Asks each configured model's backend whether it is up, with a short timeout, and remembers the answer
 * for a few seconds: a load balancer polling `/health` every second must not become a load on a GPU box.
 */
export class ReadinessChecker {
  readonly #registry: ImageModelRegistry;
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #cache = new Map<string, CachedProbe>();

  constructor(
    registry: ImageModelRegistry,
    options: { logger: Logger; timeoutMs?: number; cacheMs?: number; now?: () => number },
  ) {
    this.#registry = registry;
    // 2 s: a healthy server on the LAN answers in milliseconds; a load balancer's own check waits ~5 s.
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#cacheMs = options.cacheMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
  }

  /** Every registered model's readiness, probes run concurrently, in catalog order. */
  async check(): Promise<ModelReadiness[]> {
    return Promise.all(
      this.#registry.registered().map(async ({ descriptor, configured, probe }) => {
        const base = { id: descriptor.id, provider: descriptor.provider, configured };
        if (!configured) return { ...base, ready: false, problem: 'not_configured' };
        const problem = probe ? await this.#probe(descriptor.id, probe) : undefined;
        return { ...base, ready: problem === undefined, problem };
      }),
    );
  }

  #probe(id: string, probe: (signal: AbortSignal) => Promise<void>): Promise<string | undefined> {
    const cached = this.#cache.get(id);
    if (cached && this.#now() - cached.checkedAt < this.#cacheMs) return cached.outcome;
    const outcome = runProbe(probe, this.#timeoutMs).then((error) => {
      if (error === undefined) return undefined;
      this.#logger.warn({ model: id, err: error }, 'model readiness probe failed');
      return error instanceof ProviderCallError ? error.kind : isTimeout(error) ? 'timeout' : 'failed';
    });
    this.#cache.set(id, { checkedAt: this.#now(), outcome });
    return outcome;
  }
}

/** The probe's error, or undefined when it passed within `timeoutMs`. */
async function runProbe(probe: (signal: AbortSignal) => Promise<void>, timeoutMs: number): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  let onAbort: (() => void) | undefined;
  // A probe that ignores its signal must still not hold /health past the timeout.
  const timedOut = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([probe(signal), timedOut]);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
