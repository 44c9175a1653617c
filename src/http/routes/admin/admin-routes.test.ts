/**
 * The admin API through the real app, on SQLite and on PostgreSQL (DATABASE_URL: the server at
 * 127.0.0.1:5432 when one answers, else PGlite), since its reports are each engine's own SQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPostgresTestDatabase,
  type PostgresTestDatabase,
} from '../../../test-support/postgres-test-database.ts';
import { createTestApp, type TestApp } from '../../../test-support/test-app.ts';
import { onePng, scriptedModel } from '../../../test-support/test-services.ts';

// Starting PGlite (WebAssembly), when no PostgreSQL server answers, takes seconds on a small machine.
const startUpMs = 60_000;

let current: TestApp | undefined;
let database: PostgresTestDatabase | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  await database?.drop();
  database = undefined;
});

let engine: 'SQLite' | 'PostgreSQL' = 'SQLite';

async function start(...[environment = {}, overrides]: Parameters<typeof createTestApp>): Promise<TestApp> {
  if (engine === 'PostgreSQL') {
    database = await createPostgresTestDatabase();
    environment = {
      ...environment,
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: String(database.poolSize),
    };
  }
  current = await createTestApp(environment, overrides);
  // Only SQLite gives the services a SQLite handle: the engine asked for is the one serving.
  expect(current.services.database === undefined, engine).toBe(engine === 'PostgreSQL');
  return current;
}

const adminBearer = async (testApp: TestApp, userId = 'ops') =>
  `Bearer ${await testApp.services.apiKeys.create(userId, { admin: true, label: 'console' })}`;

async function generate(testApp: TestApp, authorization: string, prompt = 'a lighthouse at dusk') {
  return testApp.app.inject({
    method: 'POST',
    url: '/api/v1/generate/image',
    headers: { authorization },
    payload: { prompt },
  });
}

const thisMonth = () => new Date().toISOString().slice(0, 7);

describe.each(['SQLite', 'PostgreSQL'] as const)('on %s', { timeout: startUpMs }, (name) => {
  beforeEach(() => {
    engine = name;
  });

  describe('admin API access', () => {
    const routes: [string, string][] = [
      ['GET', '/api/v1/admin/overview'],
      ['GET', '/api/v1/admin/users'],
      ['PATCH', '/api/v1/admin/users/alice'],
      ['GET', '/api/v1/admin/usage'],
      ['GET', '/api/v1/admin/usage.csv'],
      ['GET', '/api/v1/admin/images'],
      ['DELETE', '/api/v1/admin/images/0190c0de-0000-7000-8000-000000000000'],
      ['GET', '/api/v1/admin/jobs'],
      ['GET', '/api/v1/admin/keys'],
      ['POST', '/api/v1/admin/keys'],
      ['DELETE', '/api/v1/admin/keys/imk_abcdefgh'],
      ['GET', '/api/v1/admin/audit'],
    ];

    it('answers 401 without a token and 403 forbidden to a valid key that is not an admin', async () => {
      const testApp = await start();
      const appUser = await testApp.bearerFor('alice');
      for (const [method, url] of routes) {
        const anonymous = await testApp.app.inject({ method: method as 'GET', url });
        expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
        expect(anonymous.json()).toEqual({ error: 'unauthorized', message: 'Invalid or expired token' });
        const wrongKey = await testApp.app.inject({
          method: method as 'GET',
          url,
          headers: { authorization: 'Bearer imk_notarealkeynotarealkeynotarealkey0000' },
        });
        expect(wrongKey.statusCode, `${method} ${url}`).toBe(401);
        const notAdmin = await testApp.app.inject({
          method: method as 'GET',
          url,
          headers: { authorization: appUser },
          payload: {},
        });
        expect(notAdmin.statusCode, `${method} ${url}`).toBe(403);
        expect(notAdmin.json()).toEqual({ error: 'forbidden', message: 'This needs an admin API key' });
      }
    });

    it("refuses a user's key made without --admin even after that user is given an admin key", async () => {
      const testApp = await start();
      // ops had a plain key before; the admin flag is on the key made with it, not on the user.
      const plainKey = await testApp.services.apiKeys.create('ops');
      const admin = await adminBearer(testApp, 'ops');
      for (const [method, url] of routes) {
        const refused = await testApp.app.inject({
          method: method as 'GET',
          url,
          headers: { authorization: `Bearer ${plainKey}` },
          payload: {},
        });
        expect(refused.statusCode, `${method} ${url}`).toBe(403);
        expect(refused.json()).toEqual({ error: 'forbidden', message: 'This needs an admin API key' });
      }
      const signIn = await testApp.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ key: plainKey }).toString(),
      });
      expect(signIn.statusCode).toBe(403);
      expect(signIn.headers['set-cookie']).toBeUndefined();
      const listed = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/admin/keys',
        headers: { authorization: admin },
      });
      expect(
        listed.json().keys.map((key: { prefix: string; admin: boolean }) => [key.prefix, key.admin]),
      ).toEqual(
        expect.arrayContaining([
          [plainKey.slice(0, 12), false],
          [admin.slice('Bearer '.length, 'Bearer '.length + 12), true],
        ]),
      );
    });

    it('lists every admin route in the OpenAPI document under the admin tag with an operationId', async () => {
      const testApp = await start();
      const document = (await testApp.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const operations = Object.entries(
        document.paths as Record<string, Record<string, { tags?: string[]; operationId?: string }>>,
      )
        .filter(([path]) => path.startsWith('/api/v1/admin/'))
        .flatMap(([, methods]) => Object.values(methods));
      expect(operations).toHaveLength(routes.length);
      for (const operation of operations) {
        expect(operation.tags).toEqual(['admin']);
        expect(operation.operationId).toMatch(/^admin[A-Z]/);
      }
    });
  });

  describe('admin reports', () => {
    it('gives the month overview: the ledger image count, cost, budget, per-day series and failure rates', async () => {
      const model = scriptedModel((_options, call) => {
        if (call === 2) throw new Error('the stand-in model fell over');
        return onePng();
      });
      const testApp = await start(
        { MONTHLY_BUDGET_USD: '25', IMAGE_MODEL: 'placeholder' },
        { models: [model] },
      );
      const alice = await testApp.bearerFor('alice');
      expect((await generate(testApp, alice)).statusCode).toBe(201);
      expect((await generate(testApp, alice)).statusCode).toBe(502);
      expect((await generate(testApp, await testApp.bearerFor('bob'))).statusCode).toBe(201);

      const response = await testApp.app.inject({
        method: 'GET',
        url: `/api/v1/admin/overview?month=${thisMonth()}`,
        headers: { authorization: await adminBearer(testApp) },
      });
      expect(response.statusCode).toBe(200);
      const overview = response.json();
      const ledger =
        (await testApp.services.ledger.usage('alice', 5)).used +
        (await testApp.services.ledger.usage('bob', 5)).used;
      expect(overview.images).toBe(2);
      expect(overview.images).toBe(ledger);
      expect(overview.budget_usd).toBe(25);
      expect(overview.cost_usd).toBe((await testApp.services.ledger.spending()).spentUsd);
      expect(overview.today.images).toBe(2);
      const [year, month] = thisMonth().split('-').map(Number) as [number, number];
      expect(overview.days).toHaveLength(new Date(Date.UTC(year, month, 0)).getUTCDate());
      expect(overview.days.reduce((total: number, day: { images: number }) => total + day.images, 0)).toBe(2);
      expect(overview.providers).toEqual([{ provider: 'test', images: 2, failures: 1, failure_rate: 1 / 3 }]);
      expect(overview.models).toEqual([
        { model: 'placeholder', provider: 'test', images: 2, failures: 1, failure_rate: 1 / 3 },
      ]);
      expect(overview.top_users).toEqual([
        { uid: 'alice', images: 1 },
        { uid: 'bob', images: 1 },
      ]);

      const lastYear = await testApp.app.inject({
        method: 'GET',
        url: `/api/v1/admin/overview?month=${year - 1}-01`,
        headers: { authorization: await adminBearer(testApp) },
      });
      expect(lastYear.json()).toMatchObject({ images: 0, today: null, providers: [] });
      const badMonth = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/admin/overview?month=2026-13',
        headers: { authorization: await adminBearer(testApp) },
      });
      expect(badMonth.statusCode).toBe(422);
    });

    it('gives usage per user as JSON and as CSV with a header row and the same rows', async () => {
      const testApp = await start();
      const alice = await testApp.bearerFor('alice', 'pro');
      await generate(testApp, alice);
      await generate(testApp, alice);
      await generate(testApp, await testApp.bearerFor('bob'));
      const admin = await adminBearer(testApp);
      const json = (
        await testApp.app.inject({
          method: 'GET',
          url: '/api/v1/admin/usage',
          headers: { authorization: admin },
        })
      ).json();
      expect(json.month).toBe(thisMonth());
      expect(json.users).toEqual([
        { uid: 'alice', plan: 'pro', images: 2, cost_usd: 0 },
        { uid: 'bob', plan: 'free', images: 1, cost_usd: 0 },
      ]);
      const csv = await testApp.app.inject({
        method: 'GET',
        url: `/api/v1/admin/usage.csv?month=${thisMonth()}`,
        headers: { authorization: admin },
      });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      const [header, ...rows] = csv.body.trimEnd().split('\r\n');
      expect(header).toBe('uid,plan,images,cost_usd');
      expect(rows).toEqual(
        json.users.map(
          (row: { uid: string; plan: string; images: number; cost_usd: number }) =>
            `${row.uid},${row.plan},${row.images},${row.cost_usd}`,
        ),
      );
    });

    it('lists queued and running jobs with their place in line, age and model', async () => {
      const testApp = await start();
      const { jobStore } = testApp.services;
      const now = new Date(Date.now() - 30_000);
      const job = (id: string, userId: string, status: 'queued' | 'running', model?: string) =>
        jobStore.insert({
          id,
          userId,
          kind: 'image',
          source: 'api',
          delivery: 'rest-async',
          request: { prompt: 'x', ...(model ? { model } : {}) },
          status,
          workerId: 'worker-1',
          now,
        });
      await job('0190c0de-0000-7000-8000-000000000001', 'alice', 'running', 'flux-dev');
      await job('0190c0de-0000-7000-8000-000000000002', 'alice', 'queued');
      await job('0190c0de-0000-7000-8000-000000000003', 'alice', 'queued');
      await job('0190c0de-0000-7000-8000-000000000004', 'bob', 'queued');
      const admin = await adminBearer(testApp);
      const all = (
        await testApp.app.inject({
          method: 'GET',
          url: '/api/v1/admin/jobs',
          headers: { authorization: admin },
        })
      ).json().jobs;
      expect(
        all.map((row: { uid: string; status: string; position: number; model: string }) => [
          row.uid,
          row.status,
          row.position,
          row.model,
        ]),
      ).toEqual([
        ['alice', 'running', 0, 'flux-dev'],
        ['alice', 'queued', 1, 'placeholder'],
        ['alice', 'queued', 2, 'placeholder'],
        ['bob', 'queued', 1, 'placeholder'],
      ]);
      expect(all[0].age_seconds).toBeGreaterThanOrEqual(29);
      const running = (
        await testApp.app.inject({
          method: 'GET',
          url: '/api/v1/admin/jobs?status=running',
          headers: { authorization: admin },
        })
      ).json().jobs;
      expect(running).toHaveLength(1);
    });
  });

  describe('admin users and plans', () => {
    it('pages through users, finds them by linked identity, and changes a plan with an audit row', async () => {
      const testApp = await start({ PLAN_LIMITS: 'team=500' });
      const { accounts } = testApp.services;
      for (const uid of ['carol', 'alice', 'bob']) await accounts.ensureUser(uid);
      await accounts.link('discord:4242', 'bob');
      const alice = await testApp.bearerFor('alice');
      await generate(testApp, alice);
      const admin = await adminBearer(testApp, 'ops');

      const first = (
        await testApp.app.inject({
          method: 'GET',
          url: '/api/v1/admin/users?limit=2',
          headers: { authorization: admin },
        })
      ).json();
      expect(first.users.map((user: { uid: string }) => user.uid)).toEqual(['alice', 'bob']);
      expect(first.plans).toEqual(['free', 'pro', 'enterprise', 'guest', 'team']);
      expect(first.users[0]).toMatchObject({
        uid: 'alice',
        plan: 'free',
        used_this_month: 1,
        linked_identities: [],
      });
      expect(first.users[1].linked_identities).toEqual(['discord:4242']);
      const second = (
        await testApp.app.inject({
          method: 'GET',
          url: `/api/v1/admin/users?limit=2&cursor=${first.next_cursor}`,
          headers: { authorization: admin },
        })
      ).json();
      expect(second.users.map((user: { uid: string }) => user.uid)).toEqual(['carol', 'ops']);
      expect(second.next_cursor).toBeNull();
      // A cursor we never handed out (a user id in base64url, or junk) is a 422 naming it, not a page.
      for (const madeUp of [Buffer.from('bob').toString('base64url'), 'nonsense', `${first.next_cursor}!`]) {
        const refused = await testApp.app.inject({
          method: 'GET',
          url: `/api/v1/admin/users?limit=2&cursor=${encodeURIComponent(madeUp)}`,
          headers: { authorization: admin },
        });
        expect(refused.statusCode).toBe(422);
        expect(refused.json().details).toEqual([
          expect.objectContaining({ field: 'cursor', message: 'not a cursor this API returned' }),
        ]);
      }
      const found = (
        await testApp.app.inject({
          method: 'GET',
          url: '/api/v1/admin/users?query=4242',
          headers: { authorization: admin },
        })
      ).json();
      expect(found.users.map((user: { uid: string }) => user.uid)).toEqual(['bob']);

      const changed = await testApp.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/users/alice',
        headers: { authorization: admin },
        payload: { plan: 'pro' },
      });
      expect(changed.statusCode).toBe(200);
      expect(changed.json()).toEqual({ uid: 'alice', plan: 'pro', previous_plan: 'free' });
      // The user's own key sees the new plan at once.
      const usage = (
        await testApp.app.inject({ method: 'GET', url: '/api/v1/usage', headers: { authorization: alice } })
      ).json();
      expect(usage).toMatchObject({ plan: 'pro', limit: 200, used: 1 });

      const unknownPlan = await testApp.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/users/alice',
        headers: { authorization: admin },
        payload: { plan: 'platinum' },
      });
      expect(unknownPlan.statusCode).toBe(422);
      expect(unknownPlan.json().error).toBe('validation_error');
      const unknownUser = await testApp.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/users/nobody',
        headers: { authorization: admin },
        payload: { plan: 'pro' },
      });
      expect(unknownUser.statusCode).toBe(404);

      const audit = (
        await testApp.app.inject({
          method: 'GET',
          url: '/api/v1/admin/audit',
          headers: { authorization: admin },
        })
      ).json();
      expect(audit.entries).toHaveLength(1);
      expect(audit.entries[0]).toMatchObject({
        action: 'user.plan',
        target: 'alice',
        before: { plan: 'free' },
        after: { plan: 'pro' },
      });
      expect(audit.entries[0].actor).toMatch(/^imk_[A-Za-z0-9]{8} \(ops\)$/);
      expect(audit.entries[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    });
  });

  describe('admin images', () => {
    it("lists every user's images newest first, filters and pages them, and deletes one with its file", async () => {
      const testApp = await start();
      const alice = await testApp.bearerFor('alice');
      const bob = await testApp.bearerFor('bob');
      const made = [];
      for (const [caller, prompt] of [
        [alice, 'first'],
        [bob, 'second'],
        [alice, 'third'],
      ] as const) {
        made.push((await generate(testApp, caller, prompt)).json());
      }
      const admin = await adminBearer(testApp);
      const list = (url: string) =>
        testApp.app
          .inject({ method: 'GET', url, headers: { authorization: admin } })
          .then((response) => response.json());

      const page1 = await list('/api/v1/admin/images?limit=2');
      expect(page1.images.map((image: { prompt: string }) => image.prompt)).toEqual(['third', 'second']);
      expect(page1.images[0]).toMatchObject({
        uid: 'alice',
        source: 'api',
        model: 'placeholder',
        image_url: made[2].image_url,
      });
      const page2 = await list(`/api/v1/admin/images?limit=2&cursor=${page1.next_cursor}`);
      expect(page2.images.map((image: { prompt: string }) => image.prompt)).toEqual(['first']);
      expect(page2.next_cursor).toBeNull();
      expect((await list('/api/v1/admin/images?user=bob')).images).toHaveLength(1);
      expect((await list('/api/v1/admin/images?source=discord')).images).toHaveLength(0);
      const badCursor = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/admin/images?cursor=nonsense',
        headers: { authorization: admin },
      });
      expect(badCursor.statusCode).toBe(422);

      const imagePath = new URL(made[2].image_url).pathname;
      expect((await testApp.app.inject({ method: 'GET', url: imagePath })).statusCode).toBe(200);
      const deleted = await testApp.app.inject({
        method: 'DELETE',
        url: `/api/v1/admin/images/${made[2].id}`,
        headers: { authorization: admin },
      });
      expect(deleted.statusCode).toBe(200);
      expect(deleted.json()).toMatchObject({ deleted: { id: made[2].id, uid: 'alice' }, refunded: false });
      expect((await testApp.app.inject({ method: 'GET', url: imagePath })).statusCode).toBe(404);
      expect((await list('/api/v1/admin/images')).images).toHaveLength(2);
      // Not refunded: alice was charged for two images and still is.
      expect((await testApp.services.ledger.usage('alice', 5)).used).toBe(2);

      const refunded = await testApp.app.inject({
        method: 'DELETE',
        url: `/api/v1/admin/images/${made[0].id}?refund=true`,
        headers: { authorization: admin },
      });
      expect(refunded.json().refunded).toBe(true);
      expect((await testApp.services.ledger.usage('alice', 5)).used).toBe(1);
      const again = await testApp.app.inject({
        method: 'DELETE',
        url: `/api/v1/admin/images/${made[0].id}`,
        headers: { authorization: admin },
      });
      expect(again.statusCode).toBe(404);

      const audit = await list('/api/v1/admin/audit');
      expect(
        audit.entries.map((entry: { action: string; target: string; after: unknown }) => [
          entry.action,
          entry.target,
          entry.after,
        ]),
      ).toEqual([
        ['image.delete', made[0].id, { refunded: true }],
        ['image.delete', made[2].id, { refunded: false }],
      ]);
      expect(audit.entries[1].before).toMatchObject({ prompt: 'third', userId: 'alice' });
    });
  });

  describe('admin keys', () => {
    it('creates a key shown once, lists keys without secrets, revokes one, and audits both', async () => {
      const testApp = await start();
      const admin = await adminBearer(testApp, 'ops');
      const created = await testApp.app.inject({
        method: 'POST',
        url: '/api/v1/admin/keys',
        headers: { authorization: admin },
        payload: { uid: 'dave', plan: 'pro', label: 'dave laptop' },
      });
      expect(created.statusCode).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      const { key, prefix } = created.json();
      expect(key).toMatch(/^imk_[A-Za-z0-9]{40}$/);
      expect(prefix).toBe(key.slice(0, 12));
      expect(created.json()).toMatchObject({
        uid: 'dave',
        label: 'dave laptop',
        admin: false,
        revoked_at: null,
      });
      const usage = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/usage',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(usage.json().plan).toBe('pro');

      const listed = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/admin/keys',
        headers: { authorization: admin },
      });
      expect(listed.body).not.toContain(key);
      expect(listed.body).not.toContain(admin.slice('Bearer '.length));
      // Listed in the order they were made, even two made in the same millisecond (as these can be).
      const listedKeys = listed
        .json()
        .keys.map((row: { uid: string; admin: boolean }) => [row.uid, row.admin]);
      expect(listedKeys).toEqual([
        ['ops', true],
        ['dave', false],
      ]);

      const revoked = await testApp.app.inject({
        method: 'DELETE',
        url: `/api/v1/admin/keys/${prefix}`,
        headers: { authorization: admin },
      });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().revoked_at).not.toBeNull();
      const afterRevoke = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/usage',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(afterRevoke.statusCode).toBe(401);
      const unknown = await testApp.app.inject({
        method: 'DELETE',
        url: '/api/v1/admin/keys/imk_zzzzzzzz',
        headers: { authorization: admin },
      });
      expect(unknown.statusCode).toBe(404);

      const audit = (
        await testApp.app.inject({
          method: 'GET',
          url: '/api/v1/admin/audit',
          headers: { authorization: admin },
        })
      ).json();
      expect(audit.entries.map((entry: { action: string }) => entry.action)).toEqual([
        'key.revoke',
        'key.create',
      ]);
      expect(JSON.stringify(audit)).not.toContain(key);
      expect(audit.entries[1].after).toMatchObject({ prefix, userId: 'dave', admin: false });
    });

    it('makes an admin key that the admin API accepts', async () => {
      const testApp = await start();
      const created = await testApp.app.inject({
        method: 'POST',
        url: '/api/v1/admin/keys',
        headers: { authorization: await adminBearer(testApp) },
        payload: { uid: 'erin', admin: true },
      });
      const overview = await testApp.app.inject({
        method: 'GET',
        url: '/api/v1/admin/overview',
        headers: { authorization: `Bearer ${created.json().key}` },
      });
      expect(overview.statusCode).toBe(200);
    });
  });
});
