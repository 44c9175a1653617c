import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { describePostgres, importTarget } from './import-target.ts';

describe('the database db import-sqlite fills', () => {
  it("is the service's own: DATABASE_URL and DATABASE_POOL_SIZE, 10 connections by default", () => {
    expect(importTarget(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/imagine' }))).toEqual({
      url: 'postgres://u@db:5432/imagine',
      poolSize: 10,
    });
    expect(
      importTarget(loadConfig({ DATABASE_URL: 'postgresql://u@db/imagine', DATABASE_POOL_SIZE: '4' }))
        .poolSize,
    ).toBe(4);
  });

  it('says what to set when DATABASE_URL is missing or a setting is wrong', () => {
    expect(() => importTarget(loadConfig({}))).toThrow(ConfigError);
    expect(() => importTarget(loadConfig({}))).toThrow(/DATABASE_URL is not set/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/imagine' })).toThrow(
      /DATABASE_URL is "mysql:\/\/db\/imagine": must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
    for (const size of ['0', '-1', '2.5', 'ten', '1001']) {
      expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x', DATABASE_POOL_SIZE: size })).toThrow(
        `DATABASE_POOL_SIZE is "${size}": must be a whole number of connections, 1 to 1000`,
      );
    }
  });

  it('names the database without its password', () => {
    expect(describePostgres('postgres://imagine:s3cret@db.internal:6432/imagine')).toBe(
      'db.internal:6432/imagine',
    );
    expect(describePostgres('not a url')).toBe('DATABASE_URL');
  });
});
