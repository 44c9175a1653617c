/**
 * `/docs` as a person uses it: in real headless Chromium, from http://127.0.0.1:PORT while the service's
 * PUBLIC_BASE_URL says `localhost`, "Authorize" with an API key, then "Try it out" on generateImage. The
 * document's servers are relative, so the request goes to the address in the browser and answers 201.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../services.ts';
import { type HeadlessChromium, startHeadlessChromium } from '../test-support/headless-chromium.ts';
import { freePort } from '../test-support/server-process.ts';
import { createTestServices } from '../test-support/test-services.ts';
import { buildApp } from './build-app.ts';

const screenshots = path.resolve(import.meta.dirname, '../../test-results/docs');
let services: Services;
let app: FastifyInstance;
let browser: BrowserContext;
let chromium: HeadlessChromium | undefined;
let base: string;

beforeAll(async () => {
  fs.mkdirSync(screenshots, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  services = await createTestServices({ PORT: String(port), PUBLIC_BASE_URL: `http://localhost:${port}` });
  app = await buildApp(services);
  await app.listen({ host: '127.0.0.1', port });
  chromium = await startHeadlessChromium();
  browser = chromium.context;
}, 60_000);

afterAll(async () => {
  await chromium?.stop();
  await app?.close();
  await services?.close();
});

describe('/docs in a browser', () => {
  it('"Try it out" on generateImage answers 201 from 127.0.0.1', async () => {
    const key = await services.apiKeys.create('docs-reader');
    const page = await browser.newPage();
    await page.goto(`${base}/docs`);

    await page.locator('button.authorize').first().click();
    await page.locator('.modal-ux input[type="text"], .modal-ux input:not([type])').first().fill(key);
    await page.locator('.modal-ux button.authorize').first().click();
    await page.locator('.modal-ux button.btn-done').first().click();

    const operation = page.locator('[id$="-generateImage"]').first();
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn').click();
    const answered = page.waitForResponse(
      (response) =>
        response.url().startsWith(`${base}/api/v1/generate/image`) && response.request().method() === 'POST',
    );
    await operation.locator('button.execute').click();
    const response = await answered;
    expect(response.status()).toBe(201);
    await operation.locator('.live-responses-table tbody .response-col_status').first().waitFor();
    expect(
      (
        await operation.locator('.live-responses-table tbody .response-col_status').first().textContent()
      )?.trim(),
    ).toBe('201');
    await page.screenshot({ path: path.join(screenshots, 'try-it-out.png'), fullPage: false });
    expect((await services.ledger.usage('docs-reader', 100)).used).toBe(1);
    await page.close();
  });
});
