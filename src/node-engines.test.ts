/**
 * `engines` in package.json is a promise about which Node versions imagine installs, runs and tests on. It
 * must not promise one that a locked dependency refuses, and the Node running the tests must be inside it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The part of npm's own `semver` package this test uses (it is in every npm tree; we add no types for it). */
interface Semver {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
}
const semver = createRequire(import.meta.url)('semver') as Semver;

const projectRoot = path.resolve(import.meta.dirname, '..');
const readJson = (name: string) => JSON.parse(fs.readFileSync(path.join(projectRoot, name), 'utf8'));

interface LockedPackage {
  version?: string;
  optional?: boolean;
  engines?: { node?: string } | string[];
}

const declared: string = readJson('package.json').engines.node;
const locked = Object.entries(readJson('package-lock.json').packages as Record<string, LockedPackage>);

describe('engines.node', () => {
  it('matches the lockfile', () => {
    expect(readJson('package-lock.json').packages[''].engines.node).toBe(declared);
  });

  it('includes the Node running the tests', () => {
    expect(semver.satisfies(process.versions.node, declared)).toBe(true);
  });

  it.each(declared.split('||').map((range) => range.trim()))(
    'admits only Node versions every locked package accepts, from the lowest of %s up',
    (range) => {
      const lowest = semver.minVersion(range)?.version ?? range;
      const refusing = locked
        .filter(([where, entry]) => where !== '' && !entry.optional)
        .flatMap(([where, entry]) => {
          const engine = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
          return engine && !semver.satisfies(lowest, engine) ? [`${where}@${entry.version}: ${engine}`] : [];
        });
      expect(refusing).toEqual([]);
    },
  );
});
