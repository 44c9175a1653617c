/**
 * The operator console in real headless Chromium (Debian's `chromium`, driven by playwright-core) against the
 * real server on a loopback port. Each page is screenshotted under test-results/console/ for review.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../services.ts';
import { type HeadlessChromium, startHeadlessChromium } from '../../test-support/headless-chromium.ts';
import { freePort } from '../../test-support/server-process.ts';
import { createTestServices } from '../../test-support/test-services.ts';
import { buildApp } from '../build-app.ts';

const screenshots = path.resolve(import.meta.dirname, '../../../test-results/console');

let services: Services;
let app: FastifyInstance;
let base: string;
let context: BrowserContext;
let page: Page;
let chromium: HeadlessChromium | undefined;
let clock = new Date();
let adminKey: string;
let aliceKey: string;

async function generate(key: string, prompt: string): Promise<{ id: string; image_url: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    headers: { authorization: `Bearer ${key}` },
    payload: { prompt },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

async function shoot(name: string): Promise<void> {
  // Transitions finished, so a hover caption is drawn as a person sees it, not halfway through its fade.
  await page.screenshot({
    path: path.join(screenshots, `${name}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}

/**
 * How far the page, or a table inside its scrolling box, is wider than the room it has, in CSS pixels: a
 * table scrolled sideways hides its actions as surely as a page wider than the screen.
 */
async function horizontalOverflow(): Promise<number> {
  return Number(
    await page.evaluate(`Math.max(
      document.documentElement.scrollWidth - document.documentElement.clientWidth,
      ...Array.from(document.querySelectorAll('.table-wrap'), (box) => box.scrollWidth - box.clientWidth),
    )`),
  );
}

/** Every URL the console's pages asked for, to hold them to imagine's own console, admin API and images. */
const requested: URL[] = [];

/** Opens a console page by its nav link and waits for it to be drawn. */
async function open(name: string, label: string): Promise<void> {
  await page.getByRole('link', { name: label, exact: true }).click();
  await page.locator(`main#page[data-page="${name}"]`).waitFor();
}

beforeAll(async () => {
  fs.mkdirSync(screenshots, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  services = await createTestServices(
    { PORT: String(port), PUBLIC_BASE_URL: base, MONTHLY_BUDGET_USD: '10' },
    { now: () => clock },
  );
  app = await buildApp(services);
  await app.listen({ host: '127.0.0.1', port });

  adminKey = await services.apiKeys.create('ops', { admin: true, label: 'console test' });
  aliceKey = await services.apiKeys.create('alice');
  const bobKey = await services.apiKeys.create('bob', { plan: 'pro' });
  await services.accounts.link('discord:112233', 'bob');
  await generate(aliceKey, 'a lighthouse at dusk');
  await generate(bobKey, 'a red fox in snow');
  await generate(bobKey, 'a bowl of ramen');
  await generate(aliceKey, 'a paper boat');

  chromium = await startHeadlessChromium({ viewport: { width: 1280, height: 900 } });
  context = chromium.context;
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on('request', (request) => requested.push(new URL(request.url())));
}, 60_000);

afterAll(async () => {
  await chromium?.stop();
  await app?.close();
  await services?.close();
});

// One operator's session, step by step: each step builds on the last (signed in, a plan changed, an image
// deleted, then signed out), as a person's visit does, so the steps keep their order under
// --sequence.shuffle (the files around them still shuffle).
describe('operator console in Chromium', { shuffle: false }, () => {
  it('refuses a non-admin key at sign-in', async () => {
    await page.goto(`${base}/console`);
    await page.getByLabel('Admin API key').waitFor();
    await shoot('sign-in');
    await page.getByLabel('Admin API key').fill(aliceKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That key is not an admin key.' }).waitFor();
    expect(await context.cookies()).toEqual([]);
  });

  it("signs in and shows the month's image count from the ledger", async () => {
    await page.getByLabel('Admin API key').fill(adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('main#page[data-page="overview"]').waitFor();
    const ledgerImages =
      (await services.ledger.usage('alice', 5)).used + (await services.ledger.usage('bob', 200)).used;
    expect(ledgerImages).toBe(4);
    expect(await page.getByTestId('images-total').textContent()).toBe(String(ledgerImages));
    expect(await page.locator('.chart svg rect.bar').count()).toBeGreaterThanOrEqual(28);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'imagine_console', httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).not.toContain(adminKey);
    // The key is nowhere the page's scripts can reach.
    const stored = String(
      await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie'),
    );
    expect(stored).not.toContain('imk_');
    expect(await page.content()).not.toContain(adminKey);
    await shoot('overview');
  });

  it("changes a user's plan, which that user's own key then sees", async () => {
    await open('users', 'Users');
    const row = page.locator('tr[data-uid="alice"]');
    await row.getByRole('combobox').selectOption('pro');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByRole('status').filter({ hasText: 'now pro' }).waitFor();
    const usage = await fetch(`${base}/api/v1/usage`, { headers: { authorization: `Bearer ${aliceKey}` } });
    expect(await usage.json()).toMatchObject({ plan: 'pro', limit: 200 });
    await page.getByLabel('Search users').fill('112233');
    await page.getByRole('button', { name: 'Search' }).click();
    // bob is on the unfiltered page too: the search has answered once alice is gone from it.
    await page.locator('tr[data-uid="alice"]').waitFor({ state: 'detached' });
    await page.locator('tr[data-uid="bob"]').waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('Search users').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('tr[data-uid="alice"]').waitFor();
    await shoot('users');
  });

  it('shows the gallery, deletes an image, whose URL then answers 404, and filters by user and source', async () => {
    await open('images', 'Images');
    const tiles = page.locator('figure.tile');
    await tiles.first().waitFor();
    expect(await tiles.count()).toBe(4);
    // Every thumbnail loaded (from imagine itself, under the CSP).
    await page.waitForFunction(() => {
      // Runs in the page (no DOM types here): every thumbnail has decoded pixels.
      const images = (
        globalThis as unknown as {
          document: {
            querySelectorAll(selector: string): ArrayLike<{ complete: boolean; naturalWidth: number }>;
          };
        }
      ).document.querySelectorAll('figure.tile img');
      return Array.from(images).every((image) => image.complete && image.naturalWidth > 0);
    });
    const newest = tiles.first();
    await newest.hover();
    await shoot('images');
    const id = (await newest.getAttribute('data-image-id')) ?? '';
    const imageUrl = (await newest.locator('img').getAttribute('src')) ?? '';
    expect((await fetch(imageUrl)).status).toBe(200);
    await newest.getByRole('button', { name: 'Delete' }).click();
    await newest.getByRole('button', { name: 'Confirm' }).click();
    await page.locator(`figure[data-image-id="${id}"]`).waitFor({ state: 'detached' });
    expect((await fetch(imageUrl)).status).toBe(404);
    expect(await tiles.count()).toBe(3);

    // Filtered by user: bob's two images, alice's gone; by a source nobody used: none.
    await page.getByLabel('Filter by user').fill('bob');
    await page.getByRole('button', { name: 'Filter' }).click();
    await tiles.filter({ hasText: 'alice ·' }).first().waitFor({ state: 'detached' });
    expect(await page.locator('figure.tile .who').first().textContent()).toMatch(/^bob · api · /);
    expect(await tiles.count()).toBe(2);
    await page.getByLabel('Filter by source').selectOption('discord');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No images match.').waitFor();
    await page.getByLabel('Filter by user').fill('');
    await page.getByLabel('Filter by source').selectOption('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await tiles.nth(2).waitFor();
  });

  it('shows the live queue', async () => {
    // Inserted now, with a fresh heartbeat: an older one would be taken for a dead worker's and recovered.
    await services.jobStore.insert({
      id: services.jobs.newJobId(),
      userId: 'bob',
      kind: 'image',
      source: 'discord',
      delivery: 'chat',
      request: { prompt: 'waiting its turn', model: 'placeholder' },
      status: 'queued',
      workerId: 'another-worker',
      now: clock,
    });
    await open('jobs', 'Jobs');
    const row = page.locator('tbody tr').filter({ hasText: 'bob' });
    await row.waitFor();
    expect(await row.textContent()).toContain('queued');
    const firstStamp = await page.getByTestId('jobs-updated').textContent();
    // It refreshes by itself: the stamp changes without a click.
    await page
      .getByTestId('jobs-updated')
      .filter({ hasNotText: firstStamp ?? '' })
      .waitFor();
    await shoot('jobs');
  });

  it('creates a key shown once and revokes it', async () => {
    await open('keys', 'Keys');
    await page.getByLabel('User').fill('carol');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByTestId('new-key');
    await secret.waitFor();
    const key = (await secret.textContent()) ?? '';
    expect(key).toMatch(/^imk_[A-Za-z0-9]{40}$/);
    expect(
      (await fetch(`${base}/api/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(200);
    await shoot('keys');
    const row = page.locator(`tr[data-prefix="${key.slice(0, 12)}"]`);
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Confirm revoke' }).click();
    await page
      .locator(`tr[data-prefix="${key.slice(0, 12)}"]`)
      .filter({ hasText: 'revoked' })
      .waitFor();
    // Once shown, never again: the redrawn page has no secret on it.
    expect(await page.content()).not.toContain(key);
    expect(
      (await fetch(`${base}/api/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(401);
  });

  it('shows the audit trail of those changes', async () => {
    await open('audit', 'Audit');
    await page.locator('tbody tr').first().waitFor();
    const actions = await page.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(actions).toEqual(['key.revoke', 'key.create', 'image.delete', 'user.plan']);
    await shoot('audit');
  });

  it('is usable on a phone-sized screen: no page is wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await open('overview', 'Overview');
      // The per-day chart's labels stay legible: drawn again at the screen's width, not shrunk from a
      // desktop's drawing (which would make them about 5 px tall here).
      await page.waitForFunction(() => {
        const label = (
          globalThis as unknown as {
            document: {
              querySelector(selector: string): { getBoundingClientRect(): { height: number } } | null;
            };
          }
        ).document.querySelector('.chart svg text');
        return label !== null && label.getBoundingClientRect().height >= 10;
      });
      expect(await horizontalOverflow(), 'overview').toBeLessThanOrEqual(0);
      await shoot('overview-phone');
      for (const [name, label] of [
        ['users', 'Users'],
        ['images', 'Images'],
        ['jobs', 'Jobs'],
        ['keys', 'Keys'],
        ['audit', 'Audit'],
      ] as const) {
        await open(name, label);
        expect(await horizontalOverflow(), name).toBeLessThanOrEqual(0);
        await shoot(`${name}-phone`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('reads only the admin API, its own assets and the stored images, all from imagine', () => {
    expect(requested.length).toBeGreaterThan(0);
    const elsewhere = requested.filter(
      (url) => url.origin !== base || !/^\/(console(\/|$)|api\/v1\/admin\/|images\/)/.test(url.pathname),
    );
    expect(elsewhere.map(String)).toEqual([]);
  });

  it('refuses a cross-site POST that carries the cookie but not the CSRF token', async () => {
    // Another origin on the same host (same site, so even a SameSite=Strict cookie goes along).
    const attacker = http.createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<!doctype html><form id="f" method="post" action="${base}/api/v1/admin/keys" enctype="text/plain">
        <input name='{"uid":"mallory","admin":true,"x":"' value='"}'><button>Win a prize</button></form>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const address = attacker.address();
    const attackerUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    try {
      const refused = page.waitForResponse((response) => response.url() === `${base}/api/v1/admin/keys`);
      await page.goto(attackerUrl);
      await page.getByRole('button', { name: 'Win a prize' }).click();
      const response = await refused;
      expect(response.status()).toBe(403);
      expect(await response.json()).toMatchObject({ error: 'forbidden' });
      expect((await services.apiKeys.list()).some((listed) => listed.userId === 'mallory')).toBe(false);
    } finally {
      // The browser keeps its connection alive; close() alone would wait for it.
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });

  it('signs out, after which the old cookie gets the sign-in page', async () => {
    await page.goto(`${base}/console`);
    await page.locator('main#page[data-page="overview"]').waitFor();
    const [cookie] = await context.cookies();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin API key').waitFor();
    expect(await context.cookies()).toEqual([]);
    const replayed = await fetch(`${base}/api/v1/admin/overview`, {
      headers: { cookie: `${cookie?.name}=${cookie?.value}` },
    });
    expect(replayed.status).toBe(401);
  });

  it('shows the sign-in page for a forged cookie and for an expired session', async () => {
    await context.addCookies([{ name: 'imagine_console', value: 'A'.repeat(43), url: base }]);
    await page.goto(`${base}/console`);
    await page.getByLabel('Admin API key').waitFor();

    await page.getByLabel('Admin API key').fill(adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('main#page[data-page="overview"]').waitFor();
    // The server's clock moves past CONSOLE_SESSION_HOURS (12 by default).
    clock = new Date(clock.getTime() + 12 * 3_600_000 + 1000);
    await page.reload();
    await page.getByLabel('Admin API key').waitFor();
  });
});
