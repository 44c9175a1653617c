import type { ProviderContext } from './provider-descriptor.ts';
import type { EnvironmentVariables } from './self-hosted-http.ts';

/**
 * The variables a self-hosted model reads when it makes a call (`api_key_env`, A1111's `username_env`), as
 * the environment object its factory takes: each read goes through the context, so only names an entry
 * gave are ever looked up.
 */
export function variablesOf(context: ProviderContext): EnvironmentVariables {
  return new Proxy(
    {},
    { get: (_target, name) => (typeof name === 'string' ? context.variable(name) : undefined) },
  );
}

/** A probe answer as the descriptor seam wants it: resolved when ready, an error naming why when not. */
export async function throwUnlessReady(probe: Promise<{ ready: boolean; detail: string }>): Promise<void> {
  const answer = await probe;
  if (!answer.ready) throw new Error(answer.detail);
}
