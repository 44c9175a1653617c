import { ProviderCallError, type ProviderFailureKind, parseRetryAfter } from '../provider-error.ts';
import type { ComfyUIExecutionFailure, ComfyUINodeProblem } from './comfyui-api.ts';

const provider = 'comfyui';
const longestDetail = 300;

/**
 * Turns what a call to ComfyUI threw into a ProviderCallError. A GPU box that is off or restarting
 * (refused, reset: fetch's TypeError) is `network`, and a timeout is `timeout`, so routing falls back as it
 * does for a cloud vendor; a body that is not JSON is `malformed`.
 */
export function classifyComfyUIError(error: unknown): ProviderCallError {
  if (error instanceof ProviderCallError) return error;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return new ProviderCallError('timeout', `ComfyUI call timed out: ${error.message}`, {
        provider,
        cause: error,
      });
    }
    if (error instanceof TypeError) {
      return new ProviderCallError('network', `ComfyUI could not be reached: ${describe(error)}`, {
        provider,
        cause: error,
      });
    }
    if (error instanceof SyntaxError) {
      return new ProviderCallError('malformed', `ComfyUI sent a body that is not JSON: ${error.message}`, {
        provider,
        cause: error,
      });
    }
  }
  return new ProviderCallError('malformed', `Unexpected error calling ComfyUI: ${describe(error)}`, {
    provider,
    cause: error,
  });
}

/**
 * A non-2xx answer: 401/403 (a proxy in front of ComfyUI wants a key) → credentials, 408 → timeout,
 * 429 → rate_limited, 5xx → unavailable, any other 4xx → rejected.
 */
export function httpFailure(status: number, what: string, retryAfter: string | null): ProviderCallError {
  return new ProviderCallError(kindForStatus(status), `ComfyUI answered ${status} to ${what}`, {
    provider,
    status,
    retryAfterSeconds: status === 429 ? parseRetryAfter(retryAfter) : undefined,
  });
}

/**
 * ComfyUI refused the graph (`POST /prompt` 400): a checkpoint it lacks, a value out of range. The same
 * graph fails the same way, so it is `rejected` (the user sees generation_failed); the message names each
 * node by id and class so the operator knows what to fix in the workflow file.
 */
export function workflowRejected(
  file: string,
  summary: string | undefined,
  nodes: readonly ComfyUINodeProblem[],
): ProviderCallError {
  const named = nodes.map(
    (node) => `node ${node.nodeId} (${node.classType ?? 'unknown class'}): ${node.problems.join('; ')}`,
  );
  const detail = named.length > 0 ? named.join(' | ') : (summary ?? 'no reason given');
  return new ProviderCallError('rejected', shorten(`ComfyUI refused workflow ${file}: ${detail}`), {
    provider,
    status: 400,
  });
}

/**
 * The prompt ended without images. A node that raised (a missing model, out of memory) would raise again:
 * `rejected`. An interruption nobody here asked for (someone pressed cancel on the GPU box) is
 * `unavailable`: another try, or the next model, may serve.
 */
export function executionFailed(promptId: string, failure: ComfyUIExecutionFailure): ProviderCallError {
  const node = `node ${failure.node_id ?? '?'} (${failure.node_type ?? 'unknown class'})`;
  if (failure.event === 'execution_interrupted') {
    return new ProviderCallError('unavailable', `ComfyUI prompt ${promptId} was interrupted at ${node}`, {
      provider,
    });
  }
  const reason = [failure.exception_type, failure.exception_message].filter(Boolean).join(': ');
  return new ProviderCallError(
    'rejected',
    shorten(`ComfyUI prompt ${promptId} failed at ${node}: ${reason || 'no error given'}`),
    { provider },
  );
}

/** ComfyUI answered, but not with what its API promises. */
export function malformed(message: string): ProviderCallError {
  return new ProviderCallError('malformed', shorten(message), { provider });
}

function kindForStatus(status: number): ProviderFailureKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'credentials';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'rejected';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return shorten(String(error));
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return shorten(`${error.name}: ${error.message}${cause}`);
}

function shorten(text: string): string {
  return text.length > longestDetail * 2 ? `${text.slice(0, longestDetail * 2)}…` : text;
}
