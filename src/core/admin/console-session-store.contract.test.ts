/**
 * Console sessions' contract on every engine, through the engine-neutral `ConsoleSessions`: a session
 * resolves only while unexpired and its key an unrevoked admin key, ends on sign-out, and expired ones are
 * swept when someone signs in.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { countRows, seedApiKey, seedUser } from '../../test-support/seed-rows.ts';
import { onEveryStoreEngine, type StoresUnderTest } from '../../test-support/store-engines.ts';
import { ConsoleSessions, csrfTokenFor } from './console-sessions.ts';

const hour = 3_600_000;

onEveryStoreEngine((engine, open) => {
  let opened: StoresUnderTest;
  let now: Date;
  let sessions: ConsoleSessions;

  beforeEach(async () => {
    now = new Date('2026-03-15T10:00:00.000Z');
    opened = await open(() => now);
    sessions = new ConsoleSessions(opened.stores.consoleSessions, { lifetimeHours: 8, now: () => now });
    await seedUser(opened.raw, { id: 'ops' });
    await seedUser(opened.raw, { id: 'viewer' });
    await seedApiKey(opened.raw, { id: 'key-admin', prefix: 'imk_admin001', userId: 'ops', admin: true });
    await seedApiKey(opened.raw, { id: 'key-plain', prefix: 'imk_plain001', userId: 'viewer', admin: false });
    await seedApiKey(opened.raw, {
      id: 'key-revoked',
      prefix: 'imk_revok001',
      userId: 'ops',
      admin: true,
      revokedAt: new Date('2026-03-01T00:00:00.000Z'),
    });
  });

  afterEach(async () => {
    await opened.close();
  });

  it(`resolves a new session to its admin key and owner on ${engine}, until it expires`, async () => {
    const sessionId = await sessions.create('key-admin');
    expect(sessionId).toMatch(/^[A-Za-z0-9]{43}$/);
    expect(sessions.lifetimeSeconds).toBe(8 * 3600);
    expect(await sessions.resolve(sessionId)).toEqual({
      keyId: 'key-admin',
      keyPrefix: 'imk_admin001',
      userId: 'ops',
      expiresAt: new Date(now.getTime() + 8 * hour),
      csrfToken: csrfTokenFor(sessionId),
    });
    now = new Date(now.getTime() + 8 * hour - 1);
    expect(await sessions.resolve(sessionId)).toBeDefined();
    now = new Date(now.getTime() + 1);
    expect(await sessions.resolve(sessionId)).toBeUndefined();
  });

  it(`resolves no session of a key that is revoked or not an admin key on ${engine}`, async () => {
    expect(await sessions.resolve(await sessions.create('key-plain'))).toBeUndefined();
    expect(await sessions.resolve(await sessions.create('key-revoked'))).toBeUndefined();
  });

  it(`resolves nothing for a forged id, and nothing after sign-out, on ${engine}`, async () => {
    const sessionId = await sessions.create('key-admin');
    const other = await sessions.create('key-admin');
    expect(await sessions.resolve('A'.repeat(43))).toBeUndefined();
    expect(await sessions.resolve(sessionId.slice(1))).toBeUndefined();
    await sessions.remove(sessionId);
    expect(await sessions.resolve(sessionId)).toBeUndefined();
    // Signing out ends that session only.
    expect((await sessions.resolve(other))?.userId).toBe('ops');
  });

  it(`sweeps expired sessions when someone signs in on ${engine}`, async () => {
    await sessions.create('key-admin');
    await sessions.create('key-admin');
    now = new Date(now.getTime() + 4 * hour);
    const live = await sessions.create('key-admin');
    expect(await countRows(opened.raw, 'console_sessions')).toBe(3);
    now = new Date(now.getTime() + 5 * hour);
    const latest = await sessions.create('key-admin');
    expect(await countRows(opened.raw, 'console_sessions')).toBe(2);
    expect(await sessions.resolve(live)).toBeDefined();
    expect(await sessions.resolve(latest)).toBeDefined();
  });

  it(`gives 20 concurrent sign-ins 20 distinct live sessions on ${engine}`, async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => sessions.create('key-admin')));
    expect(new Set(ids).size).toBe(20);
    const resolved = await Promise.all(ids.map((sessionId) => sessions.resolve(sessionId)));
    expect(resolved.every((session) => session?.keyId === 'key-admin')).toBe(true);
  });
});
