/** `/openapi.json` as client generators read it: named operations, named bodies, documented headers. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../core/errors/error-codes.ts';
import { type Json, servedOpenApiDocument } from '../test-support/served-openapi-document.ts';
import { createTestApp } from '../test-support/test-app.ts';

const openApi = servedOpenApiDocument();

/** Every operation in the document with where it lives. */
function operations(): { where: string; operation: Json }[] {
  return Object.entries(openApi().paths as Json).flatMap(([route, item]) =>
    Object.entries(item as Json).map(([method, operation]) => ({
      where: `${method.toUpperCase()} ${route}`,
      operation: operation as Json,
    })),
  );
}

function response(route: string, method: string, status: number): Json {
  return openApi().paths[route][method].responses[status];
}

describe('the OpenAPI document', () => {
  it('names every operation', () => {
    const ids = operations().map(({ where, operation }) => [where, operation.operationId]);
    expect(Object.fromEntries(ids)).toEqual({
      'GET /health': 'getHealth',
      'POST /api/v1/generate/image': 'generateImage',
      'POST /api/v1/generate/image/batch': 'generateImageBatch',
      'GET /api/v1/jobs/{id}': 'getJob',
      'GET /api/v1/usage': 'getUsage',
      'POST /api/v1/account/link-codes': 'createLinkCode',
      'GET /api/v1/styles': 'listStyles',
      'GET /api/v1/images': 'listImages',
      'GET /api/v1/models': 'listModels',
      'POST /api/v1/images/{id}/variations': 'createImageVariation',
      'POST /api/v1/images/{id}/upscale': 'upscaleImage',
      'GET /api/v1/admin/overview': 'adminOverview',
      'GET /api/v1/admin/usage': 'adminUsage',
      'GET /api/v1/admin/usage.csv': 'adminUsageCsv',
      'GET /api/v1/admin/jobs': 'adminJobs',
      'GET /api/v1/admin/audit': 'adminAudit',
      'GET /api/v1/admin/users': 'adminListUsers',
      'PATCH /api/v1/admin/users/{uid}': 'adminUpdateUser',
      'GET /api/v1/admin/images': 'adminListImages',
      'DELETE /api/v1/admin/images/{id}': 'adminDeleteImage',
      'GET /api/v1/admin/keys': 'adminListKeys',
      'POST /api/v1/admin/keys': 'adminCreateKey',
      'DELETE /api/v1/admin/keys/{prefix}': 'adminRevokeKey',
    });
  });

  it('gives every JSON body as a $ref to a named schema that exists, and any other body its content type', () => {
    const schemas = openApi().components.schemas as Json;
    /** The bodies that are not JSON, by where they are, with the one content type each declares. */
    const notJson: Record<string, string> = { 'GET /api/v1/admin/usage.csv 200': 'text/csv' };
    for (const { where, operation } of operations()) {
      const bodies: [string, Json | undefined][] = [
        ...(operation.requestBody ? [['request', operation.requestBody] as [string, Json]] : []),
        ...Object.entries(operation.responses as Json).map(
          ([status, body]) => [status, body] as [string, Json],
        ),
      ];
      for (const [which, body] of bodies) {
        const contentType = notJson[`${where} ${which}`];
        if (contentType !== undefined) {
          expect(Object.keys(body?.content ?? {}), `${where} ${which}`).toEqual([contentType]);
          expect(body.content[contentType].schema, `${where} ${which}`).toMatchObject({ type: 'string' });
          continue;
        }
        expect(Object.keys(body?.content ?? {}), `${where} ${which}`).toEqual(['application/json']);
        const schema = body?.content?.['application/json']?.schema;
        expect(schema, `${where} ${which}`).toEqual({
          $ref: expect.stringMatching(/^#\/components\/schemas\//),
        });
        const name = schema.$ref.split('/').pop();
        expect(schemas[name], `${where} ${which} → ${name}`).toBeDefined();
      }
    }
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'ImageGenerationRequest',
        'ImageGenerationResponse',
        'MultipleImageRequest',
        'MultipleImageResponse',
        'ErrorResponse',
        'Job',
        'JobAccepted',
        'Usage',
        'VariationRequest',
        'UpscaleRequest',
        'AdminOverview',
        'AdminUserList',
        'AdminUser',
        'AdminUpdateUserRequest',
        'AdminPlanChange',
        'AdminUsage',
        'AdminImageList',
        'AdminDeletedImage',
        'AdminJobList',
        'AdminKeyList',
        'AdminKey',
        'AdminCreateKeyRequest',
        'AdminCreatedKey',
        'AdminAuditList',
      ]),
    );
    // Only what the operations use, each under one name (no `…Input` twins).
    expect(Object.keys(schemas).filter((name) => name.endsWith('Input'))).toEqual([]);
  });

  it('answers the synchronous 201 and the async 202 with separate bodies', () => {
    const ref = (status: number, route: string) =>
      response(route, 'post', status).content['application/json'].schema.$ref;
    expect(ref(201, '/api/v1/generate/image')).toBe('#/components/schemas/ImageGenerationResponse');
    expect(ref(202, '/api/v1/generate/image')).toBe('#/components/schemas/JobAccepted');
    expect(ref(201, '/api/v1/generate/image/batch')).toBe('#/components/schemas/MultipleImageResponse');
    expect(ref(202, '/api/v1/generate/image/batch')).toBe('#/components/schemas/JobAccepted');
    const result = JSON.stringify(openApi().components.schemas.Job.properties.result);
    expect(result).toContain('#/components/schemas/ImageGenerationResponse');
    expect(result).toContain('#/components/schemas/MultipleImageResponse');
  });

  it('lists every error code and the context fields of an error body', () => {
    const error = openApi().components.schemas.ErrorResponse;
    const code = openApi().components.schemas[error.properties.error.$ref.split('/').pop()];
    expect([...code.enum].sort()).toEqual(Object.keys(errorCodes).sort());
    for (const field of ['used', 'limit', 'retry_after', 'details', 'model', 'plan', 'request_id']) {
      expect(error.properties[field]?.description, field).toEqual(expect.any(String));
    }
    expect(error.required).toEqual(['error', 'message']);
  });

  it('documents the response headers', () => {
    const headers = (route: string, method: string, status: number) =>
      Object.keys(response(route, method, status).headers ?? {});
    expect(headers('/api/v1/generate/image', 'post', 202)).toEqual(
      expect.arrayContaining(['Location', 'Idempotent-Replayed', 'x-request-id']),
    );
    expect(headers('/api/v1/generate/image', 'post', 201)).toContain('Idempotent-Replayed');
    expect(headers('/api/v1/usage', 'get', 429)).toEqual(
      expect.arrayContaining([
        'Retry-After',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
      ]),
    );
    expect(headers('/api/v1/generate/image', 'post', 503)).toContain('Retry-After');
    for (const { where, operation } of operations()) {
      for (const [status, answer] of Object.entries<Json>(operation.responses)) {
        expect(answer.headers?.['x-request-id'], `${where} ${status}`).toMatchObject({
          schema: { type: 'string' },
        });
        expect(answer.description, `${where} ${status}`).not.toBe('Default Response');
      }
    }
  });

  it('marks public routes public and the rest as needing a bearer token', () => {
    for (const { where, operation } of operations()) {
      expect(operation.security, where).toEqual(where === 'GET /health' ? [] : [{ bearer: [] }]);
    }
  });

  it("carries the package's version and a server relative to wherever the page is loaded from", () => {
    const packageJson = JSON.parse(
      fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'),
    );
    expect(openApi().info.version).toBe(packageJson.version);
    expect(openApi().servers).toEqual([{ url: '/' }]);
  });

  it('keeps the path of PUBLIC_BASE_URL, for a proxy that serves the API under a prefix', async () => {
    const proxied = await createTestApp({ PUBLIC_BASE_URL: 'https://example.com/imagine' });
    try {
      const served = (await proxied.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(served.servers).toEqual([{ url: '/imagine' }]);
    } finally {
      await proxied.close();
    }
  });
});
