import { afterAll, beforeAll } from 'vitest';
import { createTestApp, type TestApp } from './test-app.ts';

/** Parsed JSON, as `JSON.parse` types it: the assertions are what check its shape. */
export type Json = ReturnType<typeof JSON.parse>;

/**
 * The `/openapi.json` a test app serves, fetched once for the calling test file: call it at the top of the
 * file (it registers its own `beforeAll` and `afterAll`) and read the document inside the tests.
 */
export function servedOpenApiDocument(): () => Json {
  let testApp: TestApp | undefined;
  let document: Json;
  beforeAll(async () => {
    testApp = await createTestApp();
    document = (await testApp.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  afterAll(async () => {
    await testApp?.close();
  });
  return () => document;
}
