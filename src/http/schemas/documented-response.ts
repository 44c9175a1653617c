import type { z } from 'zod';

/** OpenAPI header objects by name, as `response-headers.ts` defines them. */
export type HeaderDocs = Record<string, object>;

/**
 * A response in Fastify's per-content-type form, which carries its own description and headers into the
 * OpenAPI document while the body stays a plain `$ref` to its named schema. Fastify validates and
 * serializes the body with `schema` exactly as it would a bare schema.
 */
export function documented<T extends z.ZodType>(schema: T, description: string, headers: HeaderDocs = {}) {
  return { description, headers, content: { 'application/json': { schema } } };
}
