/**
 * docs/api.md is the REST contract in prose. It is held to the service here, so a route, a request field, an
 * error code or an error's context field added to the code cannot go undocumented.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodes } from './core/errors/error-codes.ts';
import { type Json, servedOpenApiDocument } from './test-support/served-openapi-document.ts';

const contract = fs.readFileSync(path.resolve(import.meta.dirname, '../docs/api.md'), 'utf8');

const openApi = servedOpenApiDocument();

const properties = (schema: string): string[] => Object.keys(openApi().components.schemas[schema].properties);

describe('docs/api.md', () => {
  it('documents every route', () => {
    // `/api/v1/images/{id}/upscale` is written `/api/v1/images/:id/upscale`; admin routes under `/api/v1/admin/…`.
    const missing = Object.keys(openApi().paths as Json)
      .map((route) => route.replace(/\{(\w+)\}/g, ':$1'))
      .filter((route) => {
        if (!route.startsWith('/api/v1/admin/')) return !contract.includes(route);
        const rest = route.slice('/api/v1/admin/'.length);
        return !contract.includes('/api/v1/admin/…') || !contract.includes(rest);
      });
    expect(missing).toEqual([]);
  });

  it('has a row in the error table for every error code', () => {
    const rows = [...contract.matchAll(/^\| \d{3} \| `([a-z_]+)` \|/gm)].map((match) => match[1]);
    expect([...rows].sort()).toEqual(Object.keys(errorCodes).sort());
  });

  it('names every field of a generation request', () => {
    const named = (field: string) => contract.includes(`\`${field}\``);
    for (const schema of ['ImageGenerationRequest', 'MultipleImageRequest']) {
      expect(
        properties(schema).filter((field) => !named(field)),
        schema,
      ).toEqual([]);
    }
  });

  it("names every field of the replies, errors' context fields included", () => {
    // In a JSON example (`"image_url":`), a list (`{plan, used}`) or code (`parent_id`, `stage: "output"`).
    const named = (field: string) => new RegExp(`["\`{, ]${field}["\`},:]`).test(contract);
    for (const schema of [
      'ImageGenerationResponse',
      'MultipleImageResponse',
      'JobAccepted',
      'Job',
      'Usage',
      'ErrorResponse',
    ]) {
      expect(
        properties(schema).filter((field) => !named(field)),
        schema,
      ).toEqual([]);
    }
  });
});
