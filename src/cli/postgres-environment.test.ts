import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/load-config.ts';
import { describePostgres, postgresFromEnvironment } from './postgres-environment.ts';

describe('DATABASE_URL and DATABASE_POOL_SIZE for the CLI', () => {
  it('reads the URL and the pool size, 10 connections by default', () => {
    expect(postgresFromEnvironment({ DATABASE_URL: 'postgres://u@db:5432/imagine' })).toEqual({
      url: 'postgres://u@db:5432/imagine',
      poolSize: 10,
    });
    expect(
      postgresFromEnvironment({ DATABASE_URL: 'postgresql://u@db/imagine', DATABASE_POOL_SIZE: '4' })
        .poolSize,
    ).toBe(4);
  });

  it('says what to set when a value is missing or wrong', () => {
    expect(() => postgresFromEnvironment({})).toThrow(ConfigError);
    expect(() => postgresFromEnvironment({})).toThrow(/DATABASE_URL is not set/);
    expect(() => postgresFromEnvironment({ DATABASE_URL: 'mysql://db/imagine' })).toThrow(
      /postgres:\/\/ or postgresql:\/\//,
    );
    for (const size of ['0', '-1', '2.5', 'ten']) {
      expect(() =>
        postgresFromEnvironment({ DATABASE_URL: 'postgres://db/x', DATABASE_POOL_SIZE: size }),
      ).toThrow(/DATABASE_POOL_SIZE must be a whole number/);
    }
  });

  it('names the database without its password', () => {
    expect(describePostgres('postgres://imagine:s3cret@db.internal:6432/imagine')).toBe(
      'db.internal:6432/imagine',
    );
    expect(describePostgres('not a url')).toBe('DATABASE_URL');
  });
});
