/**
 * Loaded before every test file: the network is closed (loopback only), and a test fails when it
 * leaves a nock interceptor unused or makes a request nothing was set up to answer.
 */
import nock from 'nock';
import { afterEach, beforeAll, expect } from 'vitest';

const unexpectedRequests: string[] = [];

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);
  nock.emitter.on('no match', (request: { method?: string; href?: string; host?: string; path?: string }) => {
    const host = request.host ?? '';
    if (/^(127\.0\.0\.1|localhost|\[::1\])/.test(host)) return;
    unexpectedRequests.push(`${request.method ?? 'GET'} ${request.href ?? `${host}${request.path ?? ''}`}`);
  });
});

afterEach(() => {
  const pending = nock.pendingMocks();
  const unexpected = unexpectedRequests.splice(0);
  nock.cleanAll();
  expect(unexpected, 'requests made that no interceptor expected').toEqual([]);
  expect(pending, 'nock interceptors left unused').toEqual([]);
});
